import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { AssignmentParamsSchema, AssignmentSchema, CreateAssignmentSchema } from './schemas.js';
import { assignSocialWorker, listChildAssignments, unassignSocialWorker } from './service.js';

const tags = ['Children'];

export const socialWorkerRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database, now } = deps;

  app.post(
    '/v1/children/:childId/social-workers',
    {
      config: {
        permission: 'social_worker_assignment:write',
        audit: { resource: 'social_worker_assignment', action: 'create' },
      },
      schema: {
        operationId: 'assignSocialWorker',
        tags,
        summary: 'Assign a social worker to a child: they may then see it',
        description:
          'Social workers see the children they are involved with: a step or concern report ' +
          'involving child services or a school social worker, or this explicit assignment. ' +
          'Names the social worker as a request principal: a social_worker key of the ' +
          'municipality by its id, or an identity-provider user by its `sub`. 409 when already ' +
          'assigned.',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateAssignmentSchema,
        response: { 201: AssignmentSchema, ...problemResponses(...CREATE_PROBLEMS) },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) =>
          assignSocialWorker(trx, principal, request.params.childId, request.body, now()),
        (created) => `/v1/children/${created.childId}/social-workers/${created.id}`,
      ),
  );

  app.get(
    '/v1/children/:childId/social-workers',
    {
      config: {
        permission: 'social_worker_assignment:read',
        audit: { resource: 'social_worker_assignment', action: 'read' },
      },
      schema: {
        operationId: 'listSocialWorkerAssignments',
        tags,
        summary: 'The social workers explicitly assigned to a child, oldest first',
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: {
          200: z.object({ items: z.array(AssignmentSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) =>
      listChildAssignments(database, principalOf(request), request.params.childId, now()),
  );

  app.delete(
    '/v1/children/:childId/social-workers/:assignmentId',
    {
      config: {
        permission: 'social_worker_assignment:write',
        audit: { resource: 'social_worker_assignment', action: 'delete' },
      },
      schema: {
        operationId: 'unassignSocialWorker',
        tags,
        summary: 'End an assignment: the social worker no longer sees the child through it',
        description:
          'A step or concern report involving child services still makes the child visible.',
        security: bearerSecurity,
        params: AssignmentParamsSchema,
        response: {
          204: z.null().describe('Unassigned.'),
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request, reply) => {
      await unassignSocialWorker(
        database,
        principalOf(request),
        request.params.childId,
        request.params.assignmentId,
        now(),
      );
      return reply.code(204).send(null);
    },
  );
};
