import { ForbiddenError, NotFoundError } from '../errors.js';
import type { Role } from './permissions.js';

/** Who is calling: an API key, or a user signed in with the municipality's identity provider. */
export interface Principal {
  kind: 'api_key' | 'oidc';
  /** The key's row id (not its public key id), or the identity provider's subject (`sub`). */
  id: string;
  role: Role;
  /** Null only for platform administrators. */
  municipalityId: string | null;
  /** Units the principal is limited to; empty means the whole municipality. */
  unitIds: string[];
  /** The request the principal acts in: every audit entry names it. */
  requestId: string;
}

/** A principal as authentication establishes it, before it is tied to a request. */
export type Identity = Omit<Principal, 'requestId'>;

/**
 * The municipality a principal may act in, given the municipality named in the path.
 * A principal of another municipality gets 404 (never 403), so ids of other tenants reveal
 * nothing; platform administrators may act in any municipality.
 */
export function requireMunicipalityAccess(principal: Principal, municipalityId: string): string {
  if (principal.role === 'platform_admin' || principal.municipalityId === municipalityId) {
    return municipalityId;
  }
  throw new NotFoundError('municipality', municipalityId);
}

/** The municipality a municipality-bound principal acts in (platform administrators have none). */
export function municipalityOf(principal: Principal): string {
  if (!principal.municipalityId) {
    throw new ForbiddenError('Platform administrator keys do not act inside a municipality.');
  }
  return principal.municipalityId;
}

/** Whether the principal is limited to named units (then it sees only their children). */
export function isUnitLimited(principal: Principal): boolean {
  return principal.unitIds.length > 0;
}

/** 403 unless the principal may act in the unit (principals without unit limits always may). */
export function requireUnitAccess(principal: Principal, unitId: string): void {
  if (isUnitLimited(principal) && !principal.unitIds.includes(unitId)) {
    throw new ForbiddenError(`This key is limited to other units than ${unitId}.`);
  }
}
