import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import {
  IfMatchHeadersSchema,
  IfNoneMatchHeadersSchema,
  notModifiedResponse,
  sendTagged,
  taggedResponse,
} from '../../http/conditional.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
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
          201: taggedResponse(UnitSchema, 'The unit created'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createUnit, request.body, {
        location: (created) => `/v1/units/${created.id}`,
        etag: true,
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
        response: { 200: jsonResponse(UnitPageSchema, 'One page of units') },
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
        headers: IfNoneMatchHeadersSchema,
        params: UnitParamsSchema,
        response: {
          200: taggedResponse(UnitSchema, 'The unit'),
          304: notModifiedResponse,
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await runner.run(request, getUnit, request.params.unitId)),
  );

  app.patch(
    '/v1/units/:unitId',
    {
      config: { permission: 'unit:write' },
      schema: {
        operationId: 'updateUnit',
        tags,
        summary: 'Change a unit',
        description: 'With If-Match, only if the unit is still the version read (else 412).',
        headers: IfMatchHeadersSchema,
        params: UnitParamsSchema,
        body: UpdateUnitSchema,
        response: {
          200: taggedResponse(UnitSchema, 'The unit changed'),
          ...problemResponses(404, 409, 412, 428),
        },
      },
    },
    async (request, reply) =>
      sendTagged(
        request,
        reply,
        await runner.run(request, changeUnit, {
          id: request.params.unitId,
          body: request.body,
          ifMatch: request.headers['if-match'],
        }),
      ),
  );
};
