import { z } from 'zod';
import { parentAccessLogResources } from '../../domain/parent-view.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';

const ZoneSchema = z.enum(['green', 'yellow', 'red']);
const TextSchema = z.object({ da: z.string(), en: z.string() });

// ---- The unit's side: links handed to parents -------------------------------------------------

export const CreateParentLinkSchema = z
  .object({
    unitId: z.uuid().describe('The unit handing out the link: the child is enrolled there today.'),
    handedTo: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe('Whom the link was given to (e.g. "mother"), for the unit’s own record.'),
    validDays: z
      .number()
      .int()
      .min(1)
      .max(30)
      .default(14)
      .describe('Days the link can be opened (once) before it expires.'),
  })
  .strict();
export type CreateParentLink = z.infer<typeof CreateParentLinkSchema>;

export const parentLinkStatuses = ['active', 'used', 'expired', 'revoked'] as const;

export const ParentLinkSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    handedTo: z.string().nullable(),
    status: z.enum(parentLinkStatuses),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    usedAt: z.iso.datetime().nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ParentLink' });
export type ParentLink = z.infer<typeof ParentLinkSchema>;

export const CreatedParentLinkSchema = ParentLinkSchema.extend({
  code: z.string().describe('The one-time code (shown only now; only its hash is kept).'),
  path: z
    .string()
    .describe('The parent page with the code in its fragment: prefix the service’s address.'),
}).meta({ id: 'CreatedParentLink' });

export const ParentLinkListSchema = z.object({ items: z.array(ParentLinkSchema) });
export const ChildParamsSchema = z.object({ childId: z.uuid() });
export const ParentLinkParamsSchema = z.object({ linkId: z.uuid() });

// ---- Opening a link ----------------------------------------------------------------------------

export const OpenParentSessionSchema = z
  .object({ code: z.string().min(1).max(200).describe('The code of the link (`lnpl_…`).') })
  .strict();

export const ParentSessionSchema = z
  .object({
    token: z.string().describe('The bearer token of the parent session (`lnps_…`).'),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ParentSession' });

// ---- The parent's view ------------------------------------------------------------------------

export const ParentChildSchema = z
  .object({
    givenName: z.string().nullable(),
    birthDate: IsoDateSchema,
    units: z
      .array(z.object({ id: z.uuid(), name: z.string() }))
      .describe('The units the child attends today.'),
    sessionExpiresAt: z.iso.datetime(),
  })
  .meta({ id: 'ParentChild' });

export const ParentAssessmentSchema = z
  .object({
    id: z.uuid(),
    assessedOn: IsoDateSchema,
    unit: z.string().describe('The unit that assessed the child.'),
    ruler: z.string(),
    zone: ZoneSchema.nullable().describe('Null when too little was known to place the child.'),
    level: z.number().int().nullable(),
    levelLabel: TextSchema.nullable(),
    meaning: TextSchema.nullable().describe('What the zone means, as the parent letter says it.'),
  })
  .meta({ id: 'ParentAssessment' });
export const ParentAssessmentListSchema = z.object({ items: z.array(ParentAssessmentSchema) });

export const ParentStepSchema = z
  .object({
    id: z.uuid(),
    assessedOn: IsoDateSchema,
    title: TextSchema,
    description: TextSchema,
    responsible: z.string(),
    involve: z.array(z.string()),
    dueOn: IsoDateSchema,
    status: z.enum(['open', 'done', 'not_applicable']),
  })
  .meta({ id: 'ParentStep' });
export const ParentStepListSchema = z.object({ items: z.array(ParentStepSchema) });

export const ParentConsentSchema = z
  .object({
    id: z.uuid(),
    purpose: z.enum(['transition_handover', 'interdisciplinary_sharing']),
    recipient: z.object({ unit: z.string().nullable(), role: z.string().nullable() }),
    categories: z.array(z.string()),
    givenBy: z.object({ name: z.string(), relation: z.string() }),
    givenOn: IsoDateSchema,
    validUntil: IsoDateSchema.nullable(),
    revokedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ParentConsent' });
export const ParentConsentListSchema = z.object({ items: z.array(ParentConsentSchema) });
export const ParentConsentParamsSchema = z.object({ consentId: z.uuid() });
export const ParentRevokeConsentSchema = z
  .object({
    revokedBy: z.object({
      name: z.string().trim().min(1).max(200),
      relation: z.enum(['parent', 'guardian']),
    }),
    reason: z.string().trim().min(1).max(2000).default('Revoked by the parent in the parent view.'),
  })
  .strict();
export type ParentRevokeConsent = z.infer<typeof ParentRevokeConsentSchema>;

export const AccessLogEntrySchema = z
  .object({
    at: z.iso.datetime(),
    who: z.discriminatedUnion('kind', [
      z.object({
        kind: z.literal('staff'),
        role: z.string().describe('The role: unit_staff, unit_leader, social_worker, …'),
        units: z
          .array(z.string())
          .nullable()
          .describe('The units the person or system was limited to; null: the whole municipality.'),
      }),
      z.object({ kind: z.literal('parent') }),
      z.object({ kind: z.literal('service').describe('lineal itself (retention, reminders).') }),
    ]),
    action: z.string().describe('read, create, update, withdraw, export, …'),
    what: z.enum(parentAccessLogResources).describe('The kind of data used.'),
  })
  .meta({ id: 'AccessLogEntry' });
export const AccessLogQuerySchema = PageQuerySchema;
export const AccessLogPageSchema = pageSchema(AccessLogEntrySchema);

export const ParentSelfReportSchema = z
  .object({
    id: z.uuid(),
    reportedOn: IsoDateSchema,
    zone: ZoneSchema.nullable(),
  })
  .meta({ id: 'ParentSelfReport' });
export const ParentSelfReportListSchema = z.object({ items: z.array(ParentSelfReportSchema) });
