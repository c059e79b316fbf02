import type { Role } from './permissions.js';

/** Who is calling: an API key, or a user signed in with the municipality's identity provider. */
export interface Principal {
  kind: 'api_key' | 'oidc' | 'parent';
  /**
   * The key's row id (not its public key id), the identity provider's subject (`sub`), or a
   * parent session's id.
   */
  id: string;
  role: Role;
  /** Null only for platform administrators. */
  municipalityId: string | null;
  /** Units the principal is limited to; empty means the whole municipality. */
  unitIds: string[];
  /**
   * A parent session's one child (role `parent`): the database limits its transactions to that
   * child's rows (migrations/20261215_090000_parent_view.ts).
   */
  childId?: string;
  /** The request the principal acts in: every audit entry names it. */
  requestId: string;
}

/** A principal as authentication establishes it, before it is tied to a request. */
export type Identity = Omit<Principal, 'requestId'>;
