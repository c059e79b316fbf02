import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  ConcernReportQuerySchema,
  ConcernReportStatsSchema,
  CoverageAnalyticsSchema,
  CoverageQuerySchema,
  EarlyDetectionQuerySchema,
  EarlyDetectionSchema,
  FollowThroughQuerySchema,
  FollowThroughSchema,
  TransitionsQuerySchema,
  TransitionsSchema,
  ZoneDistributionQuerySchema,
  ZoneDistributionSchema,
} from './schemas.js';
import {
  concernReportAggregate,
  coverageStats,
  earlyDetectionStats,
  followThroughStats,
  transitions,
  zoneDistribution,
} from './service.js';

const tags = ['Analytics'];

export const analyticsRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  const common = { tags };
  const ok = <S extends z.ZodType>(schema: S, description: string) => ({
    200: jsonResponse(schema, description),
  });
  // The aggregates a unit leader may read too, over its own units: a unitIds filter naming
  // another unit is refused (403; 404 for a unit of another municipality). Every read is audited.
  const ownUnits = <S extends z.ZodType>(schema: S, description: string) => ({
    200: jsonResponse(schema, description),
    ...problemResponses(404),
  });
  const audit = { resource: 'analytics', action: 'read' } as const;
  const unitLimited =
    "A unit leader's key reads its own units' figures only: without unitIds it gets them, " +
    'and unitIds naming another unit is refused.';

  app.get(
    '/v1/analytics/coverage',
    {
      config: { permission: 'unit_analytics:read', audit, readReplica: true },
      schema: {
        ...common,
        operationId: 'getCoverageAnalytics',
        summary: 'Coverage per round (and unit or other groups): enrolled vs assessed',
        description:
          'Per round, one row per group and a total row (roundTotal), suppressed as one table. ' +
          unitLimited,
        querystring: CoverageQuerySchema,
        response: ownUnits(
          CoverageAnalyticsSchema,
          'Coverage per group, with small cells suppressed',
        ),
      },
    },
    async (request) => {
      const { groupBy, ...filter } = request.query;
      return runner.run(request, coverageStats, { filter, groupBy });
    },
  );

  app.get(
    '/v1/analytics/early-detection',
    {
      config: { permission: 'analytics:read', readReplica: true },
      schema: {
        ...common,
        operationId: 'getEarlyDetection',
        summary:
          "Age in months at a child's first yellow or red assessment, by cohort and district",
        description:
          'Quartiles per group (default: birth cohort × district) and overall; groups of fewer ' +
          'than 5 children are suppressed.',
        querystring: EarlyDetectionQuerySchema,
        response: ok(
          EarlyDetectionSchema,
          'Age at first yellow or red per group, with small cells suppressed',
        ),
      },
    },
    async (request) => {
      const { groupBy, ...filter } = request.query;
      return runner.run(request, earlyDetectionStats, { filter, groupBy });
    },
  );

  app.get(
    '/v1/analytics/follow-through',
    {
      config: { permission: 'unit_analytics:read', audit, readReplica: true },
      schema: {
        ...common,
        operationId: 'getFollowThrough',
        summary:
          'Steps done by their deadline, open and overdue steps per unit, days from red to report',
        description: unitLimited,
        querystring: FollowThroughQuerySchema,
        response: ownUnits(
          FollowThroughSchema,
          'Follow-through per unit, with small cells suppressed',
        ),
      },
    },
    async (request) => {
      const { groupBy, ...filter } = request.query;
      return runner.run(request, followThroughStats, { filter, groupBy });
    },
  );

  app.get(
    '/v1/analytics/concern-reports',
    {
      config: { permission: 'analytics:read', readReplica: true },
      schema: {
        ...common,
        operationId: 'getConcernReportStats',
        summary:
          'Concern reports: counts, share about children under 8, repeat reports, per 1,000 children',
        querystring: ConcernReportQuerySchema,
        response: ok(
          ConcernReportStatsSchema,
          'Concern-report figures per group, with small cells suppressed',
        ),
      },
    },
    async (request) => {
      const { groupBy, ...filter } = request.query;
      return runner.run(request, concernReportAggregate, { filter, groupBy });
    },
  );

  app.get(
    '/v1/analytics/zone-distribution',
    {
      config: { permission: 'analytics:read', readReplica: true },
      schema: {
        operationId: 'getZoneDistribution',
        tags,
        summary: 'Zone distribution per round (and other dimensions), with small-cell suppression',
        description:
          'Counts of current assessments per zone (green, yellow, red, none = insufficient ' +
          'data) and shares, grouped by any of round, unit, district, unitKind, ageBand, sex. ' +
          'Counts of 1–4, and cells that would reveal them, are null with suppressed: true.',
        querystring: ZoneDistributionQuerySchema,
        response: ok(ZoneDistributionSchema, 'Zone counts per group, with small cells suppressed'),
      },
    },
    async (request) => {
      const { groupBy, ...filter } = request.query;
      return runner.run(request, zoneDistribution, { filter, groupBy });
    },
  );

  app.get(
    '/v1/analytics/transitions',
    {
      config: { permission: 'analytics:read', readReplica: true },
      schema: {
        operationId: 'getTransitions',
        tags,
        summary: 'Zone transitions between two rounds (zone × zone matrix), with suppression',
        querystring: TransitionsQuerySchema,
        response: ownUnits(
          TransitionsSchema,
          'The zone × zone matrix, with small cells suppressed',
        ),
      },
    },
    async (request) => {
      const { fromRoundId, toRoundId, groupBy, ...filter } = request.query;
      return runner.run(request, transitions, { filter, groupBy, fromRoundId, toRoundId });
    },
  );
};
