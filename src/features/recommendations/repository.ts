import type { Selectable } from 'kysely';
import { type StepAudience, stepsVisibleTo } from '../../access/policy.js';
import type { Executor } from '../../db/database.js';
import type { RecommendationStepsTable } from '../../db/schema.js';

/** A step as the services read it (the row without its tenant and creation time). */
export type StepRow = Omit<Selectable<RecommendationStepsTable>, 'municipality_id' | 'created_at'>;

export const stepColumns = [
  'recommendation_steps.id',
  'recommendation_steps.recommendation_id',
  'recommendation_steps.child_id',
  'recommendation_steps.unit_id',
  'recommendation_steps.zone',
  'recommendation_steps.position',
  'recommendation_steps.step_key',
  'recommendation_steps.title',
  'recommendation_steps.description',
  'recommendation_steps.involve',
  'recommendation_steps.responsible',
  'recommendation_steps.mandatory',
  'recommendation_steps.legal_reference',
  'recommendation_steps.purpose',
  'recommendation_steps.source',
  'recommendation_steps.due_on',
  'recommendation_steps.status',
  'recommendation_steps.status_reason',
  'recommendation_steps.status_changed_at',
  'recommendation_steps.status_changed_by',
] as const;

/** The same columns, unqualified: for RETURNING. */
export const stepReturning = stepColumns.map(
  (c) => c.slice('recommendation_steps.'.length) as Unqualified<(typeof stepColumns)[number]>,
);
type Unqualified<C> = C extends `recommendation_steps.${infer N}` ? N : never;

export function stepsOfRecommendations(
  db: Executor,
  a: StepAudience,
  recommendationIds: readonly string[],
): Promise<StepRow[]> {
  if (recommendationIds.length === 0) return Promise.resolve([]);
  return db
    .selectFrom('recommendation_steps')
    .select(stepColumns)
    .where(stepsVisibleTo(a))
    .where('recommendation_steps.recommendation_id', 'in', recommendationIds)
    .orderBy('recommendation_steps.recommendation_id')
    .orderBy('recommendation_steps.position')
    .execute();
}

export function findStep(
  db: Executor,
  a: StepAudience,
  id: string,
  options: { lock?: boolean } = {},
): Promise<StepRow | undefined> {
  let query = db
    .selectFrom('recommendation_steps')
    .select(stepColumns)
    .where(stepsVisibleTo(a))
    .where('recommendation_steps.id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export const recommendationColumns = [
  'id',
  'assessment_id',
  'child_id',
  'unit_id',
  'guide_version_id',
  'zone',
  'previous_zone',
  'zone_changed',
  'flags',
  'summary',
  'created_at',
] as const;

export function findRecommendation(
  db: Executor,
  municipalityId: string,
  by: { id: string } | { assessmentId: string },
) {
  return db
    .selectFrom('recommendations')
    .select(recommendationColumns)
    .where('municipality_id', '=', municipalityId)
    .where('id' in by ? 'id' : 'assessment_id', '=', 'id' in by ? by.id : by.assessmentId)
    .executeTakeFirst();
}

export type RecommendationRow = NonNullable<Awaited<ReturnType<typeof findRecommendation>>>;

/** The child's current assessments (as facts for the trajectory rules), oldest first. */
export function currentAssessmentFacts(db: Executor, municipalityId: string, childId: string) {
  return db
    .selectFrom('assessments as a')
    .innerJoin('ruler_versions as rv', 'rv.id', 'a.ruler_version_id')
    .innerJoin('rulers as r', 'r.id', 'rv.ruler_id')
    .leftJoin('rounds as ro', 'ro.id', 'a.round_id')
    .select([
      'a.id',
      'a.assessed_on',
      'a.round_id',
      'ro.window_start as round_start',
      'r.key as ruler_key',
      'rv.definition',
      'a.zone',
      'a.level',
      'a.red_flags',
    ])
    .where('a.municipality_id', '=', municipalityId)
    .where('a.child_id', '=', childId)
    .where('a.status', '=', 'current')
    .orderBy('a.assessed_on')
    .orderBy('a.id')
    .execute();
}

export type FactsRow = Awaited<ReturnType<typeof currentAssessmentFacts>>[number];

/**
 * The municipality's rounds on a ruler (any version of it) that started on or before `upTo`:
 * the candidates for a child's series of rounds, before checking which covered the child.
 */
export function roundsOnRuler(
  db: Executor,
  municipalityId: string,
  rulerKey: string,
  upTo: string,
) {
  return db
    .selectFrom('rounds as ro')
    .innerJoin('ruler_versions as rv', 'rv.id', 'ro.ruler_version_id')
    .innerJoin('rulers as r', 'r.id', 'rv.ruler_id')
    .select([
      'ro.id',
      'ro.window_start',
      'ro.window_end',
      'ro.unit_ids',
      'ro.unit_kinds',
      'ro.min_age_months',
      'ro.max_age_months',
    ])
    .where('ro.municipality_id', '=', municipalityId)
    .where('r.key', '=', rulerKey)
    .where('ro.window_start', '<=', upTo)
    .orderBy('ro.window_start')
    .orderBy('ro.id')
    .execute();
}

/**
 * What the round-coverage rule needs of a child, in one statement: its birth date on every
 * row, with one row per enrolment (the unit's kind; null columns when it has none).
 */
export function coverageOfChild(db: Executor, municipalityId: string, childId: string) {
  return db
    .selectFrom('children')
    .leftJoin('enrolments', (join) =>
      join
        .onRef('enrolments.child_id', '=', 'children.id')
        .on('enrolments.municipality_id', '=', municipalityId),
    )
    .leftJoin('units', 'units.id', 'enrolments.unit_id')
    .select([
      'children.birth_date',
      'enrolments.unit_id',
      'units.kind as unit_kind',
      'enrolments.start_date',
      'enrolments.end_date',
    ])
    .where('children.municipality_id', '=', municipalityId)
    .where('children.id', '=', childId)
    .orderBy('enrolments.start_date')
    .orderBy('enrolments.id')
    .execute();
}

export type CoverageRow = Awaited<ReturnType<typeof coverageOfChild>>[number];

/** The done or not-applicable steps of an assessment's recommendation (to carry over). */
export function finishedStepsOf(
  db: Executor,
  municipalityId: string,
  assessmentId: string,
): Promise<StepRow[]> {
  return db
    .selectFrom('recommendation_steps')
    .innerJoin('recommendations', 'recommendations.id', 'recommendation_steps.recommendation_id')
    .select(stepColumns)
    .where('recommendations.municipality_id', '=', municipalityId)
    .where('recommendations.assessment_id', '=', assessmentId)
    .where('recommendation_steps.municipality_id', '=', municipalityId)
    .where('recommendation_steps.status', 'in', ['done', 'not_applicable'])
    .orderBy('recommendation_steps.position')
    .execute();
}
