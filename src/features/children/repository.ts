import { type Insertable, sql } from 'kysely';
import { type Visibility, visibleChildren } from '../../access/policy.js';
import type { Executor } from '../../db/database.js';
import type { ChildrenTable, EnrolmentsTable } from '../../db/schema.js';

const childColumns = [
  'children.id',
  'children.external_ref',
  'children.given_name',
  'children.family_name',
  'children.birth_date',
  'children.sex',
  sql<boolean>`children.cpr_hash IS NOT NULL`.as('has_cpr'),
  'children.created_at',
  sql<string>`children.created_at::text`.as('created_at_key'),
  'children.updated_at',
  sql<string>`children.updated_at::text`.as('updated_at_key'),
] as const;

export function findChild(
  db: Executor,
  v: Visibility,
  id: string,
  options: { lock?: boolean } = {},
) {
  let query = db
    .selectFrom('children')
    .select(childColumns)
    .where('children.municipality_id', '=', v.municipalityId)
    .where('children.id', '=', id)
    .where(visibleChildren(v));
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export function findChildByCprHash(db: Executor, v: Visibility, cprHash: Uint8Array) {
  return db
    .selectFrom('children')
    .select(childColumns)
    .where('children.municipality_id', '=', v.municipalityId)
    .where('children.cpr_hash', '=', Buffer.from(cprHash))
    .where(visibleChildren(v))
    .executeTakeFirst();
}

export type ChildRow = NonNullable<Awaited<ReturnType<typeof findChild>>>;

export type NewChild = Insertable<ChildrenTable>;

export function insertChild(db: Executor, values: NewChild): Promise<ChildRow> {
  return db.insertInto('children').values(values).returning(childColumns).executeTakeFirstOrThrow();
}

export function updateChild(
  db: Executor,
  municipalityId: string,
  id: string,
  changes: Partial<Omit<NewChild, 'municipality_id'>>,
  now: Date,
): Promise<ChildRow> {
  return db
    .updateTable('children')
    .set({ ...changes, updated_at: now })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(childColumns)
    .executeTakeFirstOrThrow();
}

export interface ChildFilter {
  unitId?: string | undefined;
  /** Born strictly after this date. */
  bornAfter?: string | undefined;
  /** Born on or before this date. */
  bornTo?: string | undefined;
  q?: string | undefined;
  /** Exactly this external ref. */
  externalRef?: string | undefined;
  /** Changed at or after this instant: the list is then in change order (updated_at, id). */
  updatedSince?: string | undefined;
  asOf: string;
  /** The key of the last row of the previous page: created_at, or updated_at with updatedSince. */
  after?: { at: string; id: string } | undefined;
  limit: number;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/**
 * Oldest first on (created_at, id), or with `updatedSince` on (updated_at, id); keyset-paginated;
 * fetches `limit + 1`.
 */
export function listChildren(db: Executor, v: Visibility, f: ChildFilter) {
  const byChange = f.updatedSince !== undefined;
  let query = db
    .selectFrom('children')
    .select(childColumns)
    .where('children.municipality_id', '=', v.municipalityId)
    .where(visibleChildren(v))
    .orderBy(byChange ? 'children.updated_at' : 'children.created_at')
    .orderBy('children.id')
    .limit(f.limit + 1);
  if (f.updatedSince) {
    query = query.where('children.updated_at', '>=', sql<Date>`${f.updatedSince}::timestamptz`);
  }
  if (f.externalRef) query = query.where('children.external_ref', '=', f.externalRef);
  if (f.unitId) {
    const { unitId, asOf } = f;
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('enrolments as e')
          .select('e.id')
          .whereRef('e.child_id', '=', 'children.id')
          .where('e.unit_id', '=', unitId)
          .where('e.start_date', '<=', asOf)
          .where((e) => e.or([e('e.end_date', 'is', null), e('e.end_date', '>=', asOf)])),
      ),
    );
  }
  if (f.bornAfter) query = query.where('children.birth_date', '>', f.bornAfter);
  if (f.bornTo) query = query.where('children.birth_date', '<=', f.bornTo);
  if (f.q) {
    const contains = `%${escapeLike(f.q)}%`;
    const prefix = `${escapeLike(f.q)}%`;
    query = query.where((eb) =>
      eb.or([
        eb('children.given_name', 'ilike', contains),
        eb('children.family_name', 'ilike', contains),
        eb(
          sql`coalesce(children.given_name, '') || ' ' || coalesce(children.family_name, '')`,
          'ilike',
          contains,
        ),
        eb('children.external_ref', 'like', prefix),
      ]),
    );
  }
  if (f.after) {
    const { at, id } = f.after;
    query = query.where(
      byChange
        ? sql<boolean>`(children.updated_at, children.id) > (${at}::timestamptz, ${id}::uuid)`
        : sql<boolean>`(children.created_at, children.id) > (${at}::timestamptz, ${id}::uuid)`,
    );
  }
  return query.execute();
}

// A child's enrolments: what the child's own rules need, and what every feature about the child
// reads (the enrolments/ feature changes them).

export const enrolmentColumns = [
  'enrolments.id',
  'enrolments.child_id',
  'enrolments.unit_id',
  'enrolments.start_date',
  'enrolments.end_date',
  'enrolments.created_at',
  'enrolments.updated_at',
] as const;

/** The child's enrolments with their units' kinds, oldest first. */
export function listEnrolments(db: Executor, municipalityId: string, childId: string) {
  return db
    .selectFrom('enrolments')
    .innerJoin('units', 'units.id', 'enrolments.unit_id')
    .select([...enrolmentColumns, 'units.kind as unit_kind'])
    .where('enrolments.municipality_id', '=', municipalityId)
    .where('enrolments.child_id', '=', childId)
    .orderBy('enrolments.start_date')
    .orderBy('enrolments.id')
    .execute();
}

export type EnrolmentRow = Awaited<ReturnType<typeof listEnrolments>>[number];

/** A new enrolment (without its unit's kind: the caller knows the unit). */
export function insertEnrolment(db: Executor, values: Insertable<EnrolmentsTable>) {
  return db
    .insertInto('enrolments')
    .values(values)
    .returning(enrolmentColumns)
    .executeTakeFirstOrThrow();
}
