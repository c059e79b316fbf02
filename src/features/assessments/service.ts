import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { audit } from '../../audit/audit.js';
import { municipalityOf, type Principal, requireUnitAccess } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { ageInMonths, localDate } from '../../domain/dates.js';
import { periodContains } from '../../domain/enrolments.js';
import { classify } from '../../domain/rulers/classify.js';
import type { Rating, RulerDefinition } from '../../domain/rulers/definition.js';
import { answerDefects } from '../../domain/rulers/validate.js';
import { notesBases } from '../../domain/sharing.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import type { FieldError } from '../../http/problem.js';
import { findChild, listEnrolments } from '../children/repository.js';
import { enrolledVisibilityOf, requireChild, visibilityOf } from '../children/service.js';
import { basisViews } from '../consents/schemas.js';
import {
  judge,
  loadSharing,
  NoSharingBasisError,
  seesOwnDutiesOnly,
  withheldSummary,
} from '../consents/sharing.js';
import { closeRecommendation, recommendForAssessment } from '../recommendations/service.js';
import { birthBounds } from '../rounds/repository.js';
import { requireRound } from '../rounds/service.js';
import { findVersion } from '../rulers/repository.js';
import { requireUnit } from '../units/repository.js';
import {
  type AssessmentRow,
  type AssessmentScope,
  assessmentHistory,
  childTimeline,
  currentInRound,
  findAssessment,
  insertAssessment,
  lockAssessment,
  setStatus,
} from './repository.js';
import type {
  Assessment,
  AssessmentWithRecommendation,
  CorrectAssessment,
  CreateAssessment,
} from './schemas.js';

type AssessmentInput = Omit<CreateAssessment, 'childId'>;

/**
 * Whether the parents were informed, when and by whom: the inform-parents step when the
 * recommendation has one (informed once it is done), else what was recorded with the assessment.
 */
function parentsInformation(row: AssessmentRow) {
  if (row.inform_step_id !== null) {
    const done = row.inform_step_status === 'done';
    return {
      parentsInformed: done,
      parentsInformedAt: done ? (row.inform_step_changed_at?.toISOString() ?? null) : null,
      parentsInformedBy: done ? row.inform_step_changed_by : null,
      informParentsStepId: row.inform_step_id,
    };
  }
  return {
    parentsInformed: row.parents_informed,
    parentsInformedAt: row.parents_informed ? row.created_at.toISOString() : null,
    parentsInformedBy: row.parents_informed ? row.created_by : null,
    informParentsStepId: null,
  };
}

export function toAssessment(row: AssessmentRow): Assessment {
  const answers = (row.answers ?? {}) as Rating['answers'];
  return {
    id: row.id,
    lineageId: row.lineage_id,
    version: row.version,
    status: row.status as Assessment['status'],
    childId: row.child_id,
    unitId: row.unit_id,
    roundId: row.round_id,
    rulerVersionId: row.ruler_version_id,
    rulerKey: row.ruler_key,
    rulerVersion: row.ruler_version,
    assessedOn: row.assessed_on,
    raters: row.raters as Assessment['raters'],
    rating: {
      ...(row.overall_level !== null ? { overallLevel: row.overall_level } : {}),
      answers,
    },
    redFlags: row.red_flags,
    justification: row.justification,
    ...parentsInformation(row),
    childPerspective: row.child_perspective,
    zone: row.zone as Assessment['zone'],
    level: row.level,
    score: row.score,
    explanation: row.explanation as Assessment['explanation'],
    supersedesId: row.supersedes_id,
    supersededById: row.superseded_by_id,
    correctionReason: row.correction_reason,
    withdrawalReason: row.withdrawal_reason,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
    statusChangedAt: row.status_changed_at?.toISOString() ?? null,
    statusChangedBy: row.status_changed_by,
  };
}

/** An assessment of a child the principal cannot see is 404, like the child. */
async function requireVisibleChild(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  assessmentId: string,
  now: Date,
  forChange = false,
): Promise<void> {
  const v = forChange ? enrolledVisibilityOf(principal, now) : visibilityOf(principal, now);
  if (!(await findChild(trx, v, childId))) {
    throw new NotFoundError('assessment', assessmentId);
  }
}

function scopeOf(principal: Principal): AssessmentScope {
  return { municipalityId: municipalityOf(principal), unitIds: principal.unitIds };
}

/**
 * Checks an assessment against its child, unit, round, enrolment and ruler, reporting every
 * broken rule at once (422); then classifies it. Nothing is written here.
 */
async function validateAndClassify(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  input: AssessmentInput,
  now: Date,
) {
  const v = enrolledVisibilityOf(principal, now);
  const child = await requireChild(trx, v, childId, { lock: true });
  const unit = await requireUnit(trx, v.municipalityId, input.unitId);
  requireUnitAccess(principal, input.unitId);
  const round = input.roundId
    ? await requireRound(trx, v.municipalityId, input.roundId)
    : undefined;
  const errors: FieldError[] = [];

  if (input.assessedOn > v.today) {
    errors.push({ path: 'body.assessedOn', message: 'is in the future', code: 'future_date' });
  }
  const enrolments = (await listEnrolments(trx, v.municipalityId, child.id)).filter(
    (e) => e.unit_id === unit.id,
  );
  if (
    !enrolments.some((e) =>
      periodContains({ start: e.start_date, end: e.end_date }, input.assessedOn),
    )
  ) {
    errors.push({
      path: 'body.assessedOn',
      message: `the child is not enrolled in unit ${unit.id} on this date`,
      code: 'outside_enrolment',
    });
  }

  let rulerVersionId = input.rulerVersionId;
  if (round) {
    if (rulerVersionId && rulerVersionId !== round.ruler_version_id) {
      errors.push({
        path: 'body.rulerVersionId',
        message: `the round uses ruler version ${round.ruler_version_id}`,
        code: 'not_the_rounds_ruler',
      });
    }
    rulerVersionId = round.ruler_version_id;
    if (input.assessedOn < round.window_start || input.assessedOn > round.window_end) {
      errors.push({
        path: 'body.assessedOn',
        message: `is outside the round's window ${round.window_start} – ${round.window_end}`,
        code: 'outside_round_window',
      });
    }
    if (
      (round.unit_ids.length > 0 && !round.unit_ids.includes(unit.id)) ||
      (round.unit_kinds.length > 0 && !round.unit_kinds.includes(unit.kind))
    ) {
      errors.push({
        path: 'body.unitId',
        message: 'the round does not cover this unit',
        code: 'unit_not_in_round',
      });
    }
    const { bornFrom, bornTo } = birthBounds(round);
    if ((bornTo && child.birth_date > bornTo) || (bornFrom && child.birth_date <= bornFrom)) {
      errors.push({
        path: 'body.childId',
        message: `the child (${ageInMonths(child.birth_date, round.window_start)} months at the window start) is outside the round's age range`,
        code: 'child_not_in_round',
      });
    }
  }
  if (!rulerVersionId) {
    errors.push({
      path: 'body.rulerVersionId',
      message: 'is required without a round',
      code: 'required',
    });
    throw new ValidationFailedError('The assessment cannot be recorded.', errors);
  }
  const version = await findVersion(trx, v.municipalityId, rulerVersionId);
  if (!version) {
    errors.push({
      path: 'body.rulerVersionId',
      message: 'is not a ruler version you can use',
      code: 'unknown',
    });
    throw new ValidationFailedError('The assessment cannot be recorded.', errors);
  }
  const ruler = version.definition as RulerDefinition;
  if (input.raters.length < ruler.ratersRequired) {
    errors.push({
      path: 'body.raters',
      message: `the ruler needs a joint assessment by at least ${ruler.ratersRequired} raters`,
      code: 'too_few_raters',
    });
  }
  errors.push(
    ...answerDefects(ruler, input.rating, input.redFlags, 'body.rating').map((d) => ({
      ...d,
      path: d.path.startsWith('redFlags') ? `body.${d.path}` : d.path,
    })),
  );
  input.raters.forEach((rater, index) => {
    if (rater.rating) {
      errors.push(...answerDefects(ruler, rater.rating, [], `body.raters.${index}.rating`));
    }
  });
  if (errors.length > 0)
    throw new ValidationFailedError('The assessment cannot be recorded.', errors);

  const classification = classify(ruler, {
    joint: input.rating,
    redFlags: input.redFlags,
    raterRatings: input.raters.flatMap((r) => (r.rating ? [r.rating] : [])),
  });
  return { child, unit, round, version, classification, municipalityId: v.municipalityId };
}

async function record(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  input: AssessmentInput,
  now: Date,
  previous?: { id: string; lineage_id: string; version: number; reason: string },
): Promise<AssessmentWithRecommendation> {
  const checked = await validateAndClassify(trx, principal, childId, input, now);
  if (checked.round) {
    const existing = await currentInRound(trx, childId, checked.unit.id, checked.round.id);
    if (existing && existing.id !== previous?.id) {
      throw new ConflictError(
        `The child already has assessment ${existing.id} in this round and unit; ` +
          `correct it with POST /v1/assessments/${existing.id}/corrections.`,
        'assessment-exists',
      );
    }
  }
  if (previous) {
    await setStatus(trx, checked.municipalityId, previous.id, {
      status: 'superseded',
      by: principal.id,
      at: now,
    });
    await closeRecommendation(
      trx,
      checked.municipalityId,
      previous.id,
      principal.id,
      now,
      'corrected',
    );
  }
  const id = randomUUID();
  const { classification } = checked;
  try {
    await insertAssessment(trx, {
      id,
      municipality_id: checked.municipalityId,
      child_id: childId,
      unit_id: checked.unit.id,
      round_id: checked.round?.id ?? null,
      ruler_version_id: checked.version.id,
      assessed_on: input.assessedOn,
      raters: input.raters,
      overall_level: input.rating.overallLevel ?? null,
      answers: input.rating.answers,
      red_flags: [...new Set(input.redFlags)],
      justification: input.justification ?? null,
      parents_informed: input.parentsInformed,
      child_perspective: input.childPerspective ?? null,
      zone: classification.zone,
      level: classification.level,
      score: classification.score,
      explanation: classification.explanation,
      status: 'current',
      version: previous ? previous.version + 1 : 1,
      lineage_id: previous?.lineage_id ?? id,
      supersedes_id: previous?.id ?? null,
      correction_reason: previous?.reason ?? null,
      created_by: principal.id,
    });
  } catch (error) {
    if (isUniqueViolation(error)) {
      throw new ConflictError(
        'Another assessment or correction was recorded at the same time; reload and retry.',
        'assessment-exists',
      );
    }
    throw error;
  }
  const recommendation = await recommendForAssessment(
    trx,
    principal,
    { id, childId, unitId: checked.unit.id, parentsInformed: input.parentsInformed },
    now,
    previous?.id,
  );
  // Read after the recommendation: its inform-parents step is the record of parentsInformed.
  const row = await findAssessment(trx, scopeOf(principal), id);
  await audit(trx, principal, {
    action: previous ? 'update' : 'create',
    resource: 'assessment',
    resourceId: id,
    childId,
  });
  return { ...toAssessment(row as AssessmentRow), recommendation };
}

export function createAssessment(
  trx: Transaction<DB>,
  principal: Principal,
  input: CreateAssessment,
  now: Date,
): Promise<AssessmentWithRecommendation> {
  const { childId, ...rest } = input;
  return record(trx, principal, childId, rest, now);
}

/** A locked assessment the principal may change; 404 / 409 otherwise. */
async function requireCurrent(trx: Transaction<DB>, principal: Principal, id: string, now: Date) {
  const scope = scopeOf(principal);
  await readableAssessment(trx, principal, id, now);
  const locked = await lockAssessment(trx, scope.municipalityId, id);
  if (!locked) throw new NotFoundError('assessment', id);
  if (locked.status !== 'current') {
    throw new ConflictError(
      `Assessment ${id} is ${locked.status}; only the current version can be changed.`,
      'assessment-not-current',
    );
  }
  return locked;
}

export async function correctAssessment(
  trx: Transaction<DB>,
  principal: Principal,
  id: string,
  input: CorrectAssessment,
  now: Date,
): Promise<AssessmentWithRecommendation> {
  const current = await requireCurrent(trx, principal, id, now);
  const { reason, roundId, ...rest } = input;
  // Omitting roundId keeps the round; null takes the assessment out of it.
  const round = roundId === undefined ? current.round_id : roundId;
  return record(
    trx,
    principal,
    current.child_id,
    { ...rest, ...(round ? { roundId: round } : {}) },
    now,
    {
      id: current.id,
      lineage_id: current.lineage_id,
      version: current.version,
      reason,
    },
  );
}

export async function withdrawAssessment(
  database: Database,
  principal: Principal,
  id: string,
  reason: string,
  now: Date,
): Promise<Assessment> {
  const scope = scopeOf(principal);
  return database.transaction(municipalityScope(scope.municipalityId), async (trx) => {
    await requireCurrent(trx, principal, id, now);
    await setStatus(trx, scope.municipalityId, id, {
      status: 'withdrawn',
      by: principal.id,
      at: now,
      reason,
    });
    await closeRecommendation(trx, scope.municipalityId, id, principal.id, now, 'withdrawn');
    const withdrawn = (await findAssessment(trx, scope, id)) as AssessmentRow;
    await audit(trx, principal, {
      action: 'withdraw',
      resource: 'assessment',
      resourceId: id,
      childId: withdrawn.child_id,
    });
    return toAssessment(withdrawn);
  });
}

/** An assessment the principal may change (its unit and its child visible), or 404. */
async function readableAssessment(
  trx: Transaction<DB>,
  principal: Principal,
  id: string,
  now: Date,
): Promise<AssessmentRow> {
  const row = await findAssessment(trx, scopeOf(principal), id);
  if (!row) throw new NotFoundError('assessment', id);
  await requireVisibleChild(trx, principal, row.child_id, id, now, true);
  return row;
}

/** Free text the author's unit wrote: shared with other units only under a notes consent. */
function withoutFreeText(a: Assessment): Assessment {
  return {
    ...a,
    justification: null,
    childPerspective: null,
    correctionReason: null,
    withdrawalReason: null,
  };
}

/**
 * The child's assessments as the principal may see them: its own units' in full; other units'
 * only on a basis (consent or transition guideline), marked with it and without free text
 * unless a consent covers notes; the rest withheld.
 */
async function shareAssessments(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  rows: readonly AssessmentRow[],
  now: Date,
) {
  const ctx = await loadSharing(trx, principal, childId, localDate(now));
  const { shown, withheld } = await judge(
    trx,
    municipalityOf(principal),
    ctx,
    rows,
    (r) => ({ unitId: r.unit_id, date: r.assessed_on }),
    'assessments',
  );
  const items = shown.map(({ value, item, bases }): Assessment => {
    const assessment = toAssessment(value);
    if (bases.some((b) => b.kind === 'own_unit' || b.kind === 'role')) return assessment;
    const notes = notesBases(ctx, item);
    return {
      ...(notes.length > 0 ? assessment : withoutFreeText(assessment)),
      sharing: { bases: basisViews(bases), notes: basisViews(notes) },
    };
  });
  return {
    items,
    withheld: seesOwnDutiesOnly(ctx) ? [] : withheld,
    ownDutiesOnly: seesOwnDutiesOnly(ctx),
  };
}

/**
 * An assessment the principal may read: 404 when it or its child is not visible; 403 when it
 * was made in another unit and no consent or guideline shares it with the principal.
 */
async function visibleAssessment(
  trx: Transaction<DB>,
  principal: Principal,
  id: string,
  now: Date,
): Promise<{ row: AssessmentRow; assessment: Assessment }> {
  const row = await findAssessment(
    trx,
    { municipalityId: municipalityOf(principal), unitIds: [] },
    id,
  );
  if (!row) throw new NotFoundError('assessment', id);
  await requireVisibleChild(trx, principal, row.child_id, id, now);
  const { items, withheld, ownDutiesOnly } = await shareAssessments(
    trx,
    principal,
    row.child_id,
    [row],
    now,
  );
  const assessment = items[0];
  if (!assessment && ownDutiesOnly) throw new NotFoundError('assessment', id);
  if (!assessment) {
    throw new NoSharingBasisError(`Assessment ${id}`, withheld[0]?.item.unitKind ?? 'unknown');
  }
  return { row, assessment };
}

export async function getAssessment(
  database: Database,
  principal: Principal,
  id: string,
  now: Date,
) {
  const scope = scopeOf(principal);
  return database.transaction(municipalityScope(scope.municipalityId), async (trx) => {
    const { row, assessment } = await visibleAssessment(trx, principal, id, now);
    await audit(trx, principal, {
      action: 'read',
      resource: 'assessment',
      resourceId: id,
      childId: row.child_id,
    });
    return assessment;
  });
}

export async function getAssessmentHistory(
  database: Database,
  principal: Principal,
  id: string,
  now: Date,
) {
  const scope = scopeOf(principal);
  return database.transaction(municipalityScope(scope.municipalityId), async (trx) => {
    const { row } = await visibleAssessment(trx, principal, id, now);
    const versions = await assessmentHistory(
      trx,
      { municipalityId: scope.municipalityId, unitIds: [] },
      row.lineage_id,
    );
    await audit(trx, principal, {
      action: 'read',
      resource: 'assessment',
      resourceId: id,
      childId: row.child_id,
      criteria: { history: true },
    });
    // Versions follow the same rules (a correction may have moved the assessment's unit).
    return { items: (await shareAssessments(trx, principal, row.child_id, versions, now)).items };
  });
}

export async function getTimeline(
  database: Database,
  principal: Principal,
  childId: string,
  includeWithdrawn: boolean,
  now: Date,
) {
  const scope = scopeOf(principal);
  const v = visibilityOf(principal, now);
  return database.transaction(municipalityScope(scope.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    const rows = await childTimeline(
      trx,
      { municipalityId: scope.municipalityId, unitIds: [] },
      childId,
      includeWithdrawn,
    );
    const { items, withheld } = await shareAssessments(trx, principal, childId, rows, now);
    await audit(trx, principal, {
      action: 'read',
      resource: 'assessment',
      childId,
      criteria: { timeline: true, includeWithdrawn, withheld: withheld.length },
    });
    return { childId, items, withheld: withheldSummary(withheld.map((w) => w.item)) };
  });
}
