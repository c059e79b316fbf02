import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import {
  CreateRulerSchema,
  CreateRulerVersionSchema,
  RulerParamsSchema,
  RulerSchema,
  RulerVersionParamsSchema,
  RulerVersionSchema,
} from './schemas.js';
import {
  createRuler,
  createRulerVersion,
  getRuler,
  getRulerVersion,
  listVisibleRulers,
} from './service.js';

const tags = ['Rulers'];

export const rulerRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database } = deps;

  app.get(
    '/v1/rulers',
    {
      config: { permission: 'ruler:read' },
      schema: {
        operationId: 'listRulers',
        tags,
        summary: "The presets and the municipality's own rulers",
        security: bearerSecurity,
        response: {
          200: z.object({ items: z.array(RulerSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS),
        },
      },
    },
    async (request) => listVisibleRulers(database, principalOf(request)),
  );

  app.post(
    '/v1/rulers',
    {
      config: { permission: 'ruler:write' },
      schema: {
        operationId: 'createRuler',
        tags,
        summary: 'Create a ruler of your own (its version 1)',
        description:
          'The definition is validated thoroughly; every defect is listed in `errors` (422).',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        body: CreateRulerSchema,
        response: {
          201: RulerSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) => createRuler(trx, principal, request.body),
        (created) => `/v1/rulers/${created.id}`,
      ),
  );

  app.get(
    '/v1/rulers/:rulerId',
    {
      config: { permission: 'ruler:read' },
      schema: {
        operationId: 'getRuler',
        tags,
        summary: 'Get a ruler and its versions',
        security: bearerSecurity,
        params: RulerParamsSchema,
        response: { 200: RulerSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getRuler(database, principalOf(request), request.params.rulerId),
  );

  app.post(
    '/v1/rulers/:rulerId/versions',
    {
      config: { permission: 'ruler:write' },
      schema: {
        operationId: 'createRulerVersion',
        tags,
        summary: 'Add a new version to one of your rulers',
        description: 'Versions are immutable; assessments keep the version that classified them.',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        params: RulerParamsSchema,
        body: CreateRulerVersionSchema,
        response: {
          201: RulerVersionSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) =>
          createRulerVersion(trx, principal, request.params.rulerId, request.body.definition),
        (created) => `/v1/ruler-versions/${created.id}`,
      ),
  );

  app.get(
    '/v1/ruler-versions/:versionId',
    {
      config: { permission: 'ruler:read' },
      schema: {
        operationId: 'getRulerVersion',
        tags,
        summary: 'Get a ruler version with its full definition',
        security: bearerSecurity,
        params: RulerVersionParamsSchema,
        response: { 200: RulerVersionSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getRulerVersion(database, principalOf(request), request.params.versionId),
  );
};
