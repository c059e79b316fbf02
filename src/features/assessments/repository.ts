import { type InferResult, type Insertable, type Selectable, sql } from 'kysely';
import { type Visibility, visibleChildren } from '../../access/policy.js';
import type { Executor } from '../../db/database.js';
import type { AssessmentsTable } from '../../db/schema.js';

/**
 * Whether the parents were informed is one fact with one record: the inform-parents step of the
 * assessment's recommendation when it has one (done = informed, with when and by whom), else
 * what was recorded with the assessment. The step comes with every assessment read here.
 */
function selectAssessments(db: Executor) {
  return db
    .selectFrom('assessments as a')
    .innerJoin('ruler_versions as rv', 'rv.id', 'a.ruler_version_id')
    .innerJoin('rulers as r', 'r.id', 'rv.ruler_id')
    .leftJoinLateral(
      (eb) =>
        eb
          .selectFrom('recommendations as rec')
          .innerJoin('recommendation_steps as ips', 'ips.recommendation_id', 'rec.id')
          .select(['ips.id', 'ips.status', 'ips.status_changed_at', 'ips.status_changed_by'])
          .whereRef('rec.assessment_id', '=', 'a.id')
          .where('ips.purpose', '=', sql.lit('inform_parents'))
          .orderBy(sql`ips.status = 'done'`, 'desc')
          .orderBy('ips.status_changed_at')
          .orderBy('ips.position')
          // A literal: a parameterised LIMIT would keep every assessment read from being
          // prepared (src/db/postgres.ts), and planning is most of PostgreSQL's time here.
          .limit(sql.lit(1))
          .as('inform'),
      (join) => join.onTrue(),
    )
    .select([
      'a.id',
      'a.lineage_id',
      'a.version',
      'a.status',
      'a.child_id',
      'a.unit_id',
      'a.round_id',
      'a.ruler_version_id',
      'r.key as ruler_key',
      'rv.version as ruler_version',
      'a.assessed_on',
      'a.raters',
      'a.overall_level',
      'a.answers',
      'a.red_flags',
      'a.justification',
      'a.parents_informed',
      'inform.id as inform_step_id',
      'inform.status as inform_step_status',
      'inform.status_changed_at as inform_step_changed_at',
      'inform.status_changed_by as inform_step_changed_by',
      'a.child_perspective',
      'a.zone',
      'a.level',
      'a.score',
      'a.explanation',
      'a.supersedes_id',
      (eb) =>
        eb
          .selectFrom('assessments as next')
          .select('next.id')
          .whereRef('next.supersedes_id', '=', 'a.id')
          .as('superseded_by_id'),
      'a.correction_reason',
      'a.withdrawal_reason',
      'a.created_at',
      'a.created_by',
      'a.status_changed_at',
      'a.status_changed_by',
    ]);
}

/** An assessment as read: with its ruler's key and version and its inform-parents step. */
export type AssessmentRow = InferResult<ReturnType<typeof selectAssessments>>[number];

export interface AssessmentScope {
  municipalityId: string;
  /** A unit-limited principal sees only assessments made in its units. */
  unitIds: readonly string[];
}

function scoped(db: Executor, s: AssessmentScope) {
  let query = selectAssessments(db).where('a.municipality_id', '=', s.municipalityId);
  if (s.unitIds.length > 0) query = query.where('a.unit_id', 'in', s.unitIds);
  return query;
}

export function findAssessment(
  db: Executor,
  s: AssessmentScope,
  id: string,
): Promise<AssessmentRow | undefined> {
  return scoped(db, s).where('a.id', '=', id).executeTakeFirst();
}

export function lockAssessment(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('assessments')
    .select(['id', 'status', 'child_id', 'unit_id', 'round_id', 'version', 'lineage_id'])
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export function assessmentHistory(
  db: Executor,
  s: AssessmentScope,
  lineageId: string,
): Promise<AssessmentRow[]> {
  return scoped(db, s).where('a.lineage_id', '=', lineageId).orderBy('a.version').execute();
}

/**
 * A child's assessments in date order; with `visibleTo`, none unless that visibility sees the
 * child (checked in the same statement).
 */
export function childTimeline(
  db: Executor,
  s: AssessmentScope,
  childId: string,
  includeWithdrawn: boolean,
  visibleTo?: Visibility,
): Promise<AssessmentRow[]> {
  let query = scoped(db, s);
  if (visibleTo) {
    query = query.where((eb) =>
      eb.exists(
        eb
          .selectFrom('children')
          .select('children.id')
          .where('children.municipality_id', '=', visibleTo.municipalityId)
          .whereRef('children.id', '=', 'a.child_id')
          .where(visibleChildren(visibleTo)),
      ),
    );
  }
  return query
    .where('a.child_id', '=', childId)
    .where('a.status', 'in', includeWithdrawn ? ['current', 'withdrawn'] : ['current'])
    .orderBy('a.assessed_on')
    .orderBy('a.created_at')
    .orderBy('a.id')
    .execute();
}

export type NewAssessment = Omit<
  Insertable<AssessmentsTable>,
  'raters' | 'answers' | 'explanation'
> & {
  raters: unknown;
  answers: unknown;
  explanation: unknown;
};

/** Inserts an assessment; returns the stored row (its defaults: created_at). */
export function insertAssessment(
  db: Executor,
  values: NewAssessment,
): Promise<Selectable<AssessmentsTable>> {
  return db
    .insertInto('assessments')
    .values({
      ...values,
      raters: sql`${JSON.stringify(values.raters)}::jsonb`,
      answers: sql`${JSON.stringify(values.answers)}::jsonb`,
      explanation: sql`${JSON.stringify(values.explanation)}::jsonb`,
    })
    .returningAll()
    .executeTakeFirstOrThrow();
}

export async function setStatus(
  db: Executor,
  municipalityId: string,
  id: string,
  change: { status: 'superseded' | 'withdrawn'; by: string; at: Date; reason?: string },
): Promise<void> {
  await db
    .updateTable('assessments')
    .set({
      status: change.status,
      status_changed_at: change.at,
      status_changed_by: change.by,
      ...(change.reason ? { withdrawal_reason: change.reason } : {}),
    })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .execute();
}

/** The current assessment of a child in a round and unit, if any. */
export function currentInRound(
  db: Executor,
  childId: string,
  unitId: string,
  roundId: string,
): Promise<{ id: string } | undefined> {
  return db
    .selectFrom('assessments')
    .select('id')
    .where('child_id', '=', childId)
    .where('unit_id', '=', unitId)
    .where('round_id', '=', roundId)
    .where('status', '=', 'current')
    .executeTakeFirst();
}

export interface AssessmentListFilter {
  roundId?: string | undefined;
  unitId?: string | undefined;
  childId?: string | undefined;
  /** Made or changed (superseded, withdrawn) at or after this instant. */
  updatedSince?: string | undefined;
  after?: { at: string; id: string } | undefined;
  limit: number;
}

/** When an assessment last changed: made, or superseded or withdrawn (its only changes). */
const changedAt = sql<Date>`coalesce(a.status_changed_at, a.created_at)`;

/**
 * Assessments in change order (changed at, id) of the children `visibleTo` sees, within the
 * scope's units; every version and status. Fetches `limit + 1`.
 */
export function listChangedAssessments(
  db: Executor,
  s: AssessmentScope,
  visibleTo: Visibility,
  f: AssessmentListFilter,
) {
  let query = scoped(db, s)
    .select(sql<string>`coalesce(a.status_changed_at, a.created_at)::text`.as('changed_at_key'))
    .where((eb) =>
      eb.exists(
        eb
          .selectFrom('children')
          .select('children.id')
          .where('children.municipality_id', '=', visibleTo.municipalityId)
          .whereRef('children.id', '=', 'a.child_id')
          .where(visibleChildren(visibleTo)),
      ),
    )
    .orderBy(changedAt)
    .orderBy('a.id')
    .limit(f.limit + 1);
  if (f.roundId) query = query.where('a.round_id', '=', f.roundId);
  if (f.unitId) query = query.where('a.unit_id', '=', f.unitId);
  if (f.childId) query = query.where('a.child_id', '=', f.childId);
  if (f.updatedSince) {
    query = query.where(changedAt, '>=', sql<Date>`${f.updatedSince}::timestamptz`);
  }
  if (f.after) {
    const { at, id } = f.after;
    query = query.where(sql<boolean>`(${changedAt}, a.id) > (${at}::timestamptz, ${id}::uuid)`);
  }
  return query.execute();
}
