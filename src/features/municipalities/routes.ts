import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../auth/plugin.js';
import { platformScope } from '../../db/database.js';
import { PageQuerySchema } from '../../http/pagination.js';
import { AUTHENTICATED_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createIdempotently } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import {
  CreateMunicipalitySchema,
  MunicipalityPageSchema,
  MunicipalityParamsSchema,
  MunicipalitySchema,
} from './schemas.js';
import { createMunicipality, getMunicipality, listAllMunicipalities } from './service.js';

const tags = ['Municipalities'];

export const municipalityRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database } = deps;
  app.post(
    '/v1/municipalities',
    {
      config: { permission: 'municipality:create' },
      schema: {
        operationId: 'createMunicipality',
        tags,
        summary: 'Create a municipality (tenant)',
        description: 'Platform administrators only. The 3-digit code is unique.',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        body: CreateMunicipalitySchema,
        response: {
          201: MunicipalitySchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 409, 413, 415, 422),
        },
      },
    },
    async (request, reply) =>
      createIdempotently(deps, request, reply, platformScope, async (trx) => {
        const municipality = await createMunicipality(trx, request.body);
        return {
          status: 201,
          body: municipality,
          location: `/v1/municipalities/${municipality.id}`,
        };
      }),
  );

  app.get(
    '/v1/municipalities',
    {
      config: { permission: 'municipality:list' },
      schema: {
        operationId: 'listMunicipalities',
        tags,
        summary: 'List municipalities',
        description: 'Platform administrators only; ordered by municipality code.',
        security: bearerSecurity,
        querystring: PageQuerySchema,
        response: { 200: MunicipalityPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => listAllMunicipalities(database, request.query),
  );

  app.get(
    '/v1/municipalities/:municipalityId',
    {
      config: { permission: 'municipality:read' },
      schema: {
        operationId: 'getMunicipality',
        tags,
        summary: 'Get a municipality',
        description: "Any key may read its own municipality; other municipalities' ids give 404.",
        security: bearerSecurity,
        params: MunicipalityParamsSchema,
        response: {
          200: MunicipalitySchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) =>
      getMunicipality(database, principalOf(request), request.params.municipalityId),
  );
};
