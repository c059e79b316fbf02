import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sql } from 'kysely';
import type { OidcConfig } from '../config.js';
import type { Database } from '../db/database.js';
import { ForbiddenError, UnauthorizedError } from '../errors.js';
import type { ApiKeyCache } from './api-key-cache.js';
import { parseToken, tokenMatches } from './api-key-token.js';
import { createOidcVerifier, looksLikeJwt, type OidcVerifier } from './oidc.js';
import { parseSessionToken } from './parent-token.js';
import { type Action, isAllowed, type Role } from './permissions.js';
import type { Identity, Principal } from './principal.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /** The permission-table action this route performs; required on every `/v1` route. */
    permission?: Action;
    /**
     * A `/v1` route anyone may call, without a principal (the parent link exchange): it must
     * do its own checks, and is rate-limited by client address.
     */
    public?: true;
  }
  interface FastifyRequest {
    /** Set by authentication on every route that names a permission. */
    principal: Principal | null;
  }
}

/** `last_used_at` is written at most this often per key, to keep reads free of writes. */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * The identity behind an `Authorization: Bearer` header: an API key, or — when `oidc` is given —
 * an access token (JWT) of the municipality's identity provider. Anything else is a 401.
 */
export async function authenticate(
  database: Database,
  keys: ApiKeyCache,
  authorization: string | undefined,
  now: Date,
  oidc?: OidcVerifier,
): Promise<Identity> {
  if (!authorization) {
    throw new UnauthorizedError(
      oidc
        ? 'Send an API key or an access token as `Authorization: Bearer <token>`.'
        : 'Send an API key as `Authorization: Bearer <key>`.',
    );
  }
  const [scheme, token, ...rest] = authorization.trim().split(/\s+/);
  if (scheme?.toLowerCase() !== 'bearer' || !token || rest.length > 0) {
    throw new UnauthorizedError(
      'The Authorization header must be `Bearer <key>`.',
      'invalid_token',
    );
  }
  if (token.startsWith('lnps_')) return authenticateParent(database, token, now);
  const parsed = parseToken(token);
  if (!parsed) {
    if (token.startsWith('lnl_')) {
      throw new UnauthorizedError('The API key is malformed.', 'invalid_token');
    }
    if (oidc) return oidc.authenticate(database, token, now);
    throw new UnauthorizedError(
      looksLikeJwt(token)
        ? 'The bearer token is not a valid API key (sign-in with an identity provider is not configured).'
        : 'The bearer token is not a valid API key.',
      'invalid_token',
    );
  }
  // Kept after its first look-up; its revocation is checked by the request's transaction.
  const row = await keys.find(database, parsed.keyId);
  if (!row || !tokenMatches(token, row.key_hash)) {
    throw new UnauthorizedError('The API key is not valid.', 'invalid_token');
  }
  if (row.revoked_at) throw new UnauthorizedError('The API key is revoked.', 'invalid_token');
  if (row.expires_at && row.expires_at <= now) {
    throw new UnauthorizedError('The API key has expired.', 'invalid_token');
  }
  if (!row.last_used_at || now.getTime() - row.last_used_at.getTime() >= TOUCH_INTERVAL_MS) {
    await keys.touch(database, row, now);
  }
  return {
    kind: 'api_key',
    id: row.id,
    role: row.role as Role,
    municipalityId: row.municipality_id,
    unitIds: row.unit_ids,
  };
}

/** A parent session's token (issue 18): the parent of one child, until the session ends. */
async function authenticateParent(database: Database, token: string, now: Date): Promise<Identity> {
  const parsed = parseSessionToken(token);
  if (!parsed)
    throw new UnauthorizedError('The parent session token is malformed.', 'invalid_token');
  const { rows } = await sql<{
    token_hash: Uint8Array;
    municipality_id: string;
    child_id: string;
    expires_at: Date;
    revoked_at: Date | null;
  }>`SELECT * FROM lineal_find_parent_session(${parsed.id}::uuid)`.execute(database.db);
  const row = rows[0];
  if (!row || !tokenMatches(token, row.token_hash)) {
    throw new UnauthorizedError('The parent session is not valid.', 'invalid_token');
  }
  if (row.revoked_at || row.expires_at <= now) {
    throw new UnauthorizedError(
      'The parent session has ended: open a new link from the unit.',
      'invalid_token',
    );
  }
  return {
    kind: 'parent',
    id: parsed.id,
    role: 'parent',
    municipalityId: row.municipality_id,
    unitIds: [],
    childId: row.child_id,
  };
}

export function authorize(principal: Identity, action: Action): void {
  if (!isAllowed(principal.role, action)) {
    throw new ForbiddenError(`The role ${principal.role} may not perform ${action}.`);
  }
}

/**
 * Authentication and authorisation for every route whose config names a `permission`: the key
 * or access token is checked in `onRequest`, before the body is read, so unauthenticated
 * callers cost little. With `oidc`, access tokens of that identity provider are accepted too.
 * Registering a `/v1` route without a permission fails at start-up.
 */
export const authPlugin = fp(
  async (
    app: FastifyInstance,
    opts: {
      database: Database;
      /** The instance's verified keys (shared with the runner, which drops revoked ones). */
      apiKeys: ApiKeyCache;
      now: () => Date;
      oidc?: OidcConfig | undefined;
    },
  ) => {
    const oidc = opts.oidc ? createOidcVerifier(opts.oidc) : undefined;
    app.decorateRequest('principal', null);

    app.addHook('onRoute', (route) => {
      if (route.url.startsWith('/v1') && !route.config?.permission && !route.config?.public) {
        throw new Error(`Route ${route.method} ${route.url} must declare config.permission`);
      }
    });

    app.addHook('onRequest', async (request: FastifyRequest) => {
      const action = request.routeOptions.config.permission;
      if (!action) return;
      const principal = await authenticate(
        opts.database,
        opts.apiKeys,
        request.headers.authorization,
        opts.now(),
        oidc,
      );
      request.principal = { ...principal, requestId: request.id };
    });
    // Authorised after the per-principal rate limit (a route-level onRequest hook, which runs
    // after this plugin's): a flood of forbidden requests is limited like any other.
    app.addHook('preParsing', async (request: FastifyRequest) => {
      const action = request.routeOptions.config.permission;
      if (!action || !request.principal) return;
      authorize(request.principal, action);
    });
  },
  { name: 'lineal-auth', dependencies: ['lineal-errors'] },
);
