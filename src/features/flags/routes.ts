import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
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
        response: { 200: jsonResponse(FlagPageSchema, 'One page of flags') },
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
        response: {
          200: jsonResponse(FlagSchema, 'The flag, acknowledged'),
          ...problemResponses(404, 409),
        },
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
          200: jsonResponse(
            z.object({ raised: z.number().int() }),
            'How many flags were raised (none twice for the same child and round)',
          ),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) => runner.run(request, flagNotAssessed, request.params.roundId),
  );
};
