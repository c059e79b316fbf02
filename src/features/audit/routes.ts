import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { AuditPageSchema, AuditQuerySchema } from './schemas.js';
import { listAuditEntries } from './service.js';

const tags = ['Privacy'];

export const auditLogRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  app.get(
    '/v1/audit-log',
    {
      config: { permission: 'audit:read', audit: { resource: 'audit_log', action: 'search' } },
      schema: {
        operationId: 'listAuditEntries',
        tags,
        summary: 'The audit log of every use of child data, newest first',
        description:
          'Filter by child (or the tombstone of an erased child), principal, action, resource ' +
          'type, outcome and period. Reading the log is itself recorded.',
        querystring: AuditQuerySchema,
        response: { 200: jsonResponse(AuditPageSchema, 'One page of audit entries, newest first') },
      },
    },
    async (request) => runner.run(request, listAuditEntries, request.query),
  );
};
