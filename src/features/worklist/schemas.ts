import { z } from 'zod';
import { InvolvedRoleSchema } from '../../domain/guides/definition.js';
import { ZoneSchema } from '../../domain/rulers/definition.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';
import { StepTaskSchema } from '../recommendations/schemas.js';

export const WorklistQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional(),
  responsible: InvolvedRoleSchema.optional(),
  zone: ZoneSchema.optional(),
  dueBefore: IsoDateSchema.optional().describe('Only steps due on or before this date.'),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('true: only overdue steps; false: only steps not yet due.'),
});

export const WorklistItemSchema = StepTaskSchema.extend({
  child: z.object({
    id: z.uuid(),
    externalRef: z.string(),
    givenName: z.string().nullable(),
    familyName: z.string().nullable(),
  }),
}).meta({ id: 'WorklistItem' });
export const WorklistPageSchema = pageSchema(WorklistItemSchema).meta({ id: 'WorklistPage' });
export type WorklistQuery = z.output<typeof WorklistQuerySchema>;
