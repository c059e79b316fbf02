import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, problemResponses } from '../../http/problem.js';
import { bearerSecurity, type RouteDeps } from '../../http/route-context.js';
import {
  AnalyticsFilterSchema,
  ConcernReportStatsSchema,
  CoverageAnalyticsSchema,
  EarlyDetectionSchema,
  FollowThroughSchema,
  PeriodQuerySchema,
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

export const analyticsRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { database, now }) => {
  const common = { tags, security: bearerSecurity };
  const ok = <T>(schema: T) => ({ 200: schema, ...problemResponses(...AUTHENTICATED_PROBLEMS) });

  app.get(
    '/v1/analytics/coverage',
    {
      config: { permission: 'analytics:read' },
      schema: {
        ...common,
        operationId: 'getCoverageAnalytics',
        summary: 'Coverage per round and unit: enrolled vs assessed, with suppression',
        description:
          'One row per round and unit, and one per round with unit null (distinct children).',
        querystring: AnalyticsFilterSchema,
        response: ok(CoverageAnalyticsSchema),
      },
    },
    async (request) => coverageStats(database, principalOf(request), request.query),
  );

  app.get(
    '/v1/analytics/early-detection',
    {
      config: { permission: 'analytics:read' },
      schema: {
        ...common,
        operationId: 'getEarlyDetection',
        summary:
          "Age in months at a child's first yellow or red assessment, by cohort and district",
        description: 'Quartiles; groups of fewer than 5 children are suppressed.',
        querystring: PeriodQuerySchema.pick({ unitIds: true, districts: true }),
        response: ok(EarlyDetectionSchema),
      },
    },
    async (request) => earlyDetectionStats(database, principalOf(request), request.query),
  );

  app.get(
    '/v1/analytics/follow-through',
    {
      config: { permission: 'analytics:read' },
      schema: {
        ...common,
        operationId: 'getFollowThrough',
        summary:
          'Steps done by their deadline, open and overdue steps per unit, days from red to report',
        querystring: PeriodQuerySchema.pick({ unitIds: true }),
        response: ok(FollowThroughSchema),
      },
    },
    async (request) => followThroughStats(database, principalOf(request), request.query, now()),
  );

  app.get(
    '/v1/analytics/concern-reports',
    {
      config: { permission: 'analytics:read' },
      schema: {
        ...common,
        operationId: 'getConcernReportStats',
        summary: 'Concern reports: counts, share about children under 8, repeat reports',
        querystring: PeriodQuerySchema.pick({ from: true, to: true }),
        response: ok(ConcernReportStatsSchema),
      },
    },
    async (request) => concernReportAggregate(database, principalOf(request), request.query),
  );

  app.get(
    '/v1/analytics/zone-distribution',
    {
      config: { permission: 'analytics:read' },
      schema: {
        operationId: 'getZoneDistribution',
        tags,
        summary: 'Zone distribution per round (and other dimensions), with small-cell suppression',
        description:
          'Counts of current assessments per zone (green, yellow, red, none = insufficient ' +
          'data) and shares, grouped by any of round, unit, district, unitKind, ageBand, sex. ' +
          'Counts of 1–4, and cells that would reveal them, are null with suppressed: true.',
        security: bearerSecurity,
        querystring: ZoneDistributionQuerySchema,
        response: { 200: ZoneDistributionSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => {
      const { groupBy, ...filter } = request.query;
      return zoneDistribution(database, principalOf(request), filter, groupBy);
    },
  );

  app.get(
    '/v1/analytics/transitions',
    {
      config: { permission: 'analytics:read' },
      schema: {
        operationId: 'getTransitions',
        tags,
        summary: 'Zone transitions between two rounds (zone × zone matrix), with suppression',
        security: bearerSecurity,
        querystring: TransitionsQuerySchema,
        response: { 200: TransitionsSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => {
      const { fromRoundId, toRoundId, ...filter } = request.query;
      return transitions(database, principalOf(request), filter, fromRoundId, toRoundId);
    },
  );
};
