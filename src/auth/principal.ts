import { NotFoundError } from '../http/errors.js';
import type { Role } from './permissions.js';

/** Who is calling: an API key today, an identity-provider subject later. */
export interface Principal {
  kind: 'api_key';
  /** The key's row id (not its public key id). */
  id: string;
  role: Role;
  /** Null only for platform administrators. */
  municipalityId: string | null;
  /** Units the principal is limited to; empty means the whole municipality. */
  unitIds: string[];
}

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
