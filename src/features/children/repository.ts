import { type ExpressionBuilder, type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { involvesSocialWork, owesFollowUp, type SocialWorker } from '../shared/visibility.js';

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
] as const;

export interface ChildRow {
  id: string;
  external_ref: string;
  given_name: string | null;
  family_name: string | null;
  birth_date: string;
  sex: string | null;
  has_cpr: boolean;
  created_at: Date;
  created_at_key: string;
  updated_at: Date;
}

/**
 * Limits a children query to what the principal may see. Unit-limited keys: the children
 * enrolled in their units today, and those their units still owe follow-up (an open step).
 * Social workers: the children whose follow-up involves social work.
 */
export function visibleChildren(v: Visibility) {
  return (_eb: ExpressionBuilder<DB, 'children'>) => {
    const conditions: RawBuilder<boolean>[] = [];
    if (v.unitIds.length > 0) {
      conditions.push(sql<boolean>`(EXISTS (
          SELECT 1 FROM enrolments visible
          WHERE visible.child_id = children.id
            AND visible.unit_id = ANY(${sql.val(v.unitIds)}::uuid[])
            AND (visible.end_date IS NULL OR visible.end_date >= ${v.today})
        )${v.enrolledOnly ? sql`` : sql` OR ${owesFollowUp('children.id', v.unitIds)}`})`);
    }
    if (v.involvedWith) {
      conditions.push(involvesSocialWork('children.id', v.municipalityId, v.involvedWith));
    }
    return conditions.length === 0
      ? sql<boolean>`true`
      : sql<boolean>`(${sql.join(conditions, sql` AND `)})`;
  };
}

export interface Visibility {
  municipalityId: string;
  unitIds: readonly string[];
  today: string;
  /** Social workers: only the children this social worker is involved with. */
  involvedWith?: SocialWorker | undefined;
  /** Unit-limited keys: only children enrolled in their units now, not those they owe steps. */
  enrolledOnly?: boolean;
}

export function findChild(
  db: Executor,
  v: Visibility,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ChildRow | undefined> {
  let query = db
    .selectFrom('children')
    .select(childColumns)
    .where('children.municipality_id', '=', v.municipalityId)
    .where('children.id', '=', id)
    .where(visibleChildren(v));
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export function findChildByCprHash(
  db: Executor,
  v: Visibility,
  cprHash: Uint8Array,
): Promise<ChildRow | undefined> {
  return db
    .selectFrom('children')
    .select(childColumns)
    .where('children.municipality_id', '=', v.municipalityId)
    .where('children.cpr_hash', '=', Buffer.from(cprHash))
    .where(visibleChildren(v))
    .executeTakeFirst();
}

export interface NewChild {
  municipality_id: string;
  external_ref: string;
  given_name: string | null;
  family_name: string | null;
  birth_date: string;
  sex: string | null;
  cpr_hash: Buffer | null;
}

export async function insertChild(db: Executor, values: NewChild): Promise<ChildRow> {
  const { id } = await db
    .insertInto('children')
    .values(values)
    .returning('id')
    .executeTakeFirstOrThrow();
  return (await findChild(
    db,
    { municipalityId: values.municipality_id, unitIds: [], today: '' },
    id,
  )) as ChildRow;
}

export async function updateChild(
  db: Executor,
  municipalityId: string,
  id: string,
  changes: Partial<Omit<NewChild, 'municipality_id'>>,
  now: Date,
): Promise<ChildRow> {
  await db
    .updateTable('children')
    .set({ ...changes, updated_at: now })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .execute();
  return (await findChild(db, { municipalityId, unitIds: [], today: '' }, id)) as ChildRow;
}

export interface ChildFilter {
  unitId?: string | undefined;
  /** Born strictly after this date. */
  bornAfter?: string | undefined;
  /** Born on or before this date. */
  bornTo?: string | undefined;
  q?: string | undefined;
  asOf: string;
  after?: { createdAt: string; id: string } | undefined;
  limit: number;
}

const escapeLike = (s: string) => s.replace(/[\\%_]/g, (c) => `\\${c}`);

/** Oldest first on (created_at, id), keyset-paginated; fetches `limit + 1`. */
export function listChildren(db: Executor, v: Visibility, f: ChildFilter): Promise<ChildRow[]> {
  let query = db
    .selectFrom('children')
    .select(childColumns)
    .where('children.municipality_id', '=', v.municipalityId)
    .where(visibleChildren(v))
    .orderBy('children.created_at')
    .orderBy('children.id')
    .limit(f.limit + 1);
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
    const { createdAt, id } = f.after;
    query = query.where(
      sql<boolean>`(children.created_at, children.id) > (${createdAt}::timestamptz, ${id}::uuid)`,
    );
  }
  return query.execute();
}

// Enrolments

const enrolmentColumns = [
  'enrolments.id',
  'enrolments.child_id',
  'enrolments.unit_id',
  'units.kind as unit_kind',
  'enrolments.start_date',
  'enrolments.end_date',
  'enrolments.created_at',
  'enrolments.updated_at',
] as const;

export interface EnrolmentRow {
  id: string;
  child_id: string;
  unit_id: string;
  unit_kind: string;
  start_date: string;
  end_date: string | null;
  created_at: Date;
  updated_at: Date;
}

export function listEnrolments(
  db: Executor,
  municipalityId: string,
  childId: string,
): Promise<EnrolmentRow[]> {
  return db
    .selectFrom('enrolments')
    .innerJoin('units', 'units.id', 'enrolments.unit_id')
    .select(enrolmentColumns)
    .where('enrolments.municipality_id', '=', municipalityId)
    .where('enrolments.child_id', '=', childId)
    .orderBy('enrolments.start_date')
    .orderBy('enrolments.id')
    .execute();
}

export async function insertEnrolment(
  db: Executor,
  values: {
    municipality_id: string;
    child_id: string;
    unit_id: string;
    start_date: string;
    end_date: string | null;
  },
): Promise<string> {
  const { id } = await db
    .insertInto('enrolments')
    .values(values)
    .returning('id')
    .executeTakeFirstOrThrow();
  return id;
}

export async function updateEnrolment(
  db: Executor,
  municipalityId: string,
  id: string,
  changes: { start_date?: string; end_date?: string | null },
  now: Date,
): Promise<void> {
  await db
    .updateTable('enrolments')
    .set({ ...changes, updated_at: now })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .execute();
}
