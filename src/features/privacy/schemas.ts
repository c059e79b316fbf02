import { z } from 'zod';
import { auditActions, auditOutcomes, auditResources } from '../../audit/audit.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';

export const AuditEntrySchema = z
  .object({
    id: z.string().describe('Increasing with time.'),
    occurredAt: z.iso.datetime({ offset: true }),
    principal: z.object({
      kind: z.enum(['api_key', 'oidc', 'system']),
      id: z.string().describe('API key row id, identity-provider subject, or job name.'),
      role: z.string(),
    }),
    action: z.enum(auditActions),
    resourceType: z.enum(auditResources),
    resourceId: z.string().nullable(),
    childId: z.uuid().nullable(),
    childTombstone: z
      .string()
      .nullable()
      .describe('The pseudonym that replaced the child id when the child was erased.'),
    criteria: z.record(z.string(), z.unknown()).nullable(),
    outcome: z.enum(auditOutcomes),
    statusCode: z.number().int().nullable(),
    requestId: z.string(),
  })
  .meta({ id: 'AuditEntry' });

export const AuditQuerySchema = PageQuerySchema.extend({
  childId: z.uuid().optional(),
  childTombstone: z.string().max(100).optional(),
  principalId: z.string().min(1).max(500).optional(),
  action: z.enum(auditActions).optional(),
  resourceType: z.enum(auditResources).optional(),
  outcome: z.enum(auditOutcomes).optional(),
  from: z.iso.datetime({ offset: true }).optional().describe('Occurred at or after.'),
  to: z.iso.datetime({ offset: true }).optional().describe('Occurred before.'),
});

export const AuditPageSchema = pageSchema(AuditEntrySchema).meta({ id: 'AuditPage' });

const Rows = z.array(z.record(z.string(), z.unknown()));

export const DossierSchema = z
  .object({
    generatedAt: z.iso.datetime({ offset: true }),
    municipalityId: z.uuid(),
    child: z
      .record(z.string(), z.unknown())
      .describe(
        'Master data. The CPR number is stored only as a keyed hash: hasCpr says if one is.',
      ),
    enrolments: Rows,
    assessments: Rows.describe('Every version: current, corrected and withdrawn.'),
    recommendations: Rows,
    steps: Rows,
    flags: Rows,
    consents: Rows,
    concernReports: Rows,
    socialWorkerAssignments: Rows.describe('Social workers explicitly assigned to the child.'),
    events: Rows.describe('Change-feed events about the child (what integrations were sent).'),
    auditEntries: z.array(AuditEntrySchema).describe("Every recorded use of the child's data."),
  })
  .meta({ id: 'Dossier' });

export const EraseChildSchema = z.object({
  reason: z
    .string()
    .trim()
    .min(1)
    .max(2000)
    .describe('Why (e.g. the legal basis); must not name the child.'),
});

export const ErasureSchema = z
  .object({
    erasureId: z.uuid(),
    tombstone: z.string().describe('Replaces the child in the audit log.'),
    erasedAt: z.iso.datetime({ offset: true }),
    source: z.enum(['request', 'retention']),
    alreadyErased: z.boolean().describe('True when this child had been erased before.'),
    deleted: z
      .record(z.string(), z.number().int())
      .describe('Rows removed (or tombstoned) per table.'),
  })
  .meta({ id: 'Erasure' });
