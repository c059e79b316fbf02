import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  CreateRoundSchema,
  RoundCoverageSchema,
  RoundListQuerySchema,
  RoundPageSchema,
  RoundParamsSchema,
  RoundRosterSchema,
  RoundSchema,
  RoundUnitParamsSchema,
  UnitCoverageSchema,
} from './schemas.js';
import {
  createRound,
  getRound,
  listMunicipalityRounds,
  roundCoverage,
  unitCoverage,
  unitRoster,
} from './service.js';

const tags = ['Rounds'];

export const roundRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.post(
    '/v1/rounds',
    {
      config: { permission: 'round:write' },
      schema: {
        operationId: 'createRound',
        tags,
        summary: 'Plan a screening round',
        description: 'A window, the ruler version to use, and the units and ages it covers.',
        headers: IdempotencyHeadersSchema,
        body: CreateRoundSchema,
        response: {
          201: jsonResponse(RoundSchema, 'The round created'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(request, reply, createRound, request.body, {
        location: (created) => `/v1/rounds/${created.id}`,
      }),
  );

  app.get(
    '/v1/rounds',
    {
      config: { permission: 'round:read' },
      schema: {
        operationId: 'listRounds',
        tags,
        summary: 'List rounds, newest window first',
        description: 'With `unitId` and `status=open`: the rounds open now for that unit.',
        querystring: RoundListQuerySchema,
        response: {
          200: jsonResponse(RoundPageSchema, 'One page of rounds'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listMunicipalityRounds, request.query),
  );

  app.get(
    '/v1/rounds/:roundId',
    {
      config: { permission: 'round:read' },
      schema: {
        operationId: 'getRound',
        tags,
        summary: 'Get a round',
        params: RoundParamsSchema,
        response: { 200: jsonResponse(RoundSchema, 'The round'), ...problemResponses(404) },
      },
    },
    async (request) => runner.run(request, getRound, request.params.roundId),
  );

  app.get(
    '/v1/rounds/:roundId/coverage',
    {
      config: { permission: 'coverage:read' },
      schema: {
        operationId: 'getRoundCoverage',
        tags,
        summary: 'Coverage of a round per unit: enrolled vs assessed',
        description: 'A child enrolled but not assessed in a round is itself a signal.',
        params: RoundParamsSchema,
        response: {
          200: jsonResponse(RoundCoverageSchema, "The round's coverage per unit"),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, roundCoverage, request.params.roundId),
  );

  app.get(
    '/v1/rounds/:roundId/coverage/:unitId',
    {
      config: { permission: 'coverage:read', audit: { resource: 'coverage', action: 'search' } },
      schema: {
        operationId: 'getUnitCoverage',
        tags,
        summary: "One unit's coverage, with the children still missing",
        params: RoundUnitParamsSchema,
        response: {
          200: jsonResponse(
            UnitCoverageSchema,
            "The unit's coverage, with the children still to assess",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, unitCoverage, request.params),
  );

  app.get(
    '/v1/rounds/:roundId/units/:unitId/children',
    {
      config: { permission: 'coverage:read', audit: { resource: 'child', action: 'search' } },
      schema: {
        operationId: 'getRoundRoster',
        tags,
        summary: "A unit's round roster: each child with status, zone, flags and steps",
        description:
          'Every child the round covers in the unit (enrolled during the window, in the age ' +
          'range), with the current assessment in the round, unacknowledged flags and open and ' +
          'overdue steps. One request for a whole group: what a round starts from.',
        params: RoundUnitParamsSchema,
        response: {
          200: jsonResponse(RoundRosterSchema, "The unit's roster for the round"),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, unitRoster, request.params),
  );
};
