import { z } from 'zod';
import { auditActions, auditOutcomes, auditResources } from '../../audit/audit.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';

export const AuditEntrySchema = z
  .object({
    id: z.string().describe('Increasing with time.'),
    occurredAt: z.iso.datetime({ offset: true }),
    principal: z.object({
      kind: z.enum(['api_key', 'oidc', 'parent', 'system']),
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
export type AuditEntryView = z.infer<typeof AuditEntrySchema>;

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
export type AuditQuery = z.output<typeof AuditQuerySchema>;

export const AuditPageSchema = pageSchema(AuditEntrySchema).meta({ id: 'AuditPage' });
