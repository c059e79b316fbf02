import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import {
  CreateSelfReportSchema,
  SelfReportListSchema,
  SelfReportParamsSchema,
  SelfReportRulersSchema,
  SelfReportSchema,
  SelfReportStatisticsQuerySchema,
  SelfReportStatisticsSchema,
} from './schemas.js';
import {
  createSelfReport,
  getSelfReport,
  listChildSelfReports,
  listSelfReportRulers,
  selfReportStatistics,
} from './service.js';

/**
 * The child's own voice (issue 18, point 3): an older child's self-report, recorded apart from
 * the professionals' assessments and seen only as far as the purpose stated to the child allows
 * (src/domain/self-report.ts, `selfReportAudience`).
 */
export const selfReportRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;
  const tags = ['Self-reports'];

  app.get(
    '/v1/self-report-rulers',
    {
      config: { permission: 'ruler:read' },
      schema: {
        operationId: 'listSelfReportRulers',
        tags,
        summary: 'The child-facing rulers, their questions and faces, and the purposes',
        description:
          'What the form shows the child: the purpose statement first (Danish and English), ' +
          'then the questions on five faces. No child data.',
        response: { 200: jsonResponse(SelfReportRulersSchema, 'The rulers and purposes') },
      },
    },
    async (request) => runner.run(request, listSelfReportRulers, undefined),
  );

  app.post(
    '/v1/self-reports',
    {
      config: {
        permission: 'self_report:write',
        audit: { resource: 'self_report', action: 'create' },
      },
      schema: {
        operationId: 'createSelfReport',
        tags,
        summary: "Record a child's own self-report (ages 10–16), with the purpose stated to it",
        description:
          'The child answers with an adult of the unit present; the answers are checked against ' +
          'the ruler and rolled into a zone. 422 when the child is outside the ruler’s ages on ' +
          'reportedOn, not enrolled in the unit that day, or an answer is not on the ruler. The ' +
          'answer shows the report as far as its purpose covers the recorder (for statistics ' +
          'only, and for integrations: that it exists).',
        headers: IdempotencyHeadersSchema,
        body: CreateSelfReportSchema,
        response: {
          201: jsonResponse(SelfReportSchema, 'The self-report recorded'),
          ...problemResponses(403, 404, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createSelfReport, request.body, {
        location: (created) => `/v1/self-reports/${created.id}`,
      }),
  );

  app.get(
    '/v1/self-reports/statistics',
    {
      config: {
        permission: 'analytics:read',
        audit: { resource: 'analytics', action: 'read' },
        readReplica: true,
      },
      schema: {
        operationId: 'getSelfReportStatistics',
        tags,
        summary: 'Anonymous aggregates of self-reports given for statistics only',
        description:
          'Children by age and the zone of their latest self-report in the period; only reports whose purpose is statistics_only count. Counts below 5 are suppressed, with complements.',
        querystring: SelfReportStatisticsQuerySchema,
        response: {
          200: jsonResponse(SelfReportStatisticsSchema, 'The suppressed table'),
          ...problemResponses(422),
        },
      },
    },
    async (request) => runner.run(request, selfReportStatistics, request.query),
  );

  app.get(
    '/v1/self-reports/:selfReportId',
    {
      config: {
        permission: 'self_report:read',
        audit: { resource: 'self_report', action: 'read' },
      },
      schema: {
        operationId: 'getSelfReport',
        tags,
        summary: 'One self-report, as far as its purpose covers you',
        description: '404 when you cannot see the child or the purpose does not cover you.',
        params: SelfReportParamsSchema,
        response: {
          200: jsonResponse(SelfReportSchema, 'The self-report'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getSelfReport, request.params.selfReportId),
  );

  app.get(
    '/v1/children/:childId/self-reports',
    {
      config: {
        permission: 'self_report:read',
        audit: { resource: 'self_report', action: 'read' },
      },
      schema: {
        operationId: 'listChildSelfReports',
        tags,
        summary: "A child's self-reports whose purpose covers you, by date",
        description:
          'The unit where a report was given sees it in full (dialogue, support); an involved ' +
          'social worker under support; the administrator that it exists. Reports for ' +
          'statistics only are listed to no one.',
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(SelfReportListSchema, "The child's self-reports"),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listChildSelfReports, request.params.childId),
  );
};
