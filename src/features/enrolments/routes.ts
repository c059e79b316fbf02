import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
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
import { ChildParamsSchema, CreateEnrolmentSchema } from '../children/schemas.js';
import {
  EnrolmentListQuerySchema,
  EnrolmentPageSchema,
  EnrolmentParamsSchema,
  EnrolmentSchema,
  UpdateEnrolmentSchema,
} from './schemas.js';
import {
  changeEnrolment,
  createEnrolment,
  getEnrolment,
  listChildEnrolments,
  listEnrolmentsChanged,
} from './service.js';

const tags = ['Children'];

export const enrolmentRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

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
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateEnrolmentSchema,
        response: {
          201: taggedResponse(EnrolmentSchema, 'The enrolment made'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(
        request,
        reply,
        createEnrolment,
        { childId: request.params.childId, body: request.body },
        {
          location: (created) => `/v1/children/${created.childId}/enrolments/${created.id}`,
          etag: true,
        },
      ),
  );

  app.get(
    '/v1/enrolments',
    {
      config: { permission: 'child:read', audit: { resource: 'enrolment', action: 'search' } },
      schema: {
        operationId: 'listMunicipalityEnrolments',
        tags,
        summary: 'Enrolments of the municipality in change order (incremental sync)',
        description:
          'Ordered by (updatedAt, id), so `updatedSince` and the cursor give every change once ' +
          'per page walk. Unit-limited keys see only the enrolments in their units (403 for `unitId` ' +
          'of another unit).',
        querystring: EnrolmentListQuerySchema,
        response: {
          200: jsonResponse(EnrolmentPageSchema, 'One page of enrolments, in change order'),
          ...problemResponses(403),
        },
      },
    },
    async (request) => runner.run(request, listEnrolmentsChanged, request.query),
  );

  app.get(
    '/v1/children/:childId/enrolments',
    {
      config: { permission: 'child:read', audit: { resource: 'enrolment', action: 'read' } },
      schema: {
        operationId: 'listEnrolments',
        tags,
        summary: "A child's enrolments, oldest first",
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(
            z.object({ items: z.array(EnrolmentSchema) }),
            "The child's enrolments, oldest first",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listChildEnrolments, request.params.childId),
  );

  app.get(
    '/v1/children/:childId/enrolments/:enrolmentId',
    {
      config: { permission: 'child:read', audit: { resource: 'enrolment', action: 'read' } },
      schema: {
        operationId: 'getEnrolment',
        tags,
        summary: 'Get an enrolment',
        headers: IfNoneMatchHeadersSchema,
        params: EnrolmentParamsSchema,
        response: {
          200: taggedResponse(EnrolmentSchema, 'The enrolment'),
          304: notModifiedResponse,
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await runner.run(request, getEnrolment, request.params)),
  );

  app.patch(
    '/v1/children/:childId/enrolments/:enrolmentId',
    {
      config: { permission: 'enrolment:write', audit: { resource: 'enrolment', action: 'update' } },
      schema: {
        operationId: 'updateEnrolment',
        tags,
        summary: 'Change an enrolment (e.g. set its end date at a transition)',
        description: 'With If-Match, only if the enrolment is still the version read (else 412).',
        headers: IfMatchHeadersSchema,
        params: EnrolmentParamsSchema,
        body: UpdateEnrolmentSchema,
        response: {
          200: taggedResponse(EnrolmentSchema, 'The enrolment changed'),
          ...problemResponses(404, 409, 412, 422, 428),
        },
      },
    },
    async (request, reply) =>
      sendTagged(
        request,
        reply,
        await runner.run(request, changeEnrolment, {
          ...request.params,
          body: request.body,
          ifMatch: request.headers['if-match'],
        }),
      ),
  );
};
