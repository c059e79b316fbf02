import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, problemResponses } from '../../http/problem.js';
import { bearerSecurity, type RouteDeps } from '../../http/route-context.js';
import {
  TransitionsQuerySchema,
  TransitionsSchema,
  ZoneDistributionQuerySchema,
  ZoneDistributionSchema,
} from './schemas.js';
import { transitions, zoneDistribution } from './service.js';

const tags = ['Analytics'];

export const analyticsRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { database }) => {
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
