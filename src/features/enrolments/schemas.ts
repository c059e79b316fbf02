import { z } from 'zod';
import { PageQuerySchema, pageSchema, UpdatedSinceSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';
import { UnitKindSchema } from '../units/schemas.js';

export const EnrolmentSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    unitKind: UnitKindSchema,
    startDate: z.string(),
    endDate: z.string().nullable().describe('Last day in the unit; null while enrolled.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Enrolment' });
export type Enrolment = z.infer<typeof EnrolmentSchema>;

export const UpdateEnrolmentSchema = z
  .object({
    startDate: IsoDateSchema.optional(),
    endDate: IsoDateSchema.nullable().optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({ id: 'UpdateEnrolment' });
export type UpdateEnrolment = z.infer<typeof UpdateEnrolmentSchema>;

export const EnrolmentParamsSchema = z.object({ childId: z.uuid(), enrolmentId: z.uuid() });

export const EnrolmentListQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional().describe('Only enrolments in this unit.'),
  childId: z.uuid().optional().describe('Only enrolments of this child.'),
  updatedSince: UpdatedSinceSchema.optional(),
});
export type EnrolmentListQuery = z.output<typeof EnrolmentListQuerySchema>;

export const EnrolmentPageSchema = pageSchema(EnrolmentSchema).meta({ id: 'EnrolmentPage' });
