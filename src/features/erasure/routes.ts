import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { EraseChildSchema, ErasureSchema } from './schemas.js';
import { eraseChild } from './service.js';

const tags = ['Privacy'];

export const erasureRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  app.delete(
    '/v1/children/:childId',
    {
      config: { permission: 'child:erase', audit: { resource: 'child', action: 'delete' } },
      schema: {
        operationId: 'eraseChild',
        tags,
        summary: 'Erase a child: its personal data everywhere (the audit log keeps a tombstone)',
        description:
          'Deletes the child, its enrolments, assessments (every version), recommendations, ' +
          'steps, flags, consents, concern reports, events and stored idempotent responses, and ' +
          'replaces the child in the audit log by a tombstone pseudonym. Idempotent: erasing ' +
          'again answers with the first report (alreadyErased: true).',
        params: ChildParamsSchema,
        body: EraseChildSchema,
        response: {
          200: jsonResponse(
            ErasureSchema,
            'The erasure report: its tombstone and what was deleted',
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, eraseChild, {
        childId: request.params.childId,
        reason: request.body.reason,
      }),
  );
};
