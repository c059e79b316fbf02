import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { PageQuerySchema } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  CreateMunicipalitySchema,
  MunicipalityPageSchema,
  MunicipalityParamsSchema,
  MunicipalitySchema,
} from './schemas.js';
import { createMunicipality, getMunicipality, listAllMunicipalities } from './service.js';

const tags = ['Municipalities'];

export const municipalityRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;
  app.post(
    '/v1/municipalities',
    {
      config: { permission: 'municipality:create', scope: 'platform' },
      schema: {
        operationId: 'createMunicipality',
        tags,
        summary: 'Create a municipality (tenant)',
        description: 'Platform administrators only. The 3-digit code is unique.',
        headers: IdempotencyHeadersSchema,
        body: CreateMunicipalitySchema,
        response: {
          201: jsonResponse(MunicipalitySchema, 'The municipality created'),
          ...problemResponses(409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createMunicipality, request.body, {
        location: (m) => `/v1/municipalities/${m.id}`,
      }),
  );

  app.get(
    '/v1/municipalities',
    {
      config: { permission: 'municipality:list', scope: 'platform' },
      schema: {
        operationId: 'listMunicipalities',
        tags,
        summary: 'List municipalities',
        description: 'Platform administrators only; ordered by municipality code.',
        querystring: PageQuerySchema,
        response: { 200: jsonResponse(MunicipalityPageSchema, 'One page of municipalities') },
      },
    },
    async (request) => runner.run(request, listAllMunicipalities, request.query),
  );

  app.get(
    '/v1/municipalities/:municipalityId',
    {
      config: { permission: 'municipality:read', scope: 'path' },
      schema: {
        operationId: 'getMunicipality',
        tags,
        summary: 'Get a municipality',
        description: "Any key may read its own municipality; other municipalities' ids give 404.",
        params: MunicipalityParamsSchema,
        response: {
          200: jsonResponse(MunicipalitySchema, 'The municipality'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getMunicipality, request.params.municipalityId),
  );
};
