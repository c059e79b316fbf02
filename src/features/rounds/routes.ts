import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import {
  CreateRoundSchema,
  RoundCoverageSchema,
  RoundListQuerySchema,
  RoundPageSchema,
  RoundParamsSchema,
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
} from './service.js';

const tags = ['Rounds'];

export const roundRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database, now } = deps;

  app.post(
    '/v1/rounds',
    {
      config: { permission: 'round:write' },
      schema: {
        operationId: 'createRound',
        tags,
        summary: 'Plan a screening round',
        description: 'A window, the ruler version to use, and the units and ages it covers.',
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        body: CreateRoundSchema,
        response: {
          201: RoundSchema,
          ...problemResponses(...CREATE_PROBLEMS),
        },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) => createRound(trx, principal, request.body, now()),
        (created) => `/v1/rounds/${created.id}`,
      ),
  );

  app.get(
    '/v1/rounds',
    {
      config: { permission: 'round:read' },
      schema: {
        operationId: 'listRounds',
        tags,
        summary: 'List rounds, newest window first',
        security: bearerSecurity,
        querystring: RoundListQuerySchema,
        response: { 200: RoundPageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => listMunicipalityRounds(database, principalOf(request), request.query, now()),
  );

  app.get(
    '/v1/rounds/:roundId',
    {
      config: { permission: 'round:read' },
      schema: {
        operationId: 'getRound',
        tags,
        summary: 'Get a round',
        security: bearerSecurity,
        params: RoundParamsSchema,
        response: { 200: RoundSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getRound(database, principalOf(request), request.params.roundId, now()),
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
        security: bearerSecurity,
        params: RoundParamsSchema,
        response: { 200: RoundCoverageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => roundCoverage(database, principalOf(request), request.params.roundId),
  );

  app.get(
    '/v1/rounds/:roundId/coverage/:unitId',
    {
      config: { permission: 'coverage:read', audit: { resource: 'coverage', action: 'search' } },
      schema: {
        operationId: 'getUnitCoverage',
        tags,
        summary: "One unit's coverage, with the children still missing",
        security: bearerSecurity,
        params: RoundUnitParamsSchema,
        response: { 200: UnitCoverageSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) =>
      unitCoverage(database, principalOf(request), request.params.roundId, request.params.unitId),
  );
};
