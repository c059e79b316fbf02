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
import type { RouteDeps } from '../../request/route-deps.js';
import {
  AssessmentParamsSchema,
  RecommendationParamsSchema,
  RecommendationSchema,
  StepParamsSchema,
  StepTaskSchema,
  UpdateStepSchema,
} from './schemas.js';
import { getRecommendation, getStep, updateStep } from './service.js';

export const recommendationRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;
  const tags = ['Recommendations'];

  app.get(
    '/v1/recommendations/:recommendationId',
    {
      config: {
        permission: 'recommendation:read',
        audit: { resource: 'recommendation', action: 'read' },
      },
      schema: {
        operationId: 'getRecommendation',
        tags,
        summary: 'A recommendation with its steps and flags',
        params: RecommendationParamsSchema,
        response: {
          200: jsonResponse(RecommendationSchema, 'The recommendation with its steps and flags'),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, getRecommendation, { id: request.params.recommendationId }),
  );

  app.get(
    '/v1/assessments/:assessmentId/recommendation',
    {
      config: {
        permission: 'recommendation:read',
        audit: { resource: 'recommendation', action: 'read' },
      },
      schema: {
        operationId: 'getAssessmentRecommendation',
        tags,
        summary: 'The recommendation made for an assessment',
        params: AssessmentParamsSchema,
        response: {
          200: jsonResponse(RecommendationSchema, 'The recommendation made for the assessment'),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, getRecommendation, { assessmentId: request.params.assessmentId }),
  );

  app.get(
    '/v1/steps/:stepId',
    {
      config: { permission: 'recommendation:read', audit: { resource: 'step', action: 'read' } },
      schema: {
        operationId: 'getStep',
        tags: ['Follow-up'],
        summary: 'Get a step (with its ETag, for a conditional change)',
        description: 'Visible to those who may change it: keys of its unit, and social workers.',
        headers: IfNoneMatchHeadersSchema,
        params: StepParamsSchema,
        response: {
          200: taggedResponse(StepTaskSchema, 'The step'),
          304: notModifiedResponse,
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await runner.run(request, getStep, request.params.stepId)),
  );

  app.patch(
    '/v1/steps/:stepId',
    {
      config: { permission: 'step:write', audit: { resource: 'step', action: 'update' } },
      schema: {
        operationId: 'updateStep',
        tags: ['Follow-up'],
        summary: 'Mark a step done or not applicable, or reopen it',
        description:
          'open → done | not_applicable (with a reason); done/not_applicable → open needs a ' +
          'reason; superseded steps never change. Concern-report steps are completed by ' +
          'recording the concern report. With If-Match, only if the step is still the version ' +
          'read (else 412).',
        headers: IfMatchHeadersSchema,
        params: StepParamsSchema,
        body: UpdateStepSchema,
        response: {
          200: taggedResponse(StepTaskSchema, 'The step changed'),
          ...problemResponses(404, 409, 412, 422, 428),
        },
      },
    },
    async (request, reply) =>
      sendTagged(
        request,
        reply,
        await runner.run(request, updateStep, {
          id: request.params.stepId,
          body: request.body,
          ifMatch: request.headers['if-match'],
        }),
      ),
  );
};
