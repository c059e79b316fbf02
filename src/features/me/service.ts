import type { Transaction } from 'kysely';
import { actions, isAllowed } from '../../auth/permissions.js';
import type { DB } from '../../db/schema.js';
import { ForbiddenError } from '../../errors.js';
import type { Session } from '../../request/session.js';

/** Who is calling, and what it may do. */
export async function getMe(session: Session, _trx: Transaction<DB>, _input: null) {
  const { principal } = session;
  // Parents have no `session:read`: they never get here.
  if (principal.kind === 'parent' || principal.role === 'parent') {
    throw new ForbiddenError('A parent session has no /v1/me.');
  }
  const { childId: _, ...rest } = principal;
  return {
    principal: { ...rest, kind: principal.kind, role: principal.role },
    permissions: actions.filter((action) => isAllowed(principal.role, action)),
  };
}
