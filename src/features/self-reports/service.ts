import { randomUUID } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import { compareDates } from '../../domain/dates.js';
import {
  ageRefusal,
  classifySelfReport,
  countsInStatistics,
  purposeStatements,
  type SelfReportPurpose,
  type SelfReportView,
  selfReportAudience,
  selfReportDefects,
  selfReportPurposes,
  selfReportRuler,
  selfReportRulers,
  sideBySide,
} from '../../domain/self-report.js';
import { suppressTable } from '../../domain/suppression.js';
import type { FieldError } from '../../errors.js';
import { NotFoundError, ValidationFailedError } from '../../errors.js';
import type { Session } from '../../request/session.js';
import { listEnrolments } from '../children/repository.js';
import { requireChild } from '../children/service.js';
import { requireUnit } from '../units/repository.js';
import {
  childSelfReports,
  insertSelfReport,
  type SelfReportRow,
  selectSelfReports,
  statisticsCounts,
} from './repository.js';
import type {
  CreateSelfReport,
  SelfReport,
  SelfReportLink,
  SelfReportStatistics,
} from './schemas.js';

/**
 * How much of one report the caller may see in a case view: the purpose stated to the child
 * decides (domain/self-report.ts, `selfReportAudience`); this only supplies the facts about the
 * caller. A social worker's involvement with the child is the access policy's rule, already
 * applied by the caller (the child is visible to it), so `involved` is true for any social
 * worker that got this far.
 */
function viewOf(session: Session, row: Pick<SelfReportRow, 'purpose' | 'unit_id'>): SelfReportView {
  const { principal } = session;
  return selfReportAudience(row.purpose, {
    role: principal.role,
    ownUnit: principal.unitIds.includes(row.unit_id),
    involved: principal.role === 'social_worker',
  });
}

export function toSelfReport(row: SelfReportRow, view: 'full' | 'existence'): SelfReport {
  const full = view === 'full';
  return {
    id: row.id,
    childId: row.child_id,
    unitId: row.unit_id,
    reportedOn: row.reported_on,
    purpose: row.purpose,
    rulerKey: row.ruler_key,
    rulerVersion: row.ruler_version,
    view,
    answers: full ? (row.answers as SelfReport['answers']) : null,
    zone: full ? row.zone : null,
    score: full ? row.score : null,
    explanation: full ? (row.explanation as SelfReport['explanation']) : null,
    sharedWithParents: row.shared_with_parents,
    presentAdult: { name: row.present_name, role: row.present_role },
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

const cannot = 'The self-report cannot be recorded.';

/**
 * Records a child's self-report: the child must be enrolled in the unit on the day, and of the
 * ruler's ages (10–16 on the day); the answers are checked against the ruler and rolled into a
 * zone. The answer shows what the purpose lets the recorder see: an integration, or anyone
 * recording for statistics only, gets the report's existence back, not the child's answers.
 */
export async function createSelfReport(
  session: Session,
  trx: Transaction<DB>,
  input: CreateSelfReport,
): Promise<SelfReport> {
  const v = session.access.childrenToChange();
  const child = await requireChild(trx, v, input.childId);
  await requireUnit(trx, v.municipalityId, input.unitId);
  session.access.requireUnit(input.unitId);
  const ruler = selfReportRuler(input.rulerKey);
  if (!ruler) throw new NotFoundError('self-report ruler', input.rulerKey);

  const errors: FieldError[] = [];
  if (compareDates(input.reportedOn, session.today) > 0) {
    errors.push({ path: 'body.reportedOn', message: 'is in the future', code: 'future_date' });
  }
  const refusal = ageRefusal(ruler, child.birth_date, input.reportedOn);
  if (refusal) errors.push({ path: 'body.reportedOn', message: refusal.detail, code: 'age' });
  const enrolments = await listEnrolments(trx, v.municipalityId, child.id);
  const enrolled = enrolments.some(
    (e) =>
      e.unit_id === input.unitId &&
      compareDates(e.start_date, input.reportedOn) <= 0 &&
      (e.end_date === null || compareDates(input.reportedOn, e.end_date) <= 0),
  );
  if (!enrolled) {
    errors.push({
      path: 'body.unitId',
      message: `the child is not enrolled in this unit on ${input.reportedOn}`,
      code: 'not_enrolled',
    });
  }
  errors.push(...selfReportDefects(ruler, input.answers, 'body'));
  if (input.purpose === 'statistics_only' && input.sharedWithParents) {
    errors.push({
      path: 'body.sharedWithParents',
      message: 'a report for statistics only is seen by no one, parents included',
      code: 'purpose',
    });
  }
  if (errors.length > 0) throw new ValidationFailedError(cannot, errors);

  const result = classifySelfReport(ruler, input.answers);
  const row = await insertSelfReport(trx, {
    id: randomUUID(),
    municipality_id: v.municipalityId,
    child_id: child.id,
    unit_id: input.unitId,
    reported_on: input.reportedOn,
    ruler_key: ruler.key,
    ruler_version: ruler.version,
    answers: JSON.stringify(input.answers),
    zone: result.zone,
    score: result.score,
    explanation: JSON.stringify(result.explanation),
    purpose: input.purpose,
    shared_with_parents: input.sharedWithParents,
    present_name: input.presentAdult.name,
    present_role: input.presentAdult.role,
    created_by: session.principal.id,
  });
  session.audit({ resourceId: row.id, childId: child.id, criteria: { purpose: input.purpose } });
  // The recorder knows the report exists; its content only where the purpose covers it.
  return toSelfReport(row, viewOf(session, row) === 'full' ? 'full' : 'existence');
}

/** The reports of a visible child that the caller's view covers (404 for a hidden child). */
async function visibleReports(session: Session, trx: Transaction<DB>, childId: string) {
  if (!(await session.access.seesChild(trx, childId))) throw new NotFoundError('child', childId);
  const rows = await childSelfReports(trx, session.municipalityId, childId);
  return rows.flatMap((row) => {
    const view = viewOf(session, row);
    return view === 'none' ? [] : [{ row, view }];
  });
}

/** A child's self-reports, as far as their purposes cover the caller. */
export async function listChildSelfReports(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
): Promise<{ childId: string; items: SelfReport[] }> {
  const reports = await visibleReports(session, trx, childId);
  session.audit({
    childId,
    criteria: { selfReports: true, shown: reports.length },
  });
  return { childId, items: reports.map(({ row, view }) => toSelfReport(row, view)) };
}

/** One self-report; 404 when the child is hidden or the purpose does not cover the caller. */
export async function getSelfReport(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<SelfReport> {
  const row = await selectSelfReports(trx, session.municipalityId)
    .where('self_reports.id', '=', id)
    .executeTakeFirst();
  const view = row ? viewOf(session, row) : 'none';
  if (!row || view === 'none' || !(await session.access.seesChild(trx, row.child_id))) {
    throw new NotFoundError('self-report', id);
  }
  session.audit({ resourceId: id, childId: row.child_id });
  return toSelfReport(row, view);
}

/**
 * The self-report beside a professionals' assessment of the child (read with the assessment,
 * never with its submission): of the reports the caller's view covers, the nearest in date
 * (domain `sideBySide`), with its zone only where the view is full. The caller has already
 * checked that it sees the child, and audits the read.
 */
export async function selfReportBeside(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  assessedOn: string,
): Promise<SelfReportLink | null> {
  const rows = await childSelfReports(trx, session.municipalityId, childId);
  const candidates = rows.flatMap((row) => {
    const view = viewOf(session, row);
    return view === 'none' ? [] : [{ id: row.id, reportedOn: row.reported_on, row, view }];
  });
  const near = sideBySide(assessedOn, candidates);
  if (!near) return null;
  return {
    exists: true,
    id: near.id,
    reportedOn: near.reportedOn,
    purpose: near.row.purpose,
    zone: near.view === 'full' ? near.row.zone : null,
    view: near.view,
  };
}

/** The child-facing rulers, with the purposes as they are said to the child. */
export async function listSelfReportRulers(
  _session: Session,
  _trx: Transaction<DB>,
  _input: undefined,
) {
  return {
    items: selfReportRulers.map((r) => ({
      key: r.key,
      version: r.version,
      name: r.name,
      description: r.description,
      minAge: r.minAge,
      maxAge: r.maxAge,
      questions: r.definition.items.map((q) => ({
        key: q.key,
        label: q.label,
        allowSkip: q.allowNotApplicable,
      })),
      scale: r.definition.levels.map((l) => ({
        value: l.value,
        emoji: r.smileys.find((s) => s.value === l.value)?.emoji ?? '',
        label: l.label,
        zone: l.zone,
      })),
      minAnswered: r.definition.minAnsweredItems,
    })),
    purposes: selfReportPurposes.map((purpose: SelfReportPurpose) => ({
      purpose,
      statement: purposeStatements[purpose],
    })),
  };
}

const statisticsZones = ['green', 'yellow', 'red', null] as const;

/**
 * Anonymous aggregates of the self-reports given for statistics only (the one purpose that
 * covers this use: `selfReportAudience(…, 'statistics')`): children by age on the report's day
 * and zone of their latest report in the period, small cells suppressed with complements.
 */
export async function selfReportStatistics(
  session: Session,
  trx: Transaction<DB>,
  query: { from: string; to: string },
): Promise<SelfReportStatistics> {
  if (compareDates(query.from, query.to) > 0) {
    throw new ValidationFailedError('The period is empty.', [
      { path: 'query.to', message: 'is before from', code: 'range' },
    ]);
  }
  // Only the purposes whose audience includes statistics (domain: statistics_only).
  const purposes = selfReportPurposes.filter(countsInStatistics);
  const rows = await statisticsCounts(trx, session.municipalityId, purposes, query);
  const ruler = selfReportRulers[0];
  const ages: number[] = [];
  for (let age = ruler?.minAge ?? 10; age <= (ruler?.maxAge ?? 16); age++) ages.push(age);
  const matrix = ages.map((age) =>
    statisticsZones.map((zone) => rows.find((r) => r.age === age && r.zone === zone)?.n ?? 0),
  );
  const table = suppressTable(matrix, { rowTotals: true, columnTotals: true });
  const named = (
    cells: { value: number | null }[],
    total: { value: number | null } | undefined,
  ) => ({
    green: cells[0]?.value ?? null,
    yellow: cells[1]?.value ?? null,
    red: cells[2]?.value ?? null,
    noZone: cells[3]?.value ?? null,
    total: total?.value ?? null,
  });
  session.audit({ criteria: { from: query.from, to: query.to, aggregate: 'self_reports' } });
  return {
    from: query.from,
    to: query.to,
    purpose: 'statistics_only',
    rows: ages.map((age, i) => ({
      age,
      ...named(table.cells[i] ?? [], table.rowTotals?.[i]),
    })),
    totals: named(table.columnTotals ?? [], table.grandTotal),
  };
}
