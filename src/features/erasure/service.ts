import { randomUUID } from 'node:crypto';
import { type Selectable, sql, type Transaction } from 'kysely';
import { visibleChildren } from '../../access/policy.js';
import { childKey } from '../../audit/audit.js';
import type { DB, ErasuresTable } from '../../db/schema.js';
import { NotFoundError } from '../../errors.js';
import type { Session } from '../../request/session.js';
import type { Erasure } from './schemas.js';

const ERASURE_COLUMNS = ['id', 'tombstone', 'erased_at', 'source', 'deleted'] as const;
export type ErasureRow = Pick<Selectable<ErasuresTable>, (typeof ERASURE_COLUMNS)[number]>;

const toErasure = (row: ErasureRow, alreadyErased: boolean): Erasure => ({
  erasureId: row.id,
  tombstone: row.tombstone,
  erasedAt: row.erased_at.toISOString(),
  source: row.source,
  alreadyErased,
  deleted: row.deleted,
});

/**
 * Erases one child in the caller's transaction: every row about the child is deleted by the
 * database function (the audit log's entries about it tombstoned), and the erasure is
 * registered; returns the register row. The erasure's own audit entry is the caller's to write,
 * under the returned tombstone (never the raw id: `erasureAuditSubject`); `deleted` counts it
 * with the tombstoned audit entries.
 */
export async function eraseInTransaction(
  trx: Transaction<DB>,
  municipalityId: string,
  childId: string,
  how: { reason: string; source: 'request' | 'retention'; by: string | null },
): Promise<ErasureRow> {
  const tombstone = `erased-${randomUUID()}`;
  // Deleted with the child (ON DELETE CASCADE), so counted before.
  const consents = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM consents WHERE municipality_id = ${municipalityId} AND child_id = ${childId}
  `.execute(trx);
  const selfReports = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM self_reports WHERE municipality_id = ${municipalityId} AND child_id = ${childId}
  `.execute(trx);
  const { rows } = await sql<{ deleted: Record<string, number> }>`
    SELECT lineal_erase_child(${childId}::uuid, ${tombstone}) AS deleted
  `.execute(trx);
  const counts = rows[0]?.deleted ?? {};
  const deleted = {
    ...counts,
    // The erasure's own entry, written under the tombstone by the caller.
    audit_entries_tombstoned: (counts.audit_entries_tombstoned ?? 0) + 1,
    consents: consents.rows[0]?.n ?? 0,
    self_reports: selfReports.rows[0]?.n ?? 0,
  };
  return trx
    .insertInto('erasures')
    .values({
      municipality_id: municipalityId,
      child_key: childKey(municipalityId, childId),
      tombstone,
      reason: how.reason,
      source: how.source,
      erased_by: how.by,
      deleted: JSON.stringify(deleted),
    })
    .returning(ERASURE_COLUMNS)
    .executeTakeFirstOrThrow();
}

/** The audit subject of an erasure: the erased child, by its tombstone only. */
export const erasureAuditSubject = (tombstone: string) => ({
  resourceId: tombstone,
  childId: null,
  childTombstone: tombstone,
});

/**
 * Erases a child on request (municipality administrator, with a reason). Idempotent: erasing an
 * already erased child answers with the first erasure's report.
 */
export async function eraseChild(
  session: Session,
  trx: Transaction<DB>,
  input: { childId: string; reason: string },
): Promise<Erasure> {
  const { childId, reason } = input;
  const m = session.municipalityId;
  const earlier = await trx
    .selectFrom('erasures')
    .select(ERASURE_COLUMNS)
    .where('municipality_id', '=', m)
    .where('child_key', '=', childKey(m, childId))
    .executeTakeFirst();
  if (earlier) {
    // Asking again is a use too: recorded under the tombstone, never the raw id.
    session.audit({ ...erasureAuditSubject(earlier.tombstone), criteria: { alreadyErased: true } });
    return toErasure(earlier, true);
  }
  const child = await trx
    .selectFrom('children')
    .select('children.id')
    .where('children.municipality_id', '=', m)
    .where('children.id', '=', childId)
    .where(visibleChildren(session.access.children()))
    .forUpdate()
    .executeTakeFirst();
  if (!child) throw new NotFoundError('child', childId);
  const { principal } = session;
  const row = await eraseInTransaction(trx, m, childId, {
    reason,
    source: 'request',
    by: `${principal.kind}:${principal.id}`,
  });
  session.audit(erasureAuditSubject(row.tombstone));
  return toErasure(row, false);
}
