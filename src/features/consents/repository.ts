import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { ConsentsTable } from '../../db/schema.js';

/** Every column of a consent: the sharing rules read the row as stored (see consentFacts). */
const consentColumns = [
  'id',
  'municipality_id',
  'child_id',
  'purpose',
  'recipient_unit_id',
  'recipient_role',
  'categories',
  'given_by_name',
  'given_by_relation',
  'given_on',
  'valid_until',
  'revoked_at',
  'revoked_by_name',
  'revoked_by_relation',
  'revocation_reason',
  'revocation_recorded_by',
  'created_at',
  'created_by',
  'confirmation_required',
  'confirmed_at',
  'confirmed_by',
] as const;

export type ConsentRow = Selectable<ConsentsTable>;

export function insertConsent(db: Executor, values: Insertable<ConsentsTable>) {
  return db
    .insertInto('consents')
    .values(values)
    .returning(consentColumns)
    .executeTakeFirstOrThrow();
}

/** The child's consents, oldest first. */
export function listConsents(db: Executor, municipalityId: string, childId: string) {
  return db
    .selectFrom('consents')
    .select(consentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export function findConsent(
  db: Executor,
  municipalityId: string,
  childId: string,
  id: string,
  options: { lock?: boolean } = {},
) {
  let query = db
    .selectFrom('consents')
    .select(consentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export function revokeConsent(
  db: Executor,
  municipalityId: string,
  id: string,
  revocation: {
    at: Date;
    byName: string;
    byRelation: string;
    reason: string;
    recordedBy: string;
  },
) {
  return db
    .updateTable('consents')
    .set({
      revoked_at: revocation.at,
      revoked_by_name: revocation.byName,
      revoked_by_relation: revocation.byRelation,
      revocation_reason: revocation.reason,
      revocation_recorded_by: revocation.recordedBy,
    })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(consentColumns)
    .executeTakeFirstOrThrow();
}

/** Records the confirmation of a consent that waits for one. */
export function confirmConsent(
  db: Executor,
  municipalityId: string,
  id: string,
  confirmation: { at: Date; by: string },
) {
  return db
    .updateTable('consents')
    .set({ confirmed_at: confirmation.at, confirmed_by: confirmation.by })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(consentColumns)
    .executeTakeFirstOrThrow();
}

/** The end dates of the child's enrolments in the given units (null: open-ended). */
export async function endDatesInUnits(
  db: Executor,
  municipalityId: string,
  childId: string,
  unitIds: readonly string[],
): Promise<(string | null)[]> {
  if (unitIds.length === 0) return [];
  const rows = await db
    .selectFrom('enrolments')
    .select('end_date')
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .where('unit_id', 'in', unitIds)
    .execute();
  return rows.map((r) => r.end_date);
}
