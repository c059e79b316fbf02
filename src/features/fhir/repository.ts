import { sql } from 'kysely';
import { type StepAudience, stepsVisibleTo } from '../../access/policy.js';
import type { Executor } from '../../db/database.js';
import { stepColumns } from '../recommendations/repository.js';

/** Ruler versions visible to the municipality (the presets and its own), with their ruler. */
export function rulerVersions(db: Executor, municipalityId: string, ids?: readonly string[]) {
  if (ids?.length === 0) return Promise.resolve([]);
  let query = db
    .selectFrom('ruler_versions as rv')
    .innerJoin('rulers as r', 'r.id', 'rv.ruler_id')
    .select([
      'rv.id',
      'r.key',
      'r.name',
      'r.description',
      'rv.municipality_id',
      'rv.version',
      'rv.definition',
      'rv.created_at',
    ])
    .where((eb) =>
      eb.or([eb('rv.municipality_id', 'is', null), eb('rv.municipality_id', '=', municipalityId)]),
    )
    .orderBy('r.key')
    .orderBy('rv.version');
  if (ids) query = query.where('rv.id', 'in', ids);
  return query.execute();
}
export type RulerVersionRow = Awaited<ReturnType<typeof rulerVersions>>[number];

/** When an assessment or step last changed: made, or its status changed. */
const assessmentChanged = sql<Date>`coalesce(a.status_changed_at, a.created_at)`;
const stepChanged = sql<Date>`coalesce(recommendation_steps.status_changed_at, recommendation_steps.created_at)`;

/**
 * One page of the municipality's assessments for the bulk export, by id: the current and the
 * withdrawn versions (a superseded one lives on as its correction, the same FHIR resource), with
 * `since` only those changed at or after it.
 */
export function assessmentPage(
  db: Executor,
  municipalityId: string,
  page: { after?: string | undefined; since?: string | undefined; limit: number },
) {
  let query = db
    .selectFrom('assessments as a')
    .select([
      'a.id',
      'a.lineage_id',
      'a.version',
      'a.status',
      'a.child_id',
      'a.unit_id',
      'a.ruler_version_id',
      'a.assessed_on',
      'a.overall_level',
      'a.answers',
      'a.red_flags',
      'a.zone',
      'a.score',
      assessmentChanged.as('changed_at'),
    ])
    .where('a.municipality_id', '=', municipalityId)
    .where('a.status', 'in', ['current', 'withdrawn'])
    .orderBy('a.id')
    // A literal, as elsewhere: a parameterised LIMIT keeps the statement from being prepared.
    .limit(sql.lit(page.limit));
  if (page.after) query = query.where('a.id', '>', page.after);
  if (page.since)
    query = query.where(assessmentChanged, '>=', sql<Date>`${page.since}::timestamptz`);
  return query.execute();
}
export type AssessmentPageRow = Awaited<ReturnType<typeof assessmentPage>>[number];

/**
 * Steps with the lineage of the assessment that made them (a Task's focus): those `audience`
 * may see, of one child or one page of the municipality's (by id, `since` as for assessments).
 */
export function stepPage(
  db: Executor,
  audience: StepAudience,
  page: {
    childId?: string | undefined;
    after?: string | undefined;
    since?: string | undefined;
    limit?: number | undefined;
  },
) {
  let query = db
    .selectFrom('recommendation_steps')
    .innerJoin('recommendations as rec', 'rec.id', 'recommendation_steps.recommendation_id')
    .innerJoin('assessments as a', 'a.id', 'rec.assessment_id')
    .select([...stepColumns, 'a.lineage_id as assessment_lineage_id', stepChanged.as('changed_at')])
    .where(stepsVisibleTo(audience))
    .orderBy('recommendation_steps.id');
  if (page.childId) query = query.where('recommendation_steps.child_id', '=', page.childId);
  if (page.after) query = query.where('recommendation_steps.id', '>', page.after);
  if (page.since) query = query.where(stepChanged, '>=', sql<Date>`${page.since}::timestamptz`);
  if (page.limit !== undefined) query = query.limit(sql.lit(page.limit));
  return query.execute();
}
export type StepPageRow = Awaited<ReturnType<typeof stepPage>>[number];
