import { type Insertable, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { RoundsTable } from '../../db/schema.js';
import { birthBounds } from '../../domain/rounds.js';

const columns = [
  'id',
  'name',
  'window_start',
  'window_end',
  'ruler_version_id',
  'unit_kinds',
  'unit_ids',
  'min_age_months',
  'max_age_months',
  'created_at',
  'updated_at',
] as const;

export function insertRound(db: Executor, values: Insertable<RoundsTable>) {
  return db.insertInto('rounds').values(values).returning(columns).executeTakeFirstOrThrow();
}

/** Rounds by ids and window start (inclusive bounds), ordered by window start. */
export function findRoundsIn(
  db: Executor,
  municipalityId: string,
  f: { roundIds?: string[] | undefined; from?: string | undefined; to?: string | undefined },
) {
  let query = db
    .selectFrom('rounds')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .orderBy('window_start')
    .orderBy('id');
  if (f.roundIds?.length) query = query.where('id', 'in', f.roundIds);
  if (f.from) query = query.where('window_start', '>=', f.from);
  if (f.to) query = query.where('window_start', '<=', f.to);
  return query.execute();
}

export function findRound(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('rounds')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export type RoundRow = NonNullable<Awaited<ReturnType<typeof findRound>>>;

/** Newest window first; keyset on (window_start, id) descending; fetches `limit + 1`. */
export function listRounds(
  db: Executor,
  municipalityId: string,
  page: {
    after?: { windowStart: string; id: string } | undefined;
    limit: number;
    /** Only rounds covering this unit (by its id and kind). */
    unit?: { id: string; kind: string } | undefined;
    /** Only rounds with this status on `today`. */
    status?: { is: 'upcoming' | 'open' | 'closed'; today: string } | undefined;
  },
) {
  let query = db
    .selectFrom('rounds')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .orderBy('window_start', 'desc')
    .orderBy('id', 'desc')
    .limit(page.limit + 1);
  if (page.unit) {
    const { id, kind } = page.unit;
    query = query
      .where(sql<boolean>`(cardinality(unit_ids) = 0 OR ${id}::uuid = ANY (unit_ids))`)
      .where(sql<boolean>`(cardinality(unit_kinds) = 0 OR ${kind}::text = ANY (unit_kinds))`);
  }
  if (page.status) {
    const { is, today } = page.status;
    if (is === 'upcoming') query = query.where('window_start', '>', today);
    if (is === 'closed') query = query.where('window_end', '<', today);
    if (is === 'open') {
      query = query.where('window_start', '<=', today).where('window_end', '>=', today);
    }
  }
  if (page.after) {
    const { windowStart, id } = page.after;
    query = query.where(sql<boolean>`(window_start, id) < (${windowStart}::date, ${id}::uuid)`);
  }
  return query.execute();
}

/**
 * The (child, unit) pairs a round covers: enrolled in a covered unit at some point of the window,
 * in the age range. `assessed` says whether the child has a current assessment in the round
 * for that unit. Computed in SQL, grouped per unit by the callers.
 */
function coveredPairs(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  unitIds?: readonly string[],
) {
  const { bornFrom, bornTo } = birthBounds(round);
  let query = db
    .selectFrom('enrolments as e')
    .innerJoin('units as u', 'u.id', 'e.unit_id')
    .innerJoin('children as c', 'c.id', 'e.child_id')
    .where('e.municipality_id', '=', municipalityId)
    .where('e.start_date', '<=', round.window_end)
    .where((eb) =>
      eb.or([eb('e.end_date', 'is', null), eb('e.end_date', '>=', round.window_start)]),
    );
  if (round.unit_ids.length > 0) query = query.where('u.id', 'in', round.unit_ids);
  if (round.unit_kinds.length > 0) query = query.where('u.kind', 'in', round.unit_kinds);
  if (unitIds && unitIds.length > 0) query = query.where('u.id', 'in', unitIds);
  if (bornTo) query = query.where('c.birth_date', '<=', bornTo);
  if (bornFrom) query = query.where('c.birth_date', '>', bornFrom);
  return query;
}

/** Covered (child, unit) pairs with whether the child has a current assessment there. */
function pairsWithStatus(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  unitIds?: readonly string[],
) {
  return coveredPairs(db, municipalityId, round, unitIds).select([
    'e.unit_id',
    'e.child_id',
    sql<boolean>`EXISTS (
      SELECT 1 FROM assessments a
      WHERE a.child_id = e.child_id AND a.unit_id = e.unit_id
        AND a.round_id = ${round.id} AND a.status = 'current')`.as('assessed'),
  ]);
}

/** Every unit the round covers (also those with nobody enrolled), with its counts. */
export function coverageByUnit(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  unitIds?: readonly string[],
) {
  let query = db
    .selectFrom('units as u')
    .leftJoin(pairsWithStatus(db, municipalityId, round, unitIds).as('p'), 'p.unit_id', 'u.id')
    .where('u.municipality_id', '=', municipalityId);
  if (round.unit_ids.length > 0) query = query.where('u.id', 'in', round.unit_ids);
  if (round.unit_kinds.length > 0) query = query.where('u.kind', 'in', round.unit_kinds);
  if (unitIds && unitIds.length > 0) query = query.where('u.id', 'in', unitIds);
  return query
    .select([
      'u.id as unit_id',
      'u.name as unit_name',
      'u.kind as unit_kind',
      sql<number>`count(DISTINCT p.child_id)::int`.as('enrolled'),
      sql<number>`count(DISTINCT p.child_id) FILTER (WHERE p.assessed)::int`.as('assessed'),
    ])
    .groupBy(['u.id', 'u.name', 'u.kind'])
    .orderBy('u.name')
    .orderBy('u.id')
    .execute();
}

/**
 * Distinct children over all covered units: a child who moved between two covered units during
 * the window counts once, and as assessed when assessed in either.
 */
export async function coverageTotal(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  unitIds?: readonly string[],
): Promise<{ enrolled: number; assessed: number }> {
  return db
    .selectFrom(pairsWithStatus(db, municipalityId, round, unitIds).as('p'))
    .select([
      sql<number>`count(DISTINCT p.child_id)::int`.as('enrolled'),
      sql<number>`count(DISTINCT p.child_id) FILTER (WHERE p.assessed)::int`.as('assessed'),
    ])
    .executeTakeFirstOrThrow();
}

export function missingChildren(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  unitId: string,
) {
  return coveredPairs(db, municipalityId, round, [unitId])
    .where(({ not, exists, selectFrom }) =>
      not(
        exists(
          selectFrom('assessments as a')
            .select('a.id')
            .whereRef('a.child_id', '=', 'e.child_id')
            .whereRef('a.unit_id', '=', 'e.unit_id')
            .where('a.round_id', '=', round.id)
            .where('a.status', '=', 'current'),
        ),
      ),
    )
    .select(['c.id', 'c.external_ref', 'c.given_name', 'c.family_name', 'c.birth_date'])
    .distinct()
    .orderBy('c.family_name')
    .orderBy('c.given_name')
    .orderBy('c.id')
    .execute();
}

/**
 * The round's children in one unit with where each stands: the current assessment in the round
 * (if any), the child's raised flags and open (and overdue) steps in that unit. One query, so a
 * round of 25 children is one request.
 */
export function rosterOfUnit(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  unitId: string,
  today: string,
) {
  return (
    db
      .selectFrom(
        coveredPairs(db, municipalityId, round, [unitId])
          .select(['e.child_id', 'e.unit_id'])
          .distinct()
          .as('p'),
      )
      .innerJoin('children as c', 'c.id', 'p.child_id')
      .leftJoin('assessments as a', (join) =>
        join
          .onRef('a.child_id', '=', 'p.child_id')
          .onRef('a.unit_id', '=', 'p.unit_id')
          .on('a.round_id', '=', round.id)
          .on('a.status', '=', 'current'),
      )
      // The child's open steps in the unit, and how many are overdue: one pass over its steps.
      .leftJoinLateral(
        (eb) =>
          eb
            .selectFrom('recommendation_steps as s')
            .whereRef('s.child_id', '=', 'p.child_id')
            .whereRef('s.unit_id', '=', 'p.unit_id')
            .where('s.status', '=', 'open')
            .select([
              sql<number>`count(*)::int`.as('open_steps'),
              sql<number>`(count(*) FILTER (WHERE s.due_on < ${today}::date))::int`.as(
                'overdue_steps',
              ),
            ])
            .as('st'),
        (join) => join.onTrue(),
      )
      .select([
        'c.id',
        'c.external_ref',
        'c.given_name',
        'c.family_name',
        'c.birth_date',
        'c.sex',
        'a.id as assessment_id',
        'a.lineage_id',
        'a.version',
        'a.zone',
        'a.assessed_on',
        sql<number>`(SELECT count(*)::int FROM flags f
        WHERE f.child_id = p.child_id AND f.unit_id = p.unit_id
          AND f.acknowledged_at IS NULL)`.as('open_flags'),
        sql<number>`st.open_steps`.as('open_steps'),
        sql<number>`st.overdue_steps`.as('overdue_steps'),
      ])
      .orderBy('c.family_name')
      .orderBy('c.given_name')
      .orderBy('c.id')
      .execute()
  );
}
