import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { audit } from '../../audit/audit.js';
import { principalOf } from '../../auth/plugin.js';
import { isUnitLimited, municipalityOf } from '../../auth/principal.js';
import { municipalityScope } from '../../db/database.js';
import { ForbiddenError } from '../../errors.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import { AssessmentParamsSchema } from '../assessments/schemas.js';
import { ChildParamsSchema } from '../children/schemas.js';
import { RoundParamsSchema } from '../rounds/schemas.js';
import {
  acknowledgeFlag,
  childVisibleTo,
  eventFeed,
  listConcernReports,
  listFlags,
  raiseNotAssessedFlags,
  recordConcernReport,
  worklist,
} from './follow-up.js';
import {
  AcknowledgeFlagSchema,
  ConcernReportSchema,
  CreateConcernReportSchema,
  EventPageSchema,
  EventQuerySchema,
  FlagListQuerySchema,
  FlagPageSchema,
  FlagParamsSchema,
  FlagSchema,
  RecommendationParamsSchema,
  RecommendationSchema,
  StepParamsSchema,
  StepTaskSchema,
  UpdateStepSchema,
  WorklistPageSchema,
  WorklistQuerySchema,
} from './schemas.js';
import { getRecommendation, updateStep } from './service.js';

export const recommendationRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database, now } = deps;
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
        security: bearerSecurity,
        params: RecommendationParamsSchema,
        response: {
          200: RecommendationSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return getRecommendation(
        database,
        principal,
        { id: request.params.recommendationId },
        now(),
        childVisibleTo(principal, now()),
      );
    },
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
        security: bearerSecurity,
        params: AssessmentParamsSchema,
        response: {
          200: RecommendationSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return getRecommendation(
        database,
        principal,
        { assessmentId: request.params.assessmentId },
        now(),
        childVisibleTo(principal, now()),
      );
    },
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
          'recording the concern report.',
        security: bearerSecurity,
        params: StepParamsSchema,
        body: UpdateStepSchema,
        response: {
          200: StepTaskSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409, 413, 415, 422),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return updateStep(
        database,
        principal,
        request.params.stepId,
        request.body,
        now(),
        childVisibleTo(principal, now()),
      );
    },
  );

  app.get(
    '/v1/worklist',
    {
      config: { permission: 'recommendation:read', audit: { resource: 'step', action: 'search' } },
      schema: {
        operationId: 'getWorklist',
        tags: ['Follow-up'],
        summary: 'Open steps by due date, with overdue marked',
        description:
          'Unit-limited keys see their units; social workers the steps for child services and ' +
          'school social workers.',
        security: bearerSecurity,
        querystring: WorklistQuerySchema,
        response: { 200: WorklistPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => worklist(database, principalOf(request), request.query, now()),
  );

  app.get(
    '/v1/flags',
    {
      config: { permission: 'flag:read', audit: { resource: 'flag', action: 'search' } },
      schema: {
        operationId: 'listFlags',
        tags: ['Follow-up'],
        summary: 'Flags by unit and status (raised until acknowledged)',
        security: bearerSecurity,
        querystring: FlagListQuerySchema,
        response: { 200: FlagPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => listFlags(database, principalOf(request), now(), request.query),
  );

  app.post(
    '/v1/flags/:flagId/acknowledge',
    {
      config: { permission: 'flag:write', audit: { resource: 'flag', action: 'update' } },
      schema: {
        operationId: 'acknowledgeFlag',
        tags: ['Follow-up'],
        summary: 'Acknowledge a flag, with a note (once)',
        security: bearerSecurity,
        params: FlagParamsSchema,
        body: AcknowledgeFlagSchema,
        response: {
          200: FlagSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409, 413, 415),
        },
      },
    },
    async (request) =>
      acknowledgeFlag(
        database,
        principalOf(request),
        request.params.flagId,
        request.body.note,
        now(),
      ),
  );

  app.post(
    '/v1/children/:childId/concern-reports',
    {
      config: {
        permission: 'concern_report:write',
        audit: { resource: 'concern_report', action: 'create' },
      },
      schema: {
        operationId: 'recordConcernReport',
        tags: ['Follow-up'],
        summary: 'Record a concern report (underretning) to child and family services',
        description: "Completes the child's open concern-report steps (or the ones named).",
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateConcernReportSchema,
        response: { 201: ConcernReportSchema, ...problemResponses(...CREATE_PROBLEMS) },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) =>
          recordConcernReport(trx, principal, request.params.childId, request.body, now()),
        (created) => `/v1/children/${created.childId}/concern-reports`,
      ),
  );

  app.get(
    '/v1/children/:childId/concern-reports',
    {
      config: {
        permission: 'concern_report:read',
        audit: { resource: 'concern_report', action: 'read' },
      },
      schema: {
        operationId: 'listConcernReports',
        tags: ['Follow-up'],
        summary: "A child's concern reports",
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: {
          200: z.object({ items: z.array(ConcernReportSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) =>
      listConcernReports(database, principalOf(request), request.params.childId, now()),
  );

  app.post(
    '/v1/rounds/:roundId/not-assessed-flags',
    {
      config: { permission: 'round:close', audit: { resource: 'flag', action: 'create' } },
      schema: {
        operationId: 'raiseNotAssessedFlags',
        tags: ['Follow-up'],
        summary: 'After the window closed: flag every enrolled child not assessed',
        description: 'Idempotent; the server also does this by itself for closed rounds.',
        security: bearerSecurity,
        params: RoundParamsSchema,
        response: {
          200: z.object({ raised: z.number().int() }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409),
        },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      if (isUnitLimited(principal)) {
        throw new ForbiddenError('This key is limited to units; the round covers more.');
      }
      const municipalityId = municipalityOf(principal);
      const raised = await database.transaction(municipalityScope(municipalityId), (trx) =>
        raiseNotAssessedFlags(trx, municipalityId, request.params.roundId, now(), (entries) =>
          audit(trx, principal, ...entries),
        ),
      );
      return { raised };
    },
  );

  app.get(
    '/v1/events',
    {
      config: { permission: 'event:read', audit: { resource: 'event', action: 'search' } },
      schema: {
        operationId: 'listEvents',
        tags: ['Events'],
        summary: 'The change feed: recommendations, step changes, flags, concern reports',
        description:
          'Stable order; follow it with `after=<nextCursor>` to get every change exactly once.',
        security: bearerSecurity,
        querystring: EventQuerySchema,
        response: { 200: EventPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => eventFeed(database, principalOf(request), request.query),
  );
};
