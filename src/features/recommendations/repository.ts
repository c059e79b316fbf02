import { type ExpressionBuilder, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { SOCIAL_WORK_ROLES } from '../shared/visibility.js';

export { SOCIAL_WORK_ROLES };

export interface StepRow {
  id: string;
  recommendation_id: string;
  child_id: string;
  unit_id: string;
  zone: string;
  position: number;
  step_key: string;
  title: unknown;
  description: unknown;
  involve: string[];
  responsible: string;
  mandatory: boolean;
  legal_reference: string | null;
  purpose: string;
  source: string;
  due_on: string;
  status: string;
  status_reason: string | null;
  status_changed_at: Date | null;
  status_changed_by: string | null;
}

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

/**
 * Who may see which steps: a unit-limited key its units' steps of the children currently
 * enrolled there, and its units' open steps of children who left (duties outlive enrolments);
 * a social worker the steps for child services and school social workers.
 */
export interface StepAudience {
  municipalityId: string;
  unitIds: readonly string[];
  socialWorker: boolean;
  /** Today (Copenhagen), for the enrolment check of unit-limited keys. */
  today?: string;
}

export function stepsVisibleTo(a: StepAudience) {
  return (eb: ExpressionBuilder<DB, 'recommendation_steps'>) => {
    const conditions = [eb('recommendation_steps.municipality_id', '=', a.municipalityId)];
    if (a.unitIds.length > 0) {
      const today = a.today ?? '9999-12-31';
      // Follow-up recorded in the key's own units only: another unit's steps cross over only
      // with a recorded basis, through the handover summary (consent-gated).
      conditions.push(eb('recommendation_steps.unit_id', 'in', a.unitIds));
      // Open steps stay with the unit that owes them after the child leaves (Barnets Lov
      // § 133); closed ones only while the child is enrolled in one of the key's units.
      conditions.push(
        eb.or([
          eb('recommendation_steps.status', '=', 'open'),
          eb.exists(
            eb
              .selectFrom('enrolments as visible')
              .select('visible.id')
              .whereRef('visible.child_id', '=', 'recommendation_steps.child_id')
              .where('visible.unit_id', 'in', a.unitIds)
              .where((e) =>
                e.or([e('visible.end_date', 'is', null), e('visible.end_date', '>=', today)]),
              ),
          ),
        ]),
      );
    }
    if (a.socialWorker) {
      conditions.push(
        eb.or([
          eb('recommendation_steps.responsible', 'in', SOCIAL_WORK_ROLES),
          sql<boolean>`recommendation_steps.involve && ${sql.val(SOCIAL_WORK_ROLES)}::text[]`,
        ]),
      );
    }
    return eb.and(conditions);
  };
}

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
    .execute() as Promise<StepRow[]>;
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
  return query.executeTakeFirst() as Promise<StepRow | undefined>;
}

export interface RecommendationRow {
  id: string;
  assessment_id: string;
  child_id: string;
  unit_id: string;
  guide_version_id: string;
  zone: string | null;
  previous_zone: string | null;
  zone_changed: boolean;
  flags: unknown;
  summary: string;
  created_at: Date;
}

const recommendationColumns = [
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
): Promise<RecommendationRow | undefined> {
  return db
    .selectFrom('recommendations')
    .select(recommendationColumns)
    .where('municipality_id', '=', municipalityId)
    .where('id' in by ? 'id' : 'assessment_id', '=', 'id' in by ? by.id : by.assessmentId)
    .executeTakeFirst();
}

export interface FactsRow {
  id: string;
  assessed_on: string;
  round_id: string | null;
  round_start: string | null;
  ruler_key: string;
  definition: unknown;
  zone: string | null;
  level: number | null;
  red_flags: string[];
}

/** The child's current assessments (as facts for the trajectory rules), oldest first. */
export function currentAssessmentFacts(
  db: Executor,
  municipalityId: string,
  childId: string,
): Promise<FactsRow[]> {
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

export interface SeriesRoundRow {
  id: string;
  window_start: string;
  window_end: string;
  unit_ids: string[];
  unit_kinds: string[];
  min_age_months: number | null;
  max_age_months: number | null;
}

/**
 * The municipality's rounds on a ruler (any version of it) that started on or before `upTo`:
 * the candidates for a child's series of rounds, before checking which covered the child.
 */
export function roundsOnRuler(
  db: Executor,
  municipalityId: string,
  rulerKey: string,
  upTo: string,
): Promise<SeriesRoundRow[]> {
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
