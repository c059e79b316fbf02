import { createRemoteJWKSet, errors, type JWTPayload, type JWTVerifyGetKey, jwtVerify } from 'jose';
import { sql } from 'kysely';
import type { OidcConfig } from '../config.js';
import { type Database, municipalityScope } from '../db/database.js';
import { ProblemError, UnauthorizedError } from '../errors.js';
import { municipalityWideRoles, type Role, roles, unitLimitedRoles } from './permissions.js';
import type { Identity } from './principal.js';

/** Roles an identity provider may grant: every role but platform administration. */
const grantableRoles: readonly Role[] = roles.filter((role) => role !== 'platform_admin');

/** As many units as an API key may be limited to. */
const MAX_UNITS = 100;

const UUID_PATTERN = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const CODE_PATTERN = /^[0-9]{3}$/;
/** Three base64url segments: the compact serialisation of a JWS. */
const JWT_PATTERN = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;

/** Whether a bearer token has the shape of a JWT (not whether it is valid). */
export function looksLikeJwt(token: string): boolean {
  return JWT_PATTERN.test(token);
}

const invalid = (detail: string) => new UnauthorizedError(detail, 'invalid_token');

/** The identity provider's keys could not be fetched: not the caller's fault, so not a 401. */
class IdentityProviderUnavailableError extends ProblemError {
  constructor(cause: unknown) {
    super(
      503,
      'identity-provider-unavailable',
      'Service Unavailable',
      "The identity provider's signing keys could not be fetched; try again later.",
    );
    this.cause = cause;
  }
}

/** Verifies OIDC access tokens against the issuer's JWKS and maps them to an identity. */
export interface OidcVerifier {
  authenticate(database: Database, token: string, now: Date): Promise<Identity>;
}

/**
 * A verifier for one issuer. The JWKS is fetched on first use and cached (keys for at most
 * ten minutes; a token with an unknown `kid` refetches it at most every 30 seconds), so key
 * rotation at the identity provider needs no restart.
 */
export function createOidcVerifier(
  config: OidcConfig,
  keys: JWTVerifyGetKey = createRemoteJWKSet(new URL(config.jwksUrl), {
    cooldownDuration: 30_000,
    cacheMaxAge: 10 * 60_000,
    timeoutDuration: 5_000,
  }),
): OidcVerifier {
  return {
    async authenticate(database, token, now) {
      const claims = await verifyToken(config, keys, token, now);
      return identityFromClaims(database, config, claims);
    },
  };
}

async function verifyToken(
  config: OidcConfig,
  keys: JWTVerifyGetKey,
  token: string,
  now: Date,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(token, keys, {
      issuer: config.issuer,
      audience: config.audience,
      algorithms: [...config.algorithms],
      clockTolerance: config.clockToleranceSeconds,
      currentDate: now,
      requiredClaims: ['exp', 'sub'],
    });
    return payload;
  } catch (error) {
    throw verificationProblem(error);
  }
}

/** What was wrong with the token, in words safe to show (the token is never echoed). */
function verificationProblem(error: unknown): ProblemError {
  if (error instanceof errors.JWTExpired) return invalid('The access token has expired.');
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'iss':
        return invalid('The access token was issued by another issuer.');
      case 'aud':
        return invalid('The access token is meant for another audience.');
      case 'nbf':
        return invalid('The access token is not valid yet (nbf).');
      default:
        return invalid(
          error.reason === 'missing'
            ? `The access token has no ${error.claim} claim.`
            : `The access token's ${error.claim} claim is invalid.`,
        );
    }
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return invalid("The access token's signature algorithm is not allowed.");
  }
  if (
    error instanceof errors.JWSSignatureVerificationFailed ||
    error instanceof errors.JWKSMultipleMatchingKeys
  ) {
    return invalid("The access token's signature is not valid.");
  }
  if (error instanceof errors.JWKSNoMatchingKey) {
    return invalid("The access token is not signed with any of the identity provider's keys.");
  }
  if (error instanceof errors.JWSInvalid || error instanceof errors.JWTInvalid) {
    return invalid('The access token is malformed.');
  }
  // Timeouts, non-200 answers, malformed key sets, unreachable hosts: the JWKS is unavailable.
  return new IdentityProviderUnavailableError(error);
}

/** The municipality, role and units the token's claims grant, checked against the database. */
async function identityFromClaims(
  database: Database,
  config: OidcConfig,
  claims: JWTPayload,
): Promise<Identity> {
  const subject = claims.sub;
  // jose checks presence; principal ids are stored in uuid columns (created_by and the like).
  if (!subject || !UUID_PATTERN.test(subject)) {
    throw invalid("The access token's sub claim must be a UUID.");
  }

  const role = claims[config.claims.role];
  if (role === undefined) {
    throw invalid(`The access token has no role claim (${config.claims.role}).`);
  }
  if (typeof role !== 'string' || !(roles as readonly string[]).includes(role)) {
    throw invalid(`The access token's role claim (${config.claims.role}) is not a known role.`);
  }
  const granted = role as Role;
  if (!grantableRoles.includes(granted)) {
    throw invalid(`The role ${role} cannot be granted by the identity provider.`);
  }

  const unitIds = unitClaim(claims[config.claims.units], config.claims.units);
  if (unitLimitedRoles.includes(granted) && unitIds.length === 0) {
    throw invalid(
      `The role ${role} must be limited to at least one unit (claim ${config.claims.units}).`,
    );
  }
  if (municipalityWideRoles.includes(granted) && unitIds.length > 0) {
    throw invalid(
      `The role ${role} acts for the whole municipality and cannot be limited to units.`,
    );
  }

  const claimed = claims[config.claims.municipality];
  // An issuer may speak only for the municipalities it is bound to (when configured): whoever
  // can set claims at the identity provider must not reach another municipality's data.
  if (
    config.municipalities &&
    config.municipalities.length > 0 &&
    !(typeof claimed === 'string' && config.municipalities.includes(claimed))
  ) {
    throw invalid("The access token's municipality is not one this identity provider may name.");
  }
  const municipalityId = await resolveMunicipality(database, claimed, config.claims.municipality);
  if (unitIds.length > 0) {
    const found = await database.transaction(municipalityScope(municipalityId), (trx) =>
      trx
        .selectFrom('units')
        .select('id')
        .where('municipality_id', '=', municipalityId)
        .where('id', 'in', unitIds)
        .execute(),
    );
    if (found.length !== unitIds.length) {
      throw invalid(
        `The access token names ${unitIds.length - found.length} unit(s) that are not in its municipality.`,
      );
    }
  }

  return { kind: 'oidc', id: subject.toLowerCase(), role: granted, municipalityId, unitIds };
}

/** The unit ids of the units claim: absent = none; one id or an array of distinct ids. */
function unitClaim(value: unknown, name: string): string[] {
  if (value === undefined || value === null) return [];
  const list = typeof value === 'string' ? [value] : value;
  if (
    !Array.isArray(list) ||
    !list.every((id) => typeof id === 'string' && UUID_PATTERN.test(id))
  ) {
    throw invalid(`The access token's units claim (${name}) must be an array of unit ids.`);
  }
  const ids = [...new Set(list.map((id: string) => id.toLowerCase()))];
  if (ids.length > MAX_UNITS) {
    throw invalid(`The access token's units claim (${name}) names more than ${MAX_UNITS} units.`);
  }
  return ids;
}

/** The id of the municipality the claim names, by id or by its 3-digit code. */
async function resolveMunicipality(
  database: Database,
  value: unknown,
  name: string,
): Promise<string> {
  if (value === undefined) {
    throw invalid(`The access token has no municipality claim (${name}).`);
  }
  if (typeof value !== 'string' || !(UUID_PATTERN.test(value) || CODE_PATTERN.test(value))) {
    throw invalid(
      `The access token's municipality claim (${name}) must be a municipality id or 3-digit code.`,
    );
  }
  const { rows } = await sql<{ id: string | null }>`
    SELECT lineal_find_municipality(${value}) AS id
  `.execute(database.db);
  const id = rows[0]?.id;
  if (!id) throw invalid("The access token's municipality is unknown.");
  return id;
}
