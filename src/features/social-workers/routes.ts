import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { AssignmentParamsSchema, AssignmentSchema, CreateAssignmentSchema } from './schemas.js';
import { assignSocialWorker, listChildAssignments, unassignSocialWorker } from './service.js';

const tags = ['Children'];

export const socialWorkerRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

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
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateAssignmentSchema,
        response: {
          201: jsonResponse(AssignmentSchema, 'The assignment created'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(
        request,
        reply,
        assignSocialWorker,
        { childId: request.params.childId, body: request.body },
        { location: (created) => `/v1/children/${created.childId}/social-workers/${created.id}` },
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
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(
            z.object({ items: z.array(AssignmentSchema) }),
            "The child's social-worker assignments, oldest first",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listChildAssignments, request.params.childId),
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
        params: AssignmentParamsSchema,
        response: {
          204: z.null().describe('Unassigned.'),
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) => {
      await runner.run(request, unassignSocialWorker, request.params);
      return reply.code(204).send(null);
    },
  );
};
