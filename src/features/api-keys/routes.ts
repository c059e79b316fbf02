import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { actions, isAllowed } from '../../auth/permissions.js';
import { principalOf } from '../../auth/plugin.js';
import { BadRequestError } from '../../errors.js';
import { AUTHENTICATED_PROBLEMS, problemResponses } from '../../http/problem.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import { MunicipalityParamsSchema } from '../municipalities/schemas.js';
import {
  ApiKeyListQuerySchema,
  ApiKeyPageSchema,
  ApiKeyParamsSchema,
  ApiKeySchema,
  CreateApiKeySchema,
  CreatedApiKeySchema,
  MeSchema,
} from './schemas.js';
import {
  createApiKey,
  getApiKey,
  listMunicipalityApiKeys,
  revokeMunicipalityApiKey,
} from './service.js';

const tags = ['API keys'];

export const apiKeyRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { database, now }) => {
  app.get(
    '/v1/me',
    {
      config: { permission: 'session:read' },
      schema: {
        operationId: 'getMe',
        tags,
        summary: 'Who am I: the calling key or signed-in user and what it may do',
        security: bearerSecurity,
        response: { 200: MeSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        principal,
        permissions: actions.filter((action) => isAllowed(principal.role, action)),
      };
    },
  );

  app.post(
    '/v1/municipalities/:municipalityId/api-keys',
    {
      config: { permission: 'api_key:manage' },
      schema: {
        operationId: 'createApiKey',
        tags,
        summary: 'Create an API key',
        description:
          'Municipality administrators create keys for their own municipality, platform ' +
          'administrators for any. The secret `token` is in this response only.',
        security: bearerSecurity,
        params: MunicipalityParamsSchema,
        body: CreateApiKeySchema,
        response: {
          201: CreatedApiKeySchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      if (request.headers['idempotency-key'] !== undefined) {
        // A replay would have to return the secret again, and secrets are never stored.
        throw new BadRequestError(
          'Idempotency-Key is not supported when creating API keys: the secret is shown once ' +
            'and never stored. If a creation may have failed, list the keys and revoke strays.',
          [{ path: 'header.idempotency-key', message: 'not supported here', code: 'unsupported' }],
        );
      }
      const { municipalityId } = request.params;
      const key = await createApiKey(
        database,
        principalOf(request),
        municipalityId,
        request.body,
        now(),
      );
      return reply
        .status(201)
        .header('location', `/v1/municipalities/${municipalityId}/api-keys/${key.id}`)
        .header('cache-control', 'no-store')
        .send(key);
    },
  );

  app.get(
    '/v1/municipalities/:municipalityId/api-keys',
    {
      config: { permission: 'api_key:manage' },
      schema: {
        operationId: 'listApiKeys',
        tags,
        summary: "List a municipality's API keys",
        description: 'Newest first. Secrets are never returned.',
        security: bearerSecurity,
        params: MunicipalityParamsSchema,
        querystring: ApiKeyListQuerySchema,
        response: {
          200: ApiKeyPageSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) =>
      listMunicipalityApiKeys(
        database,
        principalOf(request),
        request.params.municipalityId,
        request.query,
        now(),
      ),
  );

  app.get(
    '/v1/municipalities/:municipalityId/api-keys/:apiKeyId',
    {
      config: { permission: 'api_key:manage' },
      schema: {
        operationId: 'getApiKey',
        tags,
        summary: 'Get an API key',
        security: bearerSecurity,
        params: ApiKeyParamsSchema,
        response: { 200: ApiKeySchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) =>
      getApiKey(
        database,
        principalOf(request),
        request.params.municipalityId,
        request.params.apiKeyId,
        now(),
      ),
  );

  app.post(
    '/v1/municipalities/:municipalityId/api-keys/:apiKeyId/revoke',
    {
      config: { permission: 'api_key:manage' },
      schema: {
        operationId: 'revokeApiKey',
        tags,
        summary: 'Revoke an API key',
        description: 'Takes effect at once. The key stays listed, with its revocation recorded.',
        security: bearerSecurity,
        params: ApiKeyParamsSchema,
        response: {
          200: ApiKeySchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409),
        },
      },
    },
    async (request) =>
      revokeMunicipalityApiKey(
        database,
        principalOf(request),
        request.params.municipalityId,
        request.params.apiKeyId,
        now(),
      ),
  );
};
