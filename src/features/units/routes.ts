import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
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
  const { runner } = deps;

  app.post(
    '/v1/units',
    {
      config: { permission: 'unit:write' },
      schema: {
        operationId: 'createUnit',
        tags,
        summary: 'Create a unit (institution)',
        headers: IdempotencyHeadersSchema,
        body: CreateUnitSchema,
        response: {
          201: UnitSchema,
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createUnit, request.body, {
        location: (created) => `/v1/units/${created.id}`,
      }),
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
        querystring: UnitListQuerySchema,
        response: { 200: UnitPageSchema },
      },
    },
    async (request) => runner.run(request, listMunicipalityUnits, request.query),
  );

  app.get(
    '/v1/units/:unitId',
    {
      config: { permission: 'unit:read' },
      schema: {
        operationId: 'getUnit',
        tags,
        summary: 'Get a unit',
        params: UnitParamsSchema,
        response: { 200: UnitSchema, ...problemResponses(404) },
      },
    },
    async (request) => runner.run(request, getUnit, request.params.unitId),
  );

  app.patch(
    '/v1/units/:unitId',
    {
      config: { permission: 'unit:write' },
      schema: {
        operationId: 'updateUnit',
        tags,
        summary: 'Change a unit',
        params: UnitParamsSchema,
        body: UpdateUnitSchema,
        response: {
          200: UnitSchema,
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, changeUnit, { id: request.params.unitId, body: request.body }),
  );
};
