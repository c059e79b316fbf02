import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import {
  CreateUnitSchema,
  UnitListQuerySchema,
  UnitPageSchema,
  UnitParamsSchema,
  UnitSchema,
  UpdateUnitSchema,
} from './schemas.js';
import { changeUnit, createUnit, getUnit, listMunicipalityUnits } from './service.js';

const tags = ['Units'];

export const unitRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database, now } = deps;

  app.post(
    '/v1/units',
    {
      config: { permission: 'unit:write' },
      schema: {
        operationId: 'createUnit',
        tags,
        summary: 'Create a unit (institution)',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        body: CreateUnitSchema,
        response: {
          201: UnitSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) => createUnit(trx, principal, request.body),
        (created) => `/v1/units/${created.id}`,
      ),
  );

  app.get(
    '/v1/units',
    {
      config: { permission: 'unit:read' },
      schema: {
        operationId: 'listUnits',
        tags,
        summary: "List the municipality's units",
        description: 'Ordered by name; filter by kind, district or external ref.',
        security: bearerSecurity,
        querystring: UnitListQuerySchema,
        response: { 200: UnitPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => listMunicipalityUnits(database, principalOf(request), request.query),
  );

  app.get(
    '/v1/units/:unitId',
    {
      config: { permission: 'unit:read' },
      schema: {
        operationId: 'getUnit',
        tags,
        summary: 'Get a unit',
        security: bearerSecurity,
        params: UnitParamsSchema,
        response: { 200: UnitSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getUnit(database, principalOf(request), request.params.unitId),
  );

  app.patch(
    '/v1/units/:unitId',
    {
      config: { permission: 'unit:write' },
      schema: {
        operationId: 'updateUnit',
        tags,
        summary: 'Change a unit',
        security: bearerSecurity,
        params: UnitParamsSchema,
        body: UpdateUnitSchema,
        response: {
          200: UnitSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409, 413, 415),
        },
      },
    },
    async (request) =>
      changeUnit(database, principalOf(request), request.params.unitId, request.body, now()),
  );
};
