import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { EventPageSchema, EventQuerySchema } from './schemas.js';
import { eventFeed } from './service.js';

export const eventRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.get(
    '/v1/events',
    {
      config: { permission: 'event:read', audit: { resource: 'event', action: 'search' } },
      schema: {
        operationId: 'listEvents',
        tags: ['Events'],
        summary: 'The change feed: recommendations, step changes, flags, concern reports',
        description:
          'Stable order; follow it with `after=<nextCursor>` to get every change exactly once. ' +
          "A unit-limited key gets its units' events only (none of concern reports, which have " +
          'no unit).',
        querystring: EventQuerySchema,
        response: {
          200: jsonResponse(
            EventPageSchema,
            'One page of events, in feed order, with the cursor to continue from',
          ),
        },
      },
    },
    async (request) => runner.run(request, eventFeed, request.query),
  );
};
