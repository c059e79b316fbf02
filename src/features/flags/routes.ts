import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { RoundParamsSchema } from '../rounds/schemas.js';
import {
  AcknowledgeFlagSchema,
  FlagListQuerySchema,
  FlagPageSchema,
  FlagParamsSchema,
  FlagSchema,
} from './schemas.js';
import { acknowledgeFlag, flagNotAssessed, listFlags } from './service.js';

export const flagRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;
  const tags = ['Follow-up'];

  app.get(
    '/v1/flags',
    {
      config: { permission: 'flag:read', audit: { resource: 'flag', action: 'search' } },
      schema: {
        operationId: 'listFlags',
        tags,
        summary: 'Flags by unit and status (raised until acknowledged)',
        querystring: FlagListQuerySchema,
        response: { 200: FlagPageSchema },
      },
    },
    async (request) => runner.run(request, listFlags, request.query),
  );

  app.post(
    '/v1/flags/:flagId/acknowledge',
    {
      config: { permission: 'flag:write', audit: { resource: 'flag', action: 'update' } },
      schema: {
        operationId: 'acknowledgeFlag',
        tags,
        summary: 'Acknowledge a flag, with a note (once)',
        params: FlagParamsSchema,
        body: AcknowledgeFlagSchema,
        response: { 200: FlagSchema, ...problemResponses(404, 409) },
      },
    },
    async (request) =>
      runner.run(request, acknowledgeFlag, { id: request.params.flagId, body: request.body }),
  );

  app.post(
    '/v1/rounds/:roundId/not-assessed-flags',
    {
      config: { permission: 'round:close', audit: { resource: 'flag', action: 'create' } },
      schema: {
        operationId: 'raiseNotAssessedFlags',
        tags,
        summary: 'After the window closed: flag every enrolled child not assessed',
        description: 'Idempotent; the server also does this by itself for closed rounds.',
        params: RoundParamsSchema,
        response: {
          200: z.object({ raised: z.number().int() }),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) => runner.run(request, flagNotAssessed, request.params.roundId),
  );
};
