import { z } from 'zod';
import { PageQuerySchema, pageSchema, UpdatedSinceSchema } from '../../http/pagination.js';

export const unitKinds = [
  'family_daycare',
  'nursery',
  'kindergarten',
  'integrated_daycare',
  'school',
  'after_school',
  'club',
  'health_visiting',
] as const;
export const UnitKindSchema = z.enum(unitKinds).meta({ id: 'UnitKind' });
export type UnitKind = z.infer<typeof UnitKindSchema>;

const ExternalRef = z
  .string()
  .trim()
  .min(1)
  .max(200)
  .describe("The integrating system's id, unique in the municipality.");

export const UnitSchema = z
  .object({
    id: z.uuid(),
    name: z.string(),
    kind: UnitKindSchema,
    district: z.string().nullable(),
    externalRef: z.string().nullable(),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Unit' });
export type Unit = z.infer<typeof UnitSchema>;

export const CreateUnitSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    kind: UnitKindSchema,
    district: z.string().trim().min(1).max(200).optional(),
    externalRef: ExternalRef.optional(),
  })
  .strict()
  .meta({ id: 'CreateUnit' });
export type CreateUnit = z.infer<typeof CreateUnitSchema>;

export const UpdateUnitSchema = z
  .object({
    name: z.string().trim().min(1).max(200).optional(),
    kind: UnitKindSchema.optional(),
    district: z.string().trim().min(1).max(200).nullable().optional(),
    externalRef: ExternalRef.nullable().optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({ id: 'UpdateUnit' });
export type UpdateUnit = z.infer<typeof UpdateUnitSchema>;

export const UnitParamsSchema = z.object({ unitId: z.uuid() });

export const UnitListQuerySchema = PageQuerySchema.extend({
  kind: UnitKindSchema.optional(),
  district: z.string().min(1).max(200).optional(),
  externalRef: z.string().min(1).max(200).optional().describe('Exactly this external ref.'),
  updatedSince: UpdatedSinceSchema.optional(),
});

export const UnitPageSchema = pageSchema(UnitSchema).meta({ id: 'UnitPage' });
