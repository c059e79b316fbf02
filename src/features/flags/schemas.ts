import { z } from 'zod';
import { flagKinds } from '../../domain/guides/definition.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';

export const FlagSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    kind: z.enum(flagKinds),
    reason: z.string(),
    assessmentId: z.uuid().nullable(),
    roundId: z.uuid().nullable(),
    raisedAt: z.iso.datetime(),
    status: z.enum(['raised', 'acknowledged']),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.uuid().nullable(),
    acknowledgementNote: z.string().nullable(),
  })
  .meta({ id: 'Flag' });
export type Flag = z.infer<typeof FlagSchema>;

export const FlagListQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional(),
  childId: z.uuid().optional(),
  kind: z.enum(flagKinds).optional(),
  status: z.enum(['raised', 'acknowledged', 'all']).default('raised'),
});
export const FlagPageSchema = pageSchema(FlagSchema).meta({ id: 'FlagPage' });
export const FlagParamsSchema = z.object({ flagId: z.uuid() });
export const AcknowledgeFlagSchema = z
  .object({ note: z.string().trim().min(1).max(2000) })
  .strict()
  .meta({ id: 'AcknowledgeFlag' });
export type FlagListQuery = z.output<typeof FlagListQuerySchema>;
