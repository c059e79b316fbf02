import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import {
  CreateGuideSchema,
  CreateGuideVersionSchema,
  GuideParamsSchema,
  GuideSchema,
  GuideVersionParamsSchema,
  GuideVersionSchema,
} from './schemas.js';
import {
  createGuide,
  createGuideVersion,
  getGuide,
  getGuideVersion,
  listVisibleGuides,
} from './service.js';

const tags = ['Action guides'];

export const guideRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database } = deps;

  app.get(
    '/v1/action-guides',
    {
      config: { permission: 'guide:read' },
      schema: {
        operationId: 'listActionGuides',
        tags,
        summary: "The preset action guides and the municipality's own",
        security: bearerSecurity,
        response: {
          200: z.object({ items: z.array(GuideSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS),
        },
      },
    },
    async (request) => listVisibleGuides(database, principalOf(request)),
  );

  app.post(
    '/v1/action-guides',
    {
      config: { permission: 'guide:write' },
      schema: {
        operationId: 'createGuide',
        tags,
        summary: 'Create an action guide of your own (its version 1)',
        description:
          'Applies to the assessments on its ruler (or, with rulerKey null, on rulers without a guide). Every defect of the definition is listed in `errors` (422).',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        body: CreateGuideSchema,
        response: {
          201: GuideSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) => createGuide(trx, principal, request.body),
        (created) => `/v1/action-guides/${created.id}`,
      ),
  );

  app.get(
    '/v1/action-guides/:guideId',
    {
      config: { permission: 'guide:read' },
      schema: {
        operationId: 'getGuide',
        tags,
        summary: 'Get an action guide and its versions',
        security: bearerSecurity,
        params: GuideParamsSchema,
        response: { 200: GuideSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getGuide(database, principalOf(request), request.params.guideId),
  );

  app.post(
    '/v1/action-guides/:guideId/versions',
    {
      config: { permission: 'guide:write' },
      schema: {
        operationId: 'createGuideVersion',
        tags,
        summary: 'Add a new version to one of your action guides',
        description:
          'Versions are immutable; each recommendation records the version it came from.',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        params: GuideParamsSchema,
        body: CreateGuideVersionSchema,
        response: {
          201: GuideVersionSchema,
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
          createGuideVersion(trx, principal, request.params.guideId, request.body.definition),
        (created) => `/v1/action-guide-versions/${created.id}`,
      ),
  );

  app.get(
    '/v1/action-guide-versions/:versionId',
    {
      config: { permission: 'guide:read' },
      schema: {
        operationId: 'getGuideVersion',
        tags,
        summary: 'Get an action guide version with its steps and trajectory rules',
        security: bearerSecurity,
        params: GuideVersionParamsSchema,
        response: { 200: GuideVersionSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getGuideVersion(database, principalOf(request), request.params.versionId),
  );
};
