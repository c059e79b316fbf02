import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import {
  AssessmentListQuerySchema,
  AssessmentPageSchema,
  AssessmentParamsSchema,
  AssessmentSchema,
  AssessmentViewSchema,
  AssessmentWithRecommendationSchema,
  CorrectAssessmentSchema,
  CreateAssessmentSchema,
  TimelineQuerySchema,
  TimelineSchema,
  WithdrawAssessmentSchema,
} from './schemas.js';
import {
  correctAssessment,
  createAssessment,
  getAssessment,
  getAssessmentHistory,
  getTimeline,
  listAssessments,
  withdrawAssessment,
} from './service.js';

const tags = ['Assessments'];

export const assessmentRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;
  const location = (created: { id: string }) => `/v1/assessments/${created.id}`;

  app.post(
    '/v1/assessments',
    {
      config: {
        permission: 'assessment:write',
        audit: { resource: 'assessment', action: 'create' },
      },
      schema: {
        operationId: 'createAssessment',
        tags,
        summary: 'Record an assessment; lineal classifies it on the ruler',
        description:
          'The response holds the zone (or null for insufficient data), the ruler version used ' +
          'and an explanation of the rule, levels, items and flags that decided it.',
        headers: IdempotencyHeadersSchema,
        body: CreateAssessmentSchema,
        response: {
          201: jsonResponse(
            AssessmentWithRecommendationSchema,
            'The assessment recorded, classified, with its recommendation',
          ),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createAssessment, request.body, { location }),
  );

  app.get(
    '/v1/assessments',
    {
      config: {
        permission: 'assessment:read',
        audit: { resource: 'assessment', action: 'search' },
      },
      schema: {
        operationId: 'listAssessments',
        tags,
        summary: 'Assessments in change order (incremental sync), by round, unit and child',
        description:
          'Every version and status, ordered by (when made or last changed, id). Assessments are ' +
          'immutable apart from their status: a correction is a new version (the old one turns ' +
          '`superseded`), a withdrawal changes the status. Unit-limited keys see only the ' +
          'assessments made in their units (403 for `unitId` of another unit); social workers ' +
          "get 403 (they read each child's timeline).",
        querystring: AssessmentListQuerySchema,
        response: {
          200: jsonResponse(AssessmentPageSchema, 'One page of assessments, in change order'),
          ...problemResponses(403),
        },
      },
    },
    async (request) => runner.run(request, listAssessments, request.query),
  );

  app.get(
    '/v1/assessments/:assessmentId',
    {
      config: { permission: 'assessment:read', audit: { resource: 'assessment', action: 'read' } },
      schema: {
        operationId: 'getAssessment',
        tags,
        summary: 'Get one version of an assessment',
        description:
          'A unit-limited key gets 403 (`no-sharing-basis`) for an assessment another unit made ' +
          'of a child it can see, unless a consent or transition guideline shares it; 404 when ' +
          'it cannot see the child. `selfReport` shows the child’s own self-report beside it ' +
          'as far as the purpose stated to the child covers you.',
        params: AssessmentParamsSchema,
        response: {
          200: jsonResponse(AssessmentViewSchema, 'The assessment version'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getAssessment, request.params.assessmentId),
  );

  app.get(
    '/v1/assessments/:assessmentId/history',
    {
      config: { permission: 'assessment:read', audit: { resource: 'assessment', action: 'read' } },
      schema: {
        operationId: 'getAssessmentHistory',
        tags,
        summary: 'Every version of an assessment, oldest first',
        params: AssessmentParamsSchema,
        response: {
          200: jsonResponse(
            z.object({ items: z.array(AssessmentSchema) }),
            'Every version of the assessment, oldest first',
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getAssessmentHistory, request.params.assessmentId),
  );

  app.post(
    '/v1/assessments/:assessmentId/corrections',
    {
      config: {
        permission: 'assessment:write',
        audit: { resource: 'assessment', action: 'update' },
      },
      schema: {
        operationId: 'correctAssessment',
        tags,
        summary: 'Correct an assessment: a new version supersedes the current one',
        description: 'The old version is kept (status superseded) with who, when and why.',
        headers: IdempotencyHeadersSchema,
        params: AssessmentParamsSchema,
        body: CorrectAssessmentSchema,
        response: {
          201: jsonResponse(
            AssessmentWithRecommendationSchema,
            'The new version, classified, with its recommendation',
          ),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(
        request,
        reply,
        correctAssessment,
        { id: request.params.assessmentId, body: request.body },
        { location },
      ),
  );

  app.post(
    '/v1/assessments/:assessmentId/withdraw',
    {
      config: {
        permission: 'assessment:write',
        audit: { resource: 'assessment', action: 'withdraw' },
      },
      schema: {
        operationId: 'withdrawAssessment',
        tags,
        summary: 'Withdraw an assessment, with a reason (it is never deleted)',
        params: AssessmentParamsSchema,
        body: WithdrawAssessmentSchema,
        response: {
          200: jsonResponse(AssessmentSchema, 'The assessment, withdrawn'),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, withdrawAssessment, {
        id: request.params.assessmentId,
        reason: request.body.reason,
      }),
  );

  app.get(
    '/v1/children/:childId/timeline',
    {
      config: { permission: 'assessment:read', audit: { resource: 'assessment', action: 'read' } },
      schema: {
        operationId: 'getChildTimeline',
        tags,
        summary: "A child's assessments in date order, with zone, level and explanation",
        description:
          'Unit-limited keys see the assessments made in their own units, and those of other ' +
          'units only under a consent in force or a transition guideline (marked `sharing`, ' +
          'free text only under a consent covering notes); `withheld` counts the rest.',
        params: ChildParamsSchema,
        querystring: TimelineQuerySchema,
        response: {
          200: jsonResponse(TimelineSchema, "The child's assessments in date order"),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, getTimeline, {
        childId: request.params.childId,
        includeWithdrawn: request.query.includeWithdrawn,
      }),
  );
};
