import type { Transaction } from 'kysely';
import { actions, isAllowed } from '../../auth/permissions.js';
import type { DB } from '../../db/schema.js';
import type { Session } from '../../request/session.js';

/** Who is calling, and what it may do. */
export async function getMe(session: Session, _trx: Transaction<DB>, _input: null) {
  const { principal } = session;
  return {
    principal,
    permissions: actions.filter((action) => isAllowed(principal.role, action)),
  };
}
