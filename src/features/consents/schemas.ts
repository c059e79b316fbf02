import { z } from 'zod';
import {
  type Basis,
  consentPurposes,
  consentRelations,
  consentStatuses,
  dataCategories,
  recipientRoles,
  withheldReasons,
} from '../../domain/sharing.js';
import { IsoDateSchema } from '../../http/schemas.js';
import { UnitKindSchema } from '../units/schemas.js';

export const DataCategorySchema = z
  .enum(dataCategories)
  .describe('assessments; recommendations (steps and flags); notes (free text).')
  .meta({ id: 'DataCategory' });
export const ConsentPurposeSchema = z.enum(consentPurposes).meta({ id: 'ConsentPurpose' });

const PersonSchema = z
  .object({
    name: z.string().trim().min(1).max(200),
    relation: z.enum(consentRelations).describe("The person's relation to the child."),
  })
  .strict();

const uniqueItems = <T>(items: T[]) => new Set(items).size === items.length;

export const CreateConsentSchema = z
  .object({
    purpose: ConsentPurposeSchema,
    recipient: z
      .object({
        unitId: z.uuid().optional().describe('The receiving unit.'),
        role: z
          .enum(recipientRoles)
          .optional()
          .describe('The receiving role (with unitId: that role in that unit only).'),
      })
      .strict()
      .refine((r) => r.unitId !== undefined || r.role !== undefined, 'name a unitId or a role'),
    categories: z
      .array(DataCategorySchema)
      .min(1)
      .max(dataCategories.length)
      .refine(uniqueItems, 'must not repeat a category'),
    givenBy: PersonSchema.describe(
      'Who gave the consent: a parent or guardian (holders of parental authority), or the child ' +
        'itself if 15 or older on givenOn. Any other relation is refused (422).',
    ),
    givenOn: IsoDateSchema.describe('The date the consent was given (not in the future).'),
    validUntil: IsoDateSchema.optional().describe(
      'The last day the consent holds (inclusive); omit for no expiry.',
    ),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.validUntil !== undefined && v.validUntil < v.givenOn) {
      ctx.addIssue({ code: 'custom', path: ['validUntil'], message: 'is before givenOn' });
    }
  })
  .meta({ id: 'CreateConsent' });
export type CreateConsent = z.infer<typeof CreateConsentSchema>;

export const RevokeConsentSchema = z
  .object({
    revokedBy: PersonSchema.describe('Who revoked the consent.'),
    reason: z.string().trim().min(1).max(2000),
  })
  .strict()
  .meta({ id: 'RevokeConsent' });
export type RevokeConsent = z.infer<typeof RevokeConsentSchema>;

export const ConsentSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    purpose: ConsentPurposeSchema,
    recipient: z.object({
      unitId: z.uuid().nullable(),
      role: z.enum(recipientRoles).nullable(),
    }),
    categories: z.array(DataCategorySchema),
    givenBy: PersonSchema,
    givenOn: z.string(),
    validUntil: z.string().nullable(),
    status: z
      .enum(consentStatuses)
      .describe(
        'Today: only an active consent is a basis for sharing. pending_confirmation: recorded ' +
          'by a unit-limited key for its own unit (or for a role); it waits for a leader of the ' +
          'recipient unit or an administrator to confirm it.',
      ),
    confirmation: z
      .object({
        required: z
          .boolean()
          .describe('Whether the consent takes effect only once confirmed (set when recorded).'),
        confirmedAt: z.iso.datetime().nullable(),
        confirmedBy: z.string().nullable().describe('The principal that confirmed it.'),
      })
      .describe('A receiving unit cannot grant itself access: see status pending_confirmation.'),
    revocation: z
      .object({
        revokedAt: z.iso.datetime(),
        revokedBy: PersonSchema,
        reason: z.string(),
        recordedBy: z.string().describe('The principal that recorded the revocation.'),
      })
      .nullable(),
    createdAt: z.iso.datetime(),
    createdBy: z.string().describe('The principal that recorded the consent.'),
  })
  .meta({ id: 'Consent' });
export type Consent = z.infer<typeof ConsentSchema>;

export const ConsentParamsSchema = z.object({ childId: z.uuid(), consentId: z.uuid() });

// Bases and withheld data

export const BasisSchema = z
  .discriminatedUnion('kind', [
    z
      .object({ kind: z.literal('role') })
      .describe("The key's role sees every unit's data (it is not limited to units)."),
    z.object({ kind: z.literal('own_unit') }).describe("Recorded in one of the key's own units."),
    z
      .object({
        kind: z.literal('consent'),
        consentId: z.uuid(),
        purpose: ConsentPurposeSchema,
        validUntil: z.string().nullable(),
      })
      .describe('Shared under this consent.'),
    z
      .object({
        kind: z.literal('guideline'),
        guidelineId: z.uuid(),
        fromUnitKind: UnitKindSchema,
        toUnitKind: UnitKindSchema,
      })
      .describe("Shared under the municipality's transition guideline."),
  ])
  .meta({ id: 'SharingBasis' });
export type BasisView = z.infer<typeof BasisSchema>;
/** The domain's bases carry unit kinds as strings; they come from validated unit rows. */
export const basisViews = (bases: readonly Basis[]) => bases as BasisView[];

export const WithheldUnitSchema = z.object({
  unitId: z.uuid(),
  unitKind: UnitKindSchema,
  count: z.number().int(),
});

export const WithheldSchema = z
  .object({
    count: z.number().int().min(1),
    reason: z.enum(withheldReasons),
    fromUnits: z.array(WithheldUnitSchema).describe('The units that recorded what is withheld.'),
  })
  .describe(
    'What other units recorded that this key may not see: no consent in force addressed to ' +
      'it and no transition guideline switched on covers it. Only counts, never content.',
  )
  .meta({ id: 'Withheld' });
