import type { StepAudience } from '../../access/policy.js';
import { stepsVisibleTo } from '../../access/policy.js';
import type { Executor } from '../../db/database.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';

/** The definitions of the given ruler versions, by id. */
export async function rulerDefinitions(
  db: Executor,
  versionIds: readonly string[],
): Promise<Map<string, RulerDefinition>> {
  const ids = [...new Set(versionIds)];
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('ruler_versions')
    .select(['id', 'definition'])
    .where('id', 'in', ids)
    .execute();
  return new Map(rows.map((r) => [r.id, r.definition as RulerDefinition]));
}

/**
 * The child's open steps, soonest due first, with the date of the assessment that created them.
 * `audience` limits them to what the principal's role may see (units are judged by the caller).
 */
export function openStepsOfChild(db: Executor, audience: StepAudience, childId: string) {
  return db
    .selectFrom('recommendation_steps')
    .innerJoin('recommendations', 'recommendations.id', 'recommendation_steps.recommendation_id')
    .innerJoin('assessments', 'assessments.id', 'recommendations.assessment_id')
    .select([
      'recommendation_steps.id',
      'recommendation_steps.unit_id',
      'recommendation_steps.step_key',
      'recommendation_steps.title',
      'recommendation_steps.zone',
      'recommendation_steps.responsible',
      'recommendation_steps.involve',
      'recommendation_steps.mandatory',
      'recommendation_steps.due_on',
      'recommendation_steps.status_reason',
      'assessments.assessed_on',
    ])
    .where(stepsVisibleTo(audience))
    .where('recommendation_steps.child_id', '=', childId)
    .where('recommendation_steps.status', '=', 'open')
    .orderBy('recommendation_steps.due_on')
    .orderBy('recommendation_steps.id')
    .execute();
}

/**
 * The child's flags, oldest first, with the date of the assessment that raised them; flags of
 * corrected or withdrawn assessments were closed with them and are left out.
 */
export function flagsOfChild(db: Executor, municipalityId: string, childId: string) {
  return db
    .selectFrom('flags')
    .leftJoin('assessments', 'assessments.id', 'flags.assessment_id')
    .select([
      'flags.id',
      'flags.unit_id',
      'flags.kind',
      'flags.reason',
      'flags.assessment_id',
      'flags.raised_at',
      'flags.acknowledged_at',
      'flags.acknowledgement_note',
      'assessments.assessed_on',
    ])
    .where('flags.municipality_id', '=', municipalityId)
    .where('flags.child_id', '=', childId)
    .where((eb) =>
      eb.or([eb('flags.assessment_id', 'is', null), eb('assessments.status', '=', 'current')]),
    )
    .orderBy('flags.raised_at')
    .orderBy('flags.id')
    .execute();
}
