import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { NoSharingBasisError, seesOwnDutiesOnly } from '../../access/policy.js';
import type { DB } from '../../db/schema.js';
import type {
  AssessmentFacts,
  GuideDefinition,
  RoundFacts,
} from '../../domain/guides/definition.js';
import { recommend } from '../../domain/guides/recommend.js';
import { roundCoversChild } from '../../domain/round-coverage.js';
import { birthBounds } from '../../domain/rounds.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { requireIfMatch } from '../../http/etag.js';
import type { Session } from '../../request/session.js';
import { appendEvents, type NewEvent } from '../events/outbox.js';
import { resolveGuideVersion } from '../guides/repository.js';
import { parentNoticeOf, supersedeNotices } from '../parent-notices/service.js';
import {
  type CoverageRow,
  coverageOfChild,
  currentAssessmentFacts,
  type FactsRow,
  findRecommendation,
  findStep,
  finishedStepsOf,
  type RecommendationRow,
  roundsOnRuler,
  type StepRow,
  stepReturning,
  stepsOfRecommendations,
} from './repository.js';
import type { RecommendationView, StepTask } from './schemas.js';

export function toStep(row: StepRow, today: string): StepTask {
  return {
    id: row.id,
    recommendationId: row.recommendation_id,
    childId: row.child_id,
    unitId: row.unit_id,
    zone: row.zone as StepTask['zone'],
    position: row.position,
    stepKey: row.step_key,
    title: row.title as StepTask['title'],
    description: row.description as StepTask['description'],
    involve: row.involve as StepTask['involve'],
    responsible: row.responsible as StepTask['responsible'],
    mandatory: row.mandatory,
    legalReference: row.legal_reference,
    purpose: row.purpose as StepTask['purpose'],
    source: row.source as StepTask['source'],
    dueOn: row.due_on,
    overdue: row.status === 'open' && row.due_on < today,
    status: row.status as StepTask['status'],
    statusReason: row.status_reason,
    statusChangedAt: row.status_changed_at?.toISOString() ?? null,
    statusChangedBy: row.status_changed_by,
  };
}

function toRecommendation(
  row: RecommendationRow,
  steps: readonly StepRow[],
  today: string,
): RecommendationView {
  return {
    id: row.id,
    assessmentId: row.assessment_id,
    childId: row.child_id,
    unitId: row.unit_id,
    guideVersionId: row.guide_version_id,
    zone: row.zone as RecommendationView['zone'],
    previousZone: row.previous_zone as RecommendationView['previousZone'],
    zoneChanged: row.zone_changed,
    flags: row.flags as RecommendationView['flags'],
    summary: row.summary,
    steps: steps.filter((s) => s.recommendation_id === row.id).map((s) => toStep(s, today)),
    createdAt: row.created_at.toISOString(),
  };
}

function factsOf(row: FactsRow): AssessmentFacts {
  const ruler = row.definition as RulerDefinition;
  const categories = new Set(
    ruler.items
      .filter((item) => item.redFlag && row.red_flags.includes(item.key))
      .map((item) => item.redFlagCategory ?? 'other'),
  );
  return {
    id: row.id,
    assessedOn: row.assessed_on,
    roundId: row.round_id,
    roundStart: row.round_start,
    rulerKey: row.ruler_key,
    higherIsBetter: ruler.higherIsBetter,
    zone: row.zone as AssessmentFacts['zone'],
    level: row.level,
    redFlagCategories: [...categories].sort(),
    redFlags: row.red_flags,
  };
}

/**
 * The child's series of rounds on the current assessment's ruler, up to its round: every round
 * on that ruler that covered the child (assessed there or not), so that the trajectory rules see
 * the rounds the child missed. Empty without a round.
 */
async function roundSeries(
  trx: Transaction<DB>,
  municipalityId: string,
  childId: string,
  current: AssessmentFacts,
): Promise<RoundFacts[]> {
  if (current.roundId === null) return [];
  const candidates = await roundsOnRuler(
    trx,
    municipalityId,
    current.rulerKey,
    current.roundStart ?? current.assessedOn,
  );
  if (candidates.length === 0) return [];
  // The child's birth date and enrolments in one statement.
  const coverage: CoverageRow[] = await coverageOfChild(trx, municipalityId, childId);
  const birthDate = coverage[0]?.birth_date;
  if (birthDate === undefined) throw new Error(`child ${childId} not found`);
  const enrolments = coverage.flatMap((e) =>
    e.unit_id === null || e.unit_kind === null || e.start_date === null
      ? []
      : [{ unitId: e.unit_id, unitKind: e.unit_kind, start: e.start_date, end: e.end_date }],
  );
  return candidates
    .filter((round) =>
      roundCoversChild(
        {
          windowStart: round.window_start,
          windowEnd: round.window_end,
          unitIds: round.unit_ids,
          unitKinds: round.unit_kinds,
          ...birthBounds(round),
        },
        birthDate,
        enrolments,
      ),
    )
    .map((round) => ({
      id: round.id,
      windowStart: round.window_start,
      windowEnd: round.window_end,
    }));
}

const PARENTS_INFORMED = 'Parents informed: recorded with the assessment (parentsInformed).';

/**
 * Makes the recommendation for a just-recorded assessment, in its transaction: the steps of the
 * applicable guide version with due dates, the trajectory flags, and the events that announce
 * them. Immutable once made. Built from what it writes (RETURNING), never read back; steps,
 * flags and events are one INSERT each.
 */
export async function recommendForAssessment(
  session: Session,
  trx: Transaction<DB>,
  assessment: { id: string; childId: string; unitId: string; parentsInformed: boolean },
  /** The assessment this one corrects: its completed steps stay completed. */
  corrects?: string,
): Promise<RecommendationView> {
  const municipalityId = session.municipalityId;
  const now = session.now;
  const all = await currentAssessmentFacts(trx, municipalityId, assessment.childId);
  const currentRow = all.find((r) => r.id === assessment.id);
  if (!currentRow) throw new Error(`assessment ${assessment.id} is not current`);
  const current = factsOf(currentRow);
  const previous = all
    .filter((r) => r.id !== assessment.id && r.ruler_key === current.rulerKey)
    .map(factsOf);
  const guideVersion = await session.memo(`guide-for-ruler:${current.rulerKey}`, () =>
    resolveGuideVersion(trx, municipalityId, current.rulerKey),
  );
  if (!guideVersion) throw new Error(`no action guide for ruler ${current.rulerKey}`);
  const rounds = await roundSeries(trx, municipalityId, assessment.childId, current);
  const result = recommend(current, previous, guideVersion.definition as GuideDefinition, rounds);
  const flags = result.flags.map((f) => ({ kind: f.kind, reason: f.reason }));

  // The parents to be informed, a duty of its own (first assessment or a zone change): written
  // with the recommendation, in its statement.
  const notice = await parentNoticeOf(session, trx, {
    assessment,
    current,
    recommendation: result,
    guide: guideVersion.definition as GuideDefinition,
    ...(corrects ? { corrects } : {}),
  });
  const id = randomUUID();
  const { created_at } = await (notice
    ? trx.with('notice', (db) => db.insertInto('parent_notices').values(notice.row).returning('id'))
    : trx
  )
    .insertInto('recommendations')
    .values({
      id,
      municipality_id: municipalityId,
      child_id: assessment.childId,
      unit_id: assessment.unitId,
      assessment_id: assessment.id,
      guide_version_id: guideVersion.id,
      zone: result.zone,
      previous_zone: result.previousZone,
      zone_changed: result.zoneChanged,
      flags: sql`${JSON.stringify(result.flags)}::jsonb`,
      summary: result.summary,
    })
    .returning('created_at')
    .executeTakeFirstOrThrow();
  const recommendation: RecommendationRow = {
    id,
    assessment_id: assessment.id,
    child_id: assessment.childId,
    unit_id: assessment.unitId,
    guide_version_id: guideVersion.id,
    zone: result.zone,
    previous_zone: result.previousZone,
    zone_changed: result.zoneChanged,
    flags,
    summary: result.summary,
    created_at,
  };
  const events: NewEvent[] = [
    {
      municipalityId,
      type: 'recommendation.created',
      childId: assessment.childId,
      subjectType: 'recommendation',
      subjectId: id,
      payload: {
        assessmentId: assessment.id,
        zone: result.zone,
        previousZone: result.previousZone,
        flags: result.flags.map((f) => f.kind),
        steps: result.steps.map((s) => ({
          stepKey: s.stepId,
          dueOn: s.dueOn,
          mandatory: s.mandatory,
        })),
      },
    },
  ];
  let steps: StepRow[] = [];
  if (result.zone && result.steps.length > 0) {
    const zone = result.zone;
    // A correction does not undo follow-up already done: a step of the corrected version that
    // was done or not applicable is carried over with its status (e.g. a concern report made).
    const finished = new Map<string, StepRow>();
    if (corrects) {
      for (const step of await finishedStepsOf(trx, municipalityId, corrects)) {
        finished.set(step.step_key, step);
      }
    }
    steps = await trx
      .insertInto('recommendation_steps')
      .values(
        result.steps.map((step, position) => ({
          municipality_id: municipalityId,
          recommendation_id: id,
          child_id: assessment.childId,
          unit_id: assessment.unitId,
          zone,
          position,
          step_key: step.stepId,
          title: sql`${JSON.stringify(step.title)}::jsonb`,
          description: sql`${JSON.stringify(step.description)}::jsonb`,
          involve: step.involve,
          responsible: step.responsible,
          mandatory: step.mandatory,
          legal_reference: step.legalReference,
          purpose: step.purpose,
          source: step.source,
          due_on: step.dueOn,
          ...initialStatus(
            finished.get(step.stepId),
            // Recorded with `parentsInformed: true`, the open inform-parents steps are done at
            // once: the step is the one record of that fact.
            assessment.parentsInformed && step.purpose === 'inform_parents',
            session,
          ),
        })),
      )
      .returning(stepReturning)
      .execute();
    steps.sort((a, b) => a.position - b.position);
    for (const step of steps) {
      if (step.status_reason !== PARENTS_INFORMED || finished.has(step.step_key)) continue;
      events.push({
        municipalityId,
        type: 'step.status_changed',
        childId: assessment.childId,
        subjectType: 'step',
        subjectId: step.id,
        payload: { stepKey: step.step_key, from: 'open', to: 'done', reason: PARENTS_INFORMED },
      });
    }
  }
  if (flags.length > 0) {
    const raised = await trx
      .insertInto('flags')
      .values(
        flags.map((flag) => ({
          municipality_id: municipalityId,
          child_id: assessment.childId,
          unit_id: assessment.unitId,
          kind: flag.kind,
          reason: flag.reason,
          assessment_id: assessment.id,
          round_id: current.roundId,
          raised_at: now,
        })),
      )
      .returning(['id', 'kind', 'reason'])
      .execute();
    // In the order the guide raised them (RETURNING's order is not promised).
    const order = (f: { kind: string; reason: string }) =>
      flags.findIndex((g) => g.kind === f.kind && g.reason === f.reason);
    raised.sort((a, b) => order(a) - order(b));
    for (const flag of raised) {
      events.push({
        municipalityId,
        type: 'flag.raised',
        childId: assessment.childId,
        subjectType: 'flag',
        subjectId: flag.id,
        payload: { kind: flag.kind, reason: flag.reason, assessmentId: assessment.id },
      });
    }
  }
  if (notice) events.push(notice.event);
  await appendEvents(trx, events);
  return toRecommendation(recommendation, steps, session.today);
}

/** A new step's status: carried over from the corrected assessment, done, or open. */
function initialStatus(carried: StepRow | undefined, parentsInformed: boolean, session: Session) {
  if (carried) {
    return {
      status: carried.status,
      status_reason: `Carried over from the corrected assessment${carried.status_reason ? `: ${carried.status_reason}` : ''}`,
      status_changed_at: carried.status_changed_at,
      status_changed_by: carried.status_changed_by,
    };
  }
  if (parentsInformed) {
    return {
      status: 'done' as const,
      status_reason: PARENTS_INFORMED,
      status_changed_at: session.now,
      status_changed_by: session.principal.id,
    };
  }
  return { status: 'open' as const };
}

/**
 * Closes what an assessment's recommendation left open when the assessment is corrected or
 * withdrawn: open steps become superseded, unacknowledged flags are closed with a note.
 */
export async function closeRecommendation(
  session: Session,
  trx: Transaction<DB>,
  assessmentId: string,
  reason: string,
): Promise<void> {
  const municipalityId = session.municipalityId;
  const by = session.principal.id;
  const now = session.now;
  const closed = await trx
    .updateTable('recommendation_steps')
    .set({
      status: 'superseded',
      status_reason: reason,
      status_changed_at: now,
      status_changed_by: by,
    })
    .where('municipality_id', '=', municipalityId)
    .where('recommendation_id', 'in', (eb) =>
      eb
        .selectFrom('recommendations')
        .select('recommendations.id')
        .where('recommendations.municipality_id', '=', municipalityId)
        .where('recommendations.assessment_id', '=', assessmentId),
    )
    .where('status', '=', 'open')
    .returning(['id', 'child_id', 'step_key', 'position'])
    .execute();
  closed.sort((a, b) => a.position - b.position);
  await supersedeNotices(session, trx, assessmentId, reason);
  // Flags name their assessment only when its recommendation raised them.
  const note = `Closed automatically: the assessment was ${reason}.`;
  const flags = await trx
    .updateTable('flags')
    .set({ acknowledged_at: now, acknowledged_by: by, acknowledgement_note: note })
    .where('municipality_id', '=', municipalityId)
    .where('assessment_id', '=', assessmentId)
    .where('acknowledged_at', 'is', null)
    .returning(['id', 'child_id', 'kind'])
    .execute();
  await appendEvents(trx, [
    ...closed.map((step) => ({
      municipalityId,
      type: 'step.status_changed' as const,
      childId: step.child_id,
      subjectType: 'step' as const,
      subjectId: step.id,
      payload: { stepKey: step.step_key, from: 'open' as const, to: 'superseded' as const, reason },
    })),
    ...flags.map((flag) => ({
      municipalityId,
      type: 'flag.acknowledged' as const,
      childId: flag.child_id,
      subjectType: 'flag' as const,
      subjectId: flag.id,
      payload: { kind: flag.kind, note },
    })),
  ]);
}

export async function getRecommendation(
  session: Session,
  trx: Transaction<DB>,
  by: { id: string } | { assessmentId: string },
): Promise<RecommendationView> {
  const { access } = session;
  const row = await findRecommendation(trx, session.municipalityId, by);
  const visible = row && (await access.seesChild(trx, row.child_id));
  if (!row || !visible) {
    throw new NotFoundError(
      'recommendation',
      'id' in by ? by.id : `of assessment ${by.assessmentId}`,
    );
  }
  if (!access.mayActInUnit(row.unit_id)) {
    // Another unit's recommendation: only under a consent or guideline covering it.
    const ctx = await access.sharing(trx, row.child_id);
    const { assessed_on } = await trx
      .selectFrom('assessments')
      .select('assessed_on')
      .where('id', '=', row.assessment_id)
      .executeTakeFirstOrThrow();
    const { withheld } = await access.judge(
      trx,
      ctx,
      [row],
      (r) => ({ unitId: r.unit_id, date: assessed_on }),
      'recommendations',
    );
    if (withheld[0] && seesOwnDutiesOnly(ctx)) {
      throw new NotFoundError('recommendation', row.id);
    }
    if (withheld[0]) throw new NoSharingBasisError('The recommendation', withheld[0].item.unitKind);
  }
  const steps = await stepsOfRecommendations(trx, access.steps(), [row.id]);
  session.audit({ resourceId: row.id, childId: row.child_id });
  return toRecommendation(row, steps, session.today);
}

/** Allowed step status changes; a reason is needed to reopen or to mark not applicable. */
function checkTransition(step: StepRow, to: 'open' | 'done' | 'not_applicable', reason?: string) {
  const from = step.status;
  if (from === 'superseded') {
    throw new ConflictError(
      'The step belongs to a superseded recommendation and can no longer change.',
      'step-superseded',
    );
  }
  if (from === to) throw new ConflictError(`The step is already ${to}.`, 'step-unchanged');
  if (from !== 'open' && to !== 'open') {
    throw new ConflictError(
      `Reopen the step before marking it ${to} (it is ${from}).`,
      'illegal-transition',
    );
  }
  const errors = [];
  if ((to === 'not_applicable' || to === 'open') && !reason) {
    errors.push({
      path: 'body.reason',
      message: to === 'open' ? 'is required to reopen a step' : 'is required for not_applicable',
      code: 'required',
    });
  }
  if (to === 'done' && step.purpose === 'concern_report') {
    errors.push({
      path: 'body.status',
      message:
        'a concern-report step is completed by recording the report: ' +
        `POST /v1/children/${step.child_id}/concern-reports`,
      code: 'record_concern_report',
    });
  }
  if (to === 'not_applicable' && step.mandatory) {
    errors.push({
      path: 'body.status',
      message: 'a mandatory step cannot be not_applicable',
      code: 'mandatory',
    });
  }
  if (errors.length > 0)
    throw new ValidationFailedError('The step cannot change that way.', errors);
}

export async function updateStep(
  session: Session,
  trx: Transaction<DB>,
  input: {
    id: string;
    body: { status: 'open' | 'done' | 'not_applicable'; reason?: string | undefined };
    ifMatch?: string | undefined;
  },
): Promise<StepTask> {
  const { id: stepId, body } = input;
  const step = await findStep(trx, session.access.steps(), stepId, { lock: true });
  if (!step || !(await session.access.seesChild(trx, step.child_id))) {
    throw new NotFoundError('step', stepId);
  }
  // On the locked row: of two changes sent with the same ETag, the second finds it changed.
  requireIfMatch(input.ifMatch, toStep(step, session.today), 'step');
  checkTransition(step, body.status, body.reason);
  if (body.status === 'open') {
    // Only follow-up of a current assessment can be reopened.
    const assessment = await trx
      .selectFrom('recommendations')
      .innerJoin('assessments', 'assessments.id', 'recommendations.assessment_id')
      .select('assessments.status')
      .where('recommendations.id', '=', step.recommendation_id)
      .executeTakeFirstOrThrow();
    if (assessment.status !== 'current') {
      throw new ConflictError(
        `The step's assessment is ${assessment.status}; its steps can no longer be reopened.`,
        'step-superseded',
      );
    }
  }
  // RETURNING, not a read back: a unit's closed step of a child who left is no longer visible
  // to it, but the caller just closed it.
  const updated = await trx
    .updateTable('recommendation_steps')
    .set({
      status: body.status,
      status_reason: body.reason ?? null,
      status_changed_at: session.now,
      status_changed_by: session.principal.id,
    })
    .where('id', '=', stepId)
    .returning(stepReturning)
    .executeTakeFirstOrThrow();
  await appendEvents(trx, [
    {
      municipalityId: session.municipalityId,
      type: 'step.status_changed',
      childId: step.child_id,
      subjectType: 'step',
      subjectId: stepId,
      payload: {
        stepKey: step.step_key,
        from: step.status,
        to: body.status,
        ...(body.reason ? { reason: body.reason } : {}),
      },
    },
  ]);
  session.audit({ resourceId: stepId, childId: step.child_id });
  return toStep(updated, session.today);
}

/** One step, to whoever may change it (the same visibility as updateStep). */
export async function getStep(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<StepTask> {
  const step = await findStep(trx, session.access.steps(), id);
  if (!step || !(await session.access.seesChild(trx, step.child_id))) {
    throw new NotFoundError('step', id);
  }
  session.audit({ resourceId: id, childId: step.child_id });
  return toStep(step, session.today);
}
