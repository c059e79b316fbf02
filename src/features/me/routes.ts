import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { MeSchema } from './schemas.js';
import { getMe } from './service.js';

export const meRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  app.get(
    '/v1/me',
    {
      config: { permission: 'session:read' },
      schema: {
        operationId: 'getMe',
        tags: ['API keys'],
        summary: 'Who am I: the calling key or signed-in user and what it may do',
        response: {
          200: jsonResponse(MeSchema, 'The calling principal, its municipality and what it may do'),
        },
      },
    },
    async (request) => runner.run(request, getMe, null),
  );
};
