import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { HandoverSchema } from './schemas.js';
import { getHandover } from './service.js';

const tags = ['Transitions and consent'];

export const handoverRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.get(
    '/v1/children/:childId/handover',
    {
      config: { permission: 'handover:read', audit: { resource: 'handover', action: 'read' } },
      schema: {
        operationId: 'getHandover',
        tags,
        summary: 'Handover summary for the receiving unit',
        description:
          'Latest zone and level per ruler domain, open steps and flags, from what the key may ' +
          'see: its own units’ records and, from other units, what a consent in force or a ' +
          'transition guideline covers. No free text unless a consent covering notes addresses ' +
          'the key. Says which bases were used and counts what was withheld.',
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(
            HandoverSchema,
            'The handover summary, with what the receiving unit may see and why',
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getHandover, request.params.childId),
  );
};
