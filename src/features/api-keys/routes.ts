import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { BadRequestError } from '../../errors.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { MunicipalityParamsSchema } from '../municipalities/schemas.js';
import {
  ApiKeyListQuerySchema,
  ApiKeyPageSchema,
  ApiKeyParamsSchema,
  ApiKeySchema,
  CreateApiKeySchema,
  CreatedApiKeySchema,
} from './schemas.js';
import {
  createApiKey,
  getApiKey,
  listMunicipalityApiKeys,
  revokeMunicipalityApiKey,
} from './service.js';

const tags = ['API keys'];

/** Keys of the municipality in the path: `scope: 'path'` answers 404 to other municipalities. */
export const apiKeyRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  app.post(
    '/v1/municipalities/:municipalityId/api-keys',
    {
      config: { permission: 'api_key:manage', scope: 'path' },
      schema: {
        operationId: 'createApiKey',
        tags,
        summary: 'Create an API key',
        description:
          'Municipality administrators create keys for their own municipality, platform ' +
          'administrators for any. The secret `token` is in this response only.',
        params: MunicipalityParamsSchema,
        body: CreateApiKeySchema,
        response: {
          201: jsonResponse(
            CreatedApiKeySchema,
            'The key created, with its secret (shown only this once)',
          ),
          ...problemResponses(404, 422),
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
      reply.header('cache-control', 'no-store');
      return runner.create(
        request,
        reply,
        createApiKey,
        { municipalityId, body: request.body },
        { location: (key) => `/v1/municipalities/${municipalityId}/api-keys/${key.id}` },
      );
    },
  );

  app.get(
    '/v1/municipalities/:municipalityId/api-keys',
    {
      config: { permission: 'api_key:manage', scope: 'path' },
      schema: {
        operationId: 'listApiKeys',
        tags,
        summary: "List a municipality's API keys",
        description: 'Newest first. Secrets are never returned.',
        params: MunicipalityParamsSchema,
        querystring: ApiKeyListQuerySchema,
        response: {
          200: jsonResponse(
            ApiKeyPageSchema,
            "One page of the municipality's API keys (never their secrets)",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, listMunicipalityApiKeys, {
        municipalityId: request.params.municipalityId,
        query: request.query,
      }),
  );

  app.get(
    '/v1/municipalities/:municipalityId/api-keys/:apiKeyId',
    {
      config: { permission: 'api_key:manage', scope: 'path' },
      schema: {
        operationId: 'getApiKey',
        tags,
        summary: 'Get an API key',
        params: ApiKeyParamsSchema,
        response: {
          200: jsonResponse(ApiKeySchema, 'The API key (never its secret)'),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, getApiKey, {
        municipalityId: request.params.municipalityId,
        id: request.params.apiKeyId,
      }),
  );

  app.post(
    '/v1/municipalities/:municipalityId/api-keys/:apiKeyId/revoke',
    {
      config: { permission: 'api_key:manage', scope: 'path' },
      schema: {
        operationId: 'revokeApiKey',
        tags,
        summary: 'Revoke an API key',
        description: 'Takes effect at once. The key stays listed, with its revocation recorded.',
        params: ApiKeyParamsSchema,
        response: {
          200: jsonResponse(
            ApiKeySchema,
            'The key, revoked (it stops working at once on every instance)',
          ),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, revokeMunicipalityApiKey, {
        municipalityId: request.params.municipalityId,
        id: request.params.apiKeyId,
      }),
  );
};
