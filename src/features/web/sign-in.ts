import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { OidcConfig } from '../../config.js';
import { jsonResponse } from '../../http/schemas.js';

const SignInOptionsSchema = z
  .object({
    oidc: z
      .object({
        issuer: z.string().describe("The identity provider's issuer (OpenID discovery base)."),
        clientId: z.string().describe("The staff app's client id at the identity provider."),
        scope: z.string(),
        resource: z
          .string()
          .nullable()
          .describe("The API's audience, to ask for as an RFC 8707 resource indicator."),
      })
      .nullable()
      .describe('Null: sign-in with the identity provider is not set up (API keys only).'),
  })
  .meta({ id: 'SignInOptions' });

/**
 * How a browser client signs in: public, like discovery documents (it names no secret). The
 * staff app reads it before anyone has signed in.
 */
export const signInRoutes: FastifyPluginAsyncZod<{ oidc?: OidcConfig | undefined }> = async (
  app,
  { oidc },
) => {
  const options = {
    oidc:
      oidc?.app !== undefined
        ? {
            issuer: oidc.issuer,
            clientId: oidc.app.clientId,
            scope: oidc.app.scope,
            resource: oidc.audience,
          }
        : null,
  };
  app.get(
    '/sign-in-options',
    {
      schema: {
        operationId: 'getSignInOptions',
        tags: ['Sign-in'],
        summary: "How a browser client signs in (the identity provider and the app's client id)",
        response: { 200: jsonResponse(SignInOptionsSchema, 'The sign-in options') },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'no-cache');
      return options;
    },
  );
};
