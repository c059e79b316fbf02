import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { DossierSchema } from './schemas.js';
import { childDossier } from './service.js';

const tags = ['Privacy'];

export const dossierRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  app.get(
    '/v1/children/:childId/dossier',
    {
      config: { permission: 'dossier:read', audit: { resource: 'dossier', action: 'read' } },
      schema: {
        operationId: 'getChildDossier',
        tags,
        summary: "Everything stored about a child, for a parent's access request (GDPR art. 15)",
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(DossierSchema, 'Everything stored about the child'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.runThen(request, childDossier, request.params.childId),
  );
};
