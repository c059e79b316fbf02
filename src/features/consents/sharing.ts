// TEMPORARY (issue 13 migration): the old sharing helpers, for the callers not yet converted to
// the session (assessments/, recommendations/). Everything here lives in src/access/policy.ts
// now; delete this file when those two import from there.
import type { Transaction } from 'kysely';
import {
  AccessPolicy,
  type Judged,
  NoSharingBasisError,
  seesOwnDutiesOnly,
  withheldSummary,
} from '../../access/policy.js';
import type { Principal } from '../../auth/principal.js';
import type { DB } from '../../db/schema.js';
import type { DataCategory, SharingContext } from '../../domain/sharing.js';

export { NoSharingBasisError, seesOwnDutiesOnly, withheldSummary };

/** See AccessPolicy.sharing. */
export function loadSharing(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  today: string,
): Promise<SharingContext> {
  return new AccessPolicy(principal, today).sharing(trx, childId);
}

/** See AccessPolicy.judge (the principal's municipality is `municipalityId`). */
export function judge<T>(
  trx: Transaction<DB>,
  municipalityId: string,
  ctx: SharingContext,
  values: readonly T[],
  locate: (value: T) => { unitId: string; date: string },
  category: Exclude<DataCategory, 'notes'>,
): Promise<{ shown: Judged<T>[]; withheld: Judged<T>[] }> {
  const principal = { municipalityId, role: ctx.viewer.role, unitIds: ctx.viewer.unitIds };
  return new AccessPolicy(principal as Principal, ctx.today).judge(
    trx,
    ctx,
    values,
    locate,
    category,
  );
}
