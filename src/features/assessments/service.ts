import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import { NoSharingBasisError, seesOwnDutiesOnly, withheldSummary } from '../../access/policy.js';
import { searchCriteria } from '../../audit/audit.js';
import { isUniqueViolation } from '../../db/errors.js';
import type { DB } from '../../db/schema.js';
import { admissibility, rulerDefects } from '../../domain/admissibility.js';
import { birthBounds } from '../../domain/rounds.js';
import { classify } from '../../domain/rulers/classify.js';
import type { Rating, RulerDefinition } from '../../domain/rulers/definition.js';
import { notesBases } from '../../domain/sharing.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ValidationFailedError,
} from '../../errors.js';
import { changedCursorSchema, decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import { findChild, listEnrolments } from '../children/repository.js';
import { requireChild } from '../children/service.js';
import { basisViews } from '../consents/schemas.js';
import type { RecommendationView } from '../recommendations/schemas.js';
import { closeRecommendation, recommendForAssessment } from '../recommendations/service.js';
import { requireRound } from '../rounds/service.js';
import { findVersion } from '../rulers/repository.js';
import { selfReportBeside } from '../self-reports/service.js';
import { requireUnit } from '../units/repository.js';
import {
  type AssessmentRow,
  assessmentHistory,
  childTimeline,
  currentInRound,
  findAssessment,
  insertAssessment,
  listChangedAssessments,
  lockAssessment,
  setStatus,
} from './repository.js';
import type {
  Assessment,
  AssessmentListQuery,
  AssessmentView,
  AssessmentWithRecommendation,
  CorrectAssessment,
  CreateAssessment,
} from './schemas.js';

type AssessmentInput = Omit<CreateAssessment, 'childId'>;

/** The inform-parents step that records whether the parents were informed (a done one first). */
interface InformStep {
  id: string;
  status: string;
  changedAt: string | null;
  changedBy: string | null;
}

function informStepOfRow(row: AssessmentRow): InformStep | null {
  return row.inform_step_id === null
    ? null
    : {
        id: row.inform_step_id,
        status: row.inform_step_status ?? 'open',
        changedAt: row.inform_step_changed_at?.toISOString() ?? null,
        changedBy: row.inform_step_changed_by,
      };
}

/** The same choice as the assessment reads make (repository.ts), from a recommendation's steps. */
function informStepOf(recommendation: RecommendationView): InformStep | null {
  const steps = recommendation.steps
    .filter((s) => s.purpose === 'inform_parents')
    .sort(
      (a, b) =>
        Number(b.status === 'done') - Number(a.status === 'done') ||
        compareNullsLast(a.statusChangedAt, b.statusChangedAt) ||
        a.position - b.position,
    );
  const step = steps[0];
  return step
    ? {
        id: step.id,
        status: step.status,
        changedAt: step.statusChangedAt,
        changedBy: step.statusChangedBy,
      }
    : null;
}

function compareNullsLast(a: string | null, b: string | null): number {
  if (a === b) return 0;
  if (a === null) return 1;
  if (b === null) return -1;
  return a < b ? -1 : 1;
}

/**
 * Whether the parents were informed, when and by whom: the inform-parents step when the
 * recommendation has one (informed once it is done), else what was recorded with the assessment.
 */
function parentsInformation(row: AssessmentRow, inform: InformStep | null) {
  if (inform) {
    const done = inform.status === 'done';
    return {
      parentsInformed: done,
      parentsInformedAt: done ? inform.changedAt : null,
      parentsInformedBy: done ? inform.changedBy : null,
      informParentsStepId: inform.id,
    };
  }
  return {
    parentsInformed: row.parents_informed,
    parentsInformedAt: row.parents_informed ? row.created_at.toISOString() : null,
    parentsInformedBy: row.parents_informed ? row.created_by : null,
    informParentsStepId: null,
  };
}

export function toAssessment(
  row: AssessmentRow,
  inform: InformStep | null = informStepOfRow(row),
): Assessment {
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
    ...parentsInformation(row, inform),
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

/** An assessment's child, visible to the caller (for changes: enrolled in its units); else 404. */
async function requireVisibleChild(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  assessmentId: string,
  forChange = false,
): Promise<void> {
  const v = forChange ? session.access.childrenToChange() : session.access.children();
  if (!(await findChild(trx, v, childId))) {
    throw new NotFoundError('assessment', assessmentId);
  }
}

/** Assessments of the caller's municipality, any unit (sharing is judged on what is read). */
const allUnits = (session: Session) => ({ municipalityId: session.municipalityId, unitIds: [] });

/** Assessments the caller may change: unit-limited keys only those made in their units. */
const ownUnits = (session: Session) => ({
  municipalityId: session.municipalityId,
  unitIds: session.principal.unitIds,
});

/**
 * Checks an assessment against its child, unit, round, enrolment and ruler, reporting every
 * broken rule at once (422; the rules are src/domain/admissibility.ts); then classifies it.
 * Nothing is written here.
 */
async function validateAndClassify(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  input: AssessmentInput,
) {
  const v = session.access.childrenToChange();
  const child = await requireChild(trx, v, childId, { lock: true });
  const unit = await session.memo(`unit:${input.unitId}`, () =>
    requireUnit(trx, v.municipalityId, input.unitId),
  );
  session.access.requireUnit(input.unitId);
  const round = input.roundId
    ? await requireRound(trx, v.municipalityId, input.roundId)
    : undefined;
  const enrolments = await listEnrolments(trx, v.municipalityId, child.id);
  const bounds = round ? birthBounds(round) : undefined;
  const checked = admissibility({
    today: session.today,
    assessedOn: input.assessedOn,
    rulerVersionId: input.rulerVersionId,
    child: { birthDate: child.birth_date },
    unit,
    enrolments: enrolments
      .filter((e) => e.unit_id === unit.id)
      .map((e) => ({ start: e.start_date, end: e.end_date })),
    round: round && {
      rulerVersionId: round.ruler_version_id,
      windowStart: round.window_start,
      windowEnd: round.window_end,
      unitIds: round.unit_ids,
      unitKinds: round.unit_kinds,
      bornFrom: bounds?.bornFrom ?? null,
      bornTo: bounds?.bornTo ?? null,
    },
  });
  const errors = checked.errors;
  const cannot = 'The assessment cannot be recorded.';
  if (!checked.rulerVersionId) {
    errors.push({
      path: 'body.rulerVersionId',
      message: 'is required without a round',
      code: 'required',
    });
    throw new ValidationFailedError(cannot, errors);
  }
  const rulerVersionId = checked.rulerVersionId;
  const version = await session.memo(`ruler-version:${rulerVersionId}`, () =>
    findVersion(trx, v.municipalityId, rulerVersionId),
  );
  if (!version) {
    errors.push({
      path: 'body.rulerVersionId',
      message: 'is not a ruler version you can use',
      code: 'unknown',
    });
    throw new ValidationFailedError(cannot, errors);
  }
  const ruler = version.definition as RulerDefinition;
  errors.push(...rulerDefects(ruler, input));
  if (errors.length > 0) throw new ValidationFailedError(cannot, errors);

  const classification = classify(ruler, {
    joint: input.rating,
    redFlags: input.redFlags,
    raterRatings: input.raters.flatMap((r) => (r.rating ? [r.rating] : [])),
  });
  return { unit, round, version, classification, municipalityId: v.municipalityId };
}

async function record(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  input: AssessmentInput,
  previous?: { id: string; lineage_id: string; version: number; reason: string },
): Promise<AssessmentWithRecommendation> {
  const checked = await validateAndClassify(session, trx, childId, input);
  const { principal, now } = session;
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
    await closeRecommendation(session, trx, previous.id, 'corrected');
  }
  const id = randomUUID();
  const { classification } = checked;
  let inserted: Awaited<ReturnType<typeof insertAssessment>>;
  try {
    inserted = await insertAssessment(trx, {
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
    session,
    trx,
    { id, childId, unitId: checked.unit.id, parentsInformed: input.parentsInformed },
    previous?.id,
  );
  session.audit({ resourceId: id, childId });
  // Built from what was just written (no re-read): the recommendation's inform-parents step is
  // the record of parentsInformed.
  const row: AssessmentRow = {
    ...inserted,
    ruler_key: checked.version.entry_key,
    ruler_version: checked.version.version,
    superseded_by_id: null,
    inform_step_id: null,
    inform_step_status: null,
    inform_step_changed_at: null,
    inform_step_changed_by: null,
  };
  return { ...toAssessment(row, informStepOf(recommendation)), recommendation };
}

export function createAssessment(
  session: Session,
  trx: Transaction<DB>,
  input: CreateAssessment,
): Promise<AssessmentWithRecommendation> {
  const { childId, ...rest } = input;
  return record(session, trx, childId, rest);
}

/** A locked assessment the caller may change; 404 / 409 otherwise. */
async function requireCurrent(session: Session, trx: Transaction<DB>, id: string) {
  const row = await findAssessment(trx, ownUnits(session), id);
  if (!row) throw new NotFoundError('assessment', id);
  await requireVisibleChild(session, trx, row.child_id, id, true);
  const locked = await lockAssessment(trx, session.municipalityId, id);
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
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; body: CorrectAssessment },
): Promise<AssessmentWithRecommendation> {
  const current = await requireCurrent(session, trx, input.id);
  const { reason, roundId, ...rest } = input.body;
  // Omitting roundId keeps the round; null takes the assessment out of it.
  const round = roundId === undefined ? current.round_id : roundId;
  return record(
    session,
    trx,
    current.child_id,
    { ...rest, ...(round ? { roundId: round } : {}) },
    {
      id: current.id,
      lineage_id: current.lineage_id,
      version: current.version,
      reason,
    },
  );
}

export async function withdrawAssessment(
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; reason: string },
): Promise<Assessment> {
  const { id, reason } = input;
  const { municipalityId } = session;
  await requireCurrent(session, trx, id);
  await setStatus(trx, municipalityId, id, {
    status: 'withdrawn',
    by: session.principal.id,
    at: session.now,
    reason,
  });
  await closeRecommendation(session, trx, id, 'withdrawn');
  // Read again: closing the recommendation changes its inform-parents step.
  const withdrawn = await findAssessment(trx, ownUnits(session), id);
  if (!withdrawn) throw new NotFoundError('assessment', id);
  session.audit({ resourceId: id, childId: withdrawn.child_id });
  return toAssessment(withdrawn);
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
 * The child's assessments as the caller may see them: its own units' in full; other units'
 * only on a basis (consent or transition guideline), marked with it and without free text
 * unless a consent covers notes; the rest withheld.
 */
async function shareAssessments(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  rows: readonly AssessmentRow[],
) {
  const ctx = await session.access.sharing(trx, childId);
  const { shown, withheld } = await session.access.judge(
    trx,
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
 * An assessment the caller may read: 404 when it or its child is not visible; 403 when it was
 * made in another unit and no consent or guideline shares it with the caller.
 */
async function visibleAssessment(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<{ row: AssessmentRow; assessment: Assessment }> {
  const row = await findAssessment(trx, allUnits(session), id);
  if (!row) throw new NotFoundError('assessment', id);
  await requireVisibleChild(session, trx, row.child_id, id);
  const { items, withheld, ownDutiesOnly } = await shareAssessments(session, trx, row.child_id, [
    row,
  ]);
  const assessment = items[0];
  if (!assessment && ownDutiesOnly) throw new NotFoundError('assessment', id);
  if (!assessment) {
    throw new NoSharingBasisError(`Assessment ${id}`, withheld[0]?.item.unitKind ?? 'unknown');
  }
  return { row, assessment };
}

/**
 * One assessment version, with the child's own self-report beside it (issue 18): that one
 * exists and, where the purpose stated to the child covers the caller, its zone
 * (self-reports/service.ts, `selfReportBeside`). Read here, never with the submission.
 */
export async function getAssessment(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<AssessmentView> {
  const { row, assessment } = await visibleAssessment(session, trx, id);
  const selfReport = await selfReportBeside(session, trx, row.child_id, row.assessed_on);
  session.audit({
    resourceId: id,
    childId: row.child_id,
    ...(selfReport ? { criteria: { selfReport: selfReport.id, view: selfReport.view } } : {}),
  });
  return selfReport ? { ...assessment, selfReport } : assessment;
}

export async function getAssessmentHistory(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<{ items: Assessment[] }> {
  const { row } = await visibleAssessment(session, trx, id);
  const versions = await assessmentHistory(trx, allUnits(session), row.lineage_id);
  session.audit({ resourceId: id, childId: row.child_id, criteria: { history: true } });
  // Versions follow the same rules (a correction may have moved the assessment's unit).
  return { items: (await shareAssessments(session, trx, row.child_id, versions)).items };
}

/**
 * A child's assessments in date order as the caller may see them (see `shareAssessments`), and
 * what is withheld; 404 when the caller cannot see the child. Reports no audit entry: the
 * caller's service does (the timeline here, the FHIR bundle of the child).
 */
export async function sharedTimeline(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  includeWithdrawn: boolean,
) {
  const rows = await childTimeline(
    trx,
    allUnits(session),
    childId,
    includeWithdrawn,
    session.access.children(),
  );
  if (rows.length === 0 && !(await session.access.seesChild(trx, childId))) {
    throw new NotFoundError('child', childId);
  }
  const { items, withheld } = await shareAssessments(session, trx, childId, rows);
  return { items, withheld };
}

/**
 * A child's assessments in date order. The child's visibility is checked in the same statement
 * that reads its assessments: no assessment of a child the caller cannot see is ever read.
 */
export async function getTimeline(
  session: Session,
  trx: Transaction<DB>,
  input: { childId: string; includeWithdrawn: boolean },
) {
  const { childId, includeWithdrawn } = input;
  const { items, withheld } = await sharedTimeline(session, trx, childId, includeWithdrawn);
  session.audit({
    childId,
    criteria: { timeline: true, includeWithdrawn, withheld: withheld.length },
  });
  return { childId, items, withheld: withheldSummary(withheld.map((w) => w.item)) };
}

/**
 * Assessments in change order, for an incremental sync: of the children the caller sees, and
 * for unit-limited keys made in their units only (another unit's assessments reach them only
 * through a child's timeline, under a consent or guideline). Social workers see single
 * children's timelines, not lists.
 */
export async function listAssessments(
  session: Session,
  trx: Transaction<DB>,
  query: AssessmentListQuery,
) {
  if (session.access.isSocialWorker) {
    throw new ForbiddenError(
      "Social workers read the assessments of the children they are involved with through each child's timeline.",
    );
  }
  if (query.unitId) session.access.requireUnit(query.unitId);
  const after = query.cursor ? decodeCursor(query.cursor, changedCursorSchema) : undefined;
  const rows = await listChangedAssessments(
    trx,
    { municipalityId: session.municipalityId, unitIds: session.access.unitIds },
    session.access.children(),
    {
      roundId: query.roundId,
      unitId: query.unitId,
      childId: query.childId,
      updatedSince: query.updatedSince,
      after: after ? { at: after[0], id: after[1] } : undefined,
      limit: query.limit,
    },
  );
  session.audit({
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(
    rows,
    query.limit,
    (row) => toAssessment(row),
    (row) => [row.changed_at_key, row.id],
  );
}
