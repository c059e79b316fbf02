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
  ChildListQuerySchema,
  ChildPageSchema,
  ChildParamsSchema,
  ChildSchema,
  CprLookupSchema,
  CreateChildSchema,
  UpdateChildSchema,
} from './schemas.js';
import {
  changeChild,
  createChild,
  getChild,
  listMunicipalityChildren,
  lookupChildByCpr,
} from './service.js';

const tags = ['Children'];

export const childRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.post(
    '/v1/children',
    {
      config: { permission: 'child:write', audit: { resource: 'child', action: 'create' } },
      schema: {
        operationId: 'createChild',
        tags,
        summary: 'Register a child',
        description:
          'externalRef and CPR (if given) are unique in the municipality. Unit-limited keys must ' +
          'enrol the child in one of their units in the same request.',
        headers: IdempotencyHeadersSchema,
        body: CreateChildSchema,
        response: {
          201: taggedResponse(ChildSchema, 'The child registered'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createChild, request.body, {
        location: (created) => `/v1/children/${created.id}`,
        etag: true,
      }),
  );

  app.get(
    '/v1/children',
    {
      config: { permission: 'child:read', audit: { resource: 'child', action: 'search' } },
      schema: {
        operationId: 'listChildren',
        tags,
        summary: 'List and search children',
        description:
          'Unit-limited keys see only children with a current or upcoming enrolment in their units.',
        querystring: ChildListQuerySchema,
        response: {
          200: jsonResponse(ChildPageSchema, 'One page of children'),
          ...problemResponses(422),
        },
      },
    },
    async (request) => runner.run(request, listMunicipalityChildren, request.query),
  );

  app.post(
    '/v1/children/lookup',
    {
      config: {
        permission: 'child:read',
        audit: { resource: 'child', action: 'search' },
        cprLookup: true,
      },
      schema: {
        operationId: 'lookupChildByCpr',
        tags,
        summary: 'Find a child by CPR number',
        description:
          'The CPR number goes in the body so that it never appears in URLs or logs. Besides ' +
          'the general rate limit, each key may make only CPR_LOOKUP_LIMIT_MAX lookups (default ' +
          '30) per CPR_LOOKUP_LIMIT_WINDOW_MS (default 10 minutes); beyond that 429 with ' +
          'Retry-After, recorded in the audit log as a denied search.',
        body: CprLookupSchema,
        response: {
          200: jsonResponse(ChildSchema, 'The child with that CPR number'),
          ...problemResponses(404, 422),
        },
      },
    },
    async (request) => runner.run(request, lookupChildByCpr, request.body.cpr),
  );

  app.get(
    '/v1/children/:childId',
    {
      config: { permission: 'child:read', audit: { resource: 'child', action: 'read' } },
      schema: {
        operationId: 'getChild',
        tags,
        summary: 'Get a child',
        headers: IfNoneMatchHeadersSchema,
        params: ChildParamsSchema,
        response: {
          200: taggedResponse(ChildSchema, 'The child'),
          304: notModifiedResponse,
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await runner.run(request, getChild, request.params.childId)),
  );

  app.patch(
    '/v1/children/:childId',
    {
      config: { permission: 'child:write', audit: { resource: 'child', action: 'update' } },
      schema: {
        operationId: 'updateChild',
        tags,
        summary: "Change a child's master data",
        description: 'With If-Match, only if the child is still the version read (else 412).',
        headers: IfMatchHeadersSchema,
        params: ChildParamsSchema,
        body: UpdateChildSchema,
        response: {
          200: taggedResponse(ChildSchema, 'The child changed'),
          ...problemResponses(404, 409, 412, 422, 428),
        },
      },
    },
    async (request, reply) =>
      sendTagged(
        request,
        reply,
        await runner.run(request, changeChild, {
          id: request.params.childId,
          body: request.body,
          ifMatch: request.headers['if-match'],
        }),
      ),
  );
};
