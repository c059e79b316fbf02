import { z } from 'zod';
import { PageQuerySchema, pageSchema, UpdatedSinceSchema } from '../../http/pagination.js';
import { ExternalRefSchema, IsoDateSchema } from '../../http/schemas.js';

export const SexSchema = z.enum(['female', 'male', 'other']).meta({ id: 'Sex' });
export type Sex = z.infer<typeof SexSchema>;

export const ChildNameSchema = z.string().trim().min(1).max(200);
const Name = ChildNameSchema;
export const CprSchema = z
  .string()
  .max(20)
  .describe(
    'Danish CPR number (DDMMYY-SSSS) for matching only: stored as a keyed hash, never returned.',
  );
const Cpr = CprSchema;

export const ChildSchema = z
  .object({
    id: z.uuid(),
    externalRef: z.string(),
    givenName: z.string().nullable(),
    familyName: z.string().nullable(),
    birthDate: z.string().describe('YYYY-MM-DD'),
    sex: SexSchema.nullable(),
    hasCpr: z.boolean().describe('Whether a CPR number is on file (the number is never returned).'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Child' });
export type Child = z.infer<typeof ChildSchema>;

/** An enrolment to make: also part of a new child (see CreateChildSchema). */
export const CreateEnrolmentSchema = z
  .object({
    unitId: z.uuid(),
    startDate: IsoDateSchema,
    endDate: IsoDateSchema.optional(),
  })
  .strict()
  .meta({ id: 'CreateEnrolment' });
export type CreateEnrolment = z.infer<typeof CreateEnrolmentSchema>;

export const CreateChildSchema = z
  .object({
    externalRef: ExternalRefSchema,
    givenName: Name.optional(),
    familyName: Name.optional(),
    birthDate: IsoDateSchema,
    sex: SexSchema.optional(),
    cpr: Cpr.optional(),
    enrolment: CreateEnrolmentSchema.optional().describe(
      'Enrol the child at once (required for unit-limited keys, into one of their units).',
    ),
  })
  .strict()
  .meta({ id: 'CreateChild' });
export type CreateChild = z.infer<typeof CreateChildSchema>;

export const UpdateChildSchema = z
  .object({
    externalRef: ExternalRefSchema.optional(),
    givenName: Name.nullable().optional(),
    familyName: Name.nullable().optional(),
    birthDate: IsoDateSchema.optional(),
    sex: SexSchema.nullable().optional(),
    cpr: Cpr.nullable().optional().describe('A new CPR number, or null to remove it.'),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({ id: 'UpdateChild' });
export type UpdateChild = z.infer<typeof UpdateChildSchema>;

export const ChildParamsSchema = z.object({ childId: z.uuid() });

export const ChildListQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional().describe('Only children enrolled in this unit on `asOf`.'),
  minAge: z.coerce.number().int().min(0).max(30).optional().describe('Age in years on `asOf`.'),
  maxAge: z.coerce.number().int().min(0).max(30).optional().describe('Age in years on `asOf`.'),
  q: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe('Search: part of the given or family name, or the start of the external ref.'),
  externalRef: z
    .string()
    .trim()
    .min(1)
    .max(200)
    .optional()
    .describe("Exactly this external ref (the source system's key); `q` matches its start."),
  updatedSince: UpdatedSinceSchema.optional(),
  asOf: IsoDateSchema.optional().describe('The date for unit and age filters (default: today).'),
});

export const ChildPageSchema = pageSchema(ChildSchema).meta({ id: 'ChildPage' });

export const CprLookupSchema = z.object({ cpr: Cpr }).strict().meta({ id: 'CprLookup' });
