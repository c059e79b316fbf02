import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, problemResponses } from '../../http/problem.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import {
  AuditPageSchema,
  AuditQuerySchema,
  DossierSchema,
  EraseChildSchema,
  ErasureSchema,
} from './schemas.js';
import { childDossier, eraseChild, listAuditEntries } from './service.js';

const tags = ['Privacy'];

export const privacyRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { database, now }) => {
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
        security: bearerSecurity,
        querystring: AuditQuerySchema,
        response: { 200: AuditPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => listAuditEntries(database, principalOf(request), request.query),
  );

  app.get(
    '/v1/children/:childId/dossier',
    {
      config: { permission: 'dossier:read', audit: { resource: 'dossier', action: 'read' } },
      schema: {
        operationId: 'getChildDossier',
        tags,
        summary: "Everything stored about a child, for a parent's access request (GDPR art. 15)",
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: { 200: DossierSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => childDossier(database, principalOf(request), request.params.childId, now()),
  );

  app.delete(
    '/v1/children/:childId',
    {
      config: { permission: 'child:erase', audit: { resource: 'child', action: 'delete' } },
      schema: {
        operationId: 'eraseChild',
        tags,
        summary: 'Erase a child: its personal data everywhere (the audit log keeps a tombstone)',
        description:
          'Deletes the child, its enrolments, assessments (every version), recommendations, ' +
          'steps, flags, consents, concern reports, events and stored idempotent responses, and ' +
          'replaces the child in the audit log by a tombstone pseudonym. Idempotent: erasing ' +
          'again answers with the first report (alreadyErased: true).',
        security: bearerSecurity,
        params: ChildParamsSchema,
        body: EraseChildSchema,
        response: {
          200: ErasureSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 413, 415),
        },
      },
    },
    async (request) =>
      eraseChild(
        database,
        principalOf(request),
        request.params.childId,
        request.body.reason,
        now(),
      ),
  );
};
