import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { ConcernReportSchema, CreateConcernReportSchema } from './schemas.js';
import { listConcernReports, recordConcernReport } from './service.js';

export const concernReportRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;
  const tags = ['Follow-up'];

  app.post(
    '/v1/children/:childId/concern-reports',
    {
      config: {
        permission: 'concern_report:write',
        audit: { resource: 'concern_report', action: 'create' },
      },
      schema: {
        operationId: 'recordConcernReport',
        tags,
        summary: 'Record a concern report (underretning) to child and family services',
        description: "Completes the child's open concern-report steps (or the ones named).",
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateConcernReportSchema,
        response: {
          201: jsonResponse(ConcernReportSchema, 'The concern report recorded'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(
        request,
        reply,
        recordConcernReport,
        { childId: request.params.childId, body: request.body },
        { location: (created) => `/v1/children/${created.childId}/concern-reports` },
      ),
  );

  app.get(
    '/v1/children/:childId/concern-reports',
    {
      config: {
        permission: 'concern_report:read',
        audit: { resource: 'concern_report', action: 'read' },
      },
      schema: {
        operationId: 'listConcernReports',
        tags,
        summary: "A child's concern reports",
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(
            z.object({ items: z.array(ConcernReportSchema) }),
            "The child's concern reports",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listConcernReports, request.params.childId),
  );
};
