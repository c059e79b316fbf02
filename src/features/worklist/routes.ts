import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { WorklistPageSchema, WorklistQuerySchema } from './schemas.js';
import { worklist } from './service.js';

export const worklistRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.get(
    '/v1/worklist',
    {
      config: { permission: 'recommendation:read', audit: { resource: 'step', action: 'search' } },
      schema: {
        operationId: 'getWorklist',
        tags: ['Follow-up'],
        summary: 'Open steps by due date, with overdue marked',
        description:
          'Unit-limited keys see their units; social workers the steps for child services and ' +
          'school social workers.',
        querystring: WorklistQuerySchema,
        response: { 200: jsonResponse(WorklistPageSchema, 'One page of open steps, by due date') },
      },
    },
    async (request) => runner.run(request, worklist, request.query),
  );
};
