import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import {
  ChildListQuerySchema,
  ChildPageSchema,
  ChildParamsSchema,
  ChildSchema,
  CprLookupSchema,
  CreateChildSchema,
  CreateEnrolmentSchema,
  EnrolmentParamsSchema,
  EnrolmentSchema,
  UpdateChildSchema,
  UpdateEnrolmentSchema,
} from './schemas.js';
import {
  changeChild,
  changeEnrolment,
  childEnrolments,
  createChild,
  createEnrolment,
  getChild,
  getEnrolment,
  listMunicipalityChildren,
  lookupChildByCpr,
} from './service.js';

const tags = ['Children'];

export const childRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database, now } = deps;

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
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        body: CreateChildSchema,
        response: {
          201: ChildSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) => createChild(trx, principal, request.body, deps),
        (created) => `/v1/children/${created.id}`,
      ),
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
        security: bearerSecurity,
        querystring: ChildListQuerySchema,
        response: { 200: ChildPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 422) },
      },
    },
    async (request) =>
      listMunicipalityChildren(database, principalOf(request), request.query, now()),
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
        security: bearerSecurity,
        body: CprLookupSchema,
        response: {
          200: ChildSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 413, 415, 422),
        },
      },
    },
    async (request) => lookupChildByCpr(database, principalOf(request), request.body.cpr, deps),
  );

  app.get(
    '/v1/children/:childId',
    {
      config: { permission: 'child:read', audit: { resource: 'child', action: 'read' } },
      schema: {
        operationId: 'getChild',
        tags,
        summary: 'Get a child',
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: { 200: ChildSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getChild(database, principalOf(request), request.params.childId, now()),
  );

  app.patch(
    '/v1/children/:childId',
    {
      config: { permission: 'child:write', audit: { resource: 'child', action: 'update' } },
      schema: {
        operationId: 'updateChild',
        tags,
        summary: "Change a child's master data",
        security: bearerSecurity,
        params: ChildParamsSchema,
        body: UpdateChildSchema,
        response: {
          200: ChildSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request) =>
      changeChild(database, principalOf(request), request.params.childId, request.body, deps),
  );

  app.post(
    '/v1/children/:childId/enrolments',
    {
      config: { permission: 'enrolment:write', audit: { resource: 'enrolment', action: 'create' } },
      schema: {
        operationId: 'createEnrolment',
        tags,
        summary: 'Enrol a child in a unit',
        description:
          'Transitions between units are successive enrolments: end the old one, start the new. ' +
          'Overlapping enrolments in two units of the same kind (daycare, school, after-school) ' +
          'are rejected with 409; school and after-school care at once is fine.',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateEnrolmentSchema,
        response: {
          201: EnrolmentSchema,
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
          createEnrolment(trx, principal, request.params.childId, request.body, now()),
        (created) => `/v1/children/${created.childId}/enrolments/${created.id}`,
      ),
  );

  app.get(
    '/v1/children/:childId/enrolments',
    {
      config: { permission: 'child:read', audit: { resource: 'enrolment', action: 'read' } },
      schema: {
        operationId: 'listEnrolments',
        tags,
        summary: "A child's enrolments, oldest first",
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: {
          200: z.object({ items: z.array(EnrolmentSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) => ({
      items: await childEnrolments(database, principalOf(request), request.params.childId, now()),
    }),
  );

  app.get(
    '/v1/children/:childId/enrolments/:enrolmentId',
    {
      config: { permission: 'child:read', audit: { resource: 'enrolment', action: 'read' } },
      schema: {
        operationId: 'getEnrolment',
        tags,
        summary: 'Get an enrolment',
        security: bearerSecurity,
        params: EnrolmentParamsSchema,
        response: { 200: EnrolmentSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) =>
      getEnrolment(
        database,
        principalOf(request),
        request.params.childId,
        request.params.enrolmentId,
        now(),
      ),
  );

  app.patch(
    '/v1/children/:childId/enrolments/:enrolmentId',
    {
      config: { permission: 'enrolment:write', audit: { resource: 'enrolment', action: 'update' } },
      schema: {
        operationId: 'updateEnrolment',
        tags,
        summary: 'Change an enrolment (e.g. set its end date at a transition)',
        security: bearerSecurity,
        params: EnrolmentParamsSchema,
        body: UpdateEnrolmentSchema,
        response: {
          200: EnrolmentSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request) =>
      changeEnrolment(
        database,
        principalOf(request),
        request.params.childId,
        request.params.enrolmentId,
        request.body,
        now(),
      ),
  );
};
