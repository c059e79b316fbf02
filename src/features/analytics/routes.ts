import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { aggregateCsv } from './csv.js';
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

/** The OpenAPI description of an aggregate's CSV body. */
const csvBody = {
  description:
    'The same figures as the JSON, one line per group (row = group, round_total or overall), ' +
    'flattened into columns: a hidden count is an empty field with <name>_suppressed = true.',
  content: {
    'text/csv': {
      schema: z.string().describe('CSV (RFC 4180, CRLF line ends) with a header line.'),
    },
  },
};

export const analyticsRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  // Every aggregate is also served as CSV at its path + ".csv": the same route options, the
  // same service, its JSON body flattened (csv.ts).
  const asCsv = (
    path: string,
    options: { config: object; schema: { operationId: string; summary: string } & object },
    handler: (request: never) => Promise<unknown>,
  ) => {
    const { response: _response, ...schema } = options.schema as Record<string, unknown>;
    app.get(
      `${path}.csv`,
      {
        config: options.config,
        schema: {
          ...schema,
          operationId: `${options.schema.operationId}Csv`,
          summary: `${options.schema.summary} (CSV)`,
          response: { 200: csvBody, ...problemResponses(404) },
        } as never,
      },
      async (request, reply) => {
        const body = (await handler(request as never)) as Parameters<typeof aggregateCsv>[0];
        return reply
          .header('content-type', 'text/csv; charset=utf-8; header=present')
          .header('cache-control', 'no-store')
          .send(aggregateCsv(body));
      },
    );
  };
  /** An aggregate at `path` as JSON, and at `path`.csv as CSV. */
  const aggregate: typeof app.get = ((path: string, options: never, handler: never) => {
    app.get(path, options, handler);
    asCsv(path, options, handler);
    return app;
  }) as never;
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

  aggregate(
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

  aggregate(
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

  aggregate(
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

  aggregate(
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

  aggregate(
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
      return runner.runThen(request, zoneDistribution, { filter, groupBy });
    },
  );

  aggregate(
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
      return runner.runThen(request, transitions, { filter, groupBy, fromRoundId, toRoundId });
    },
  );
};
