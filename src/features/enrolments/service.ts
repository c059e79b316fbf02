import type { Transaction } from 'kysely';
import { searchCriteria } from '../../audit/audit.js';
import type { DB } from '../../db/schema.js';
import {
  conflictingEnrolments,
  type EnrolmentLike,
  enrolmentPeriodErrors,
  periodContains,
} from '../../domain/enrolments.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { requireIfMatch } from '../../http/etag.js';
import { changedCursorSchema, decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import { type EnrolmentRow, insertEnrolment, listEnrolments } from '../children/repository.js';
import type { CreateEnrolment } from '../children/schemas.js';
import { requireChild } from '../children/service.js';
import { requireUnit } from '../units/repository.js';
import type { UnitKind } from '../units/schemas.js';
import {
  currentAssessmentsDuring,
  listMunicipalityEnrolments,
  updateEnrolment,
} from './repository.js';
import type { Enrolment, EnrolmentListQuery, UpdateEnrolment } from './schemas.js';

export function toEnrolment(row: EnrolmentRow): Enrolment {
  return {
    id: row.id,
    childId: row.child_id,
    unitId: row.unit_id,
    unitKind: row.unit_kind as UnitKind,
    startDate: row.start_date,
    endDate: row.end_date,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function overlapProblem(session: Session, conflicts: EnrolmentLike[]): never {
  // Keys limited to units are not told about the child's enrolments in other units.
  const visible = conflicts.filter((c) => session.access.mayActInUnit(c.unitId));
  const list = visible
    .map((c) => `${c.id} (unit ${c.unitId}, ${c.start} – ${c.end ?? 'open'})`)
    .join(', ');
  throw new ConflictError(
    `The enrolment overlaps ${list ? `enrolment ${list}` : 'another enrolment of the child'} in ` +
      'the same unit or another unit of the same kind (one daycare place, one school and one ' +
      'after-school offer at a time). End that one first.',
    'enrolment-overlap',
  );
}

const asPeriod = (e: EnrolmentRow): EnrolmentLike => ({
  id: e.id,
  unitId: e.unit_id,
  unitKind: e.unit_kind,
  start: e.start_date,
  end: e.end_date,
});

export async function createEnrolment(
  session: Session,
  trx: Transaction<DB>,
  { childId, body: input }: { childId: string; body: CreateEnrolment },
): Promise<Enrolment> {
  const municipalityId = session.municipalityId;
  const child = await requireChild(trx, session.access.childrenToChange(), childId, {
    lock: true,
  });
  const unit = await requireUnit(trx, municipalityId, input.unitId);
  session.access.requireUnit(input.unitId);
  const period = { start: input.startDate, end: input.endDate ?? null };
  const errors = enrolmentPeriodErrors(period, child.birth_date, 'body');
  if (errors.length > 0) throw new ValidationFailedError('The enrolment cannot be made.', errors);
  const existing = await listEnrolments(trx, municipalityId, childId);
  const conflicts = conflictingEnrolments(
    { unitId: unit.id, unitKind: unit.kind, ...period },
    existing.map(asPeriod),
  );
  if (conflicts.length > 0) overlapProblem(session, conflicts);
  const row = await insertEnrolment(trx, {
    municipality_id: municipalityId,
    child_id: childId,
    unit_id: unit.id,
    start_date: period.start,
    end_date: period.end,
  });
  session.audit({ resourceId: row.id, childId });
  return toEnrolment({ ...row, unit_kind: unit.kind });
}

/** The child's enrolments the principal may see: keys limited to units, their units' only. */
async function visibleEnrolments(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
  enrolmentId: string | null,
): Promise<Enrolment[]> {
  const v = session.access.children();
  await requireChild(trx, v, childId);
  const visible = (await listEnrolments(trx, v.municipalityId, childId))
    .filter((e) => session.access.mayActInUnit(e.unit_id))
    .filter((e) => enrolmentId === null || e.id === enrolmentId)
    .map(toEnrolment);
  if (enrolmentId !== null && visible.length === 0) {
    throw new NotFoundError('enrolment', enrolmentId);
  }
  session.audit({ resourceId: enrolmentId, childId });
  return visible;
}

export async function listChildEnrolments(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
): Promise<{ items: Enrolment[] }> {
  return { items: await visibleEnrolments(session, trx, childId, null) };
}

/**
 * The municipality's enrolments in change order, for an incremental sync. Unit-limited keys get
 * the enrolments in their units only (also of children who have left them: the end of an
 * enrolment is a change a sync must see); another unit's enrolment is never listed.
 */
export async function listEnrolmentsChanged(
  session: Session,
  trx: Transaction<DB>,
  query: EnrolmentListQuery,
) {
  if (query.unitId) session.access.requireUnit(query.unitId);
  const after = query.cursor ? decodeCursor(query.cursor, changedCursorSchema) : undefined;
  const rows = await listMunicipalityEnrolments(trx, {
    municipalityId: session.municipalityId,
    unitIds: session.access.unitIds,
    unitId: query.unitId,
    childId: query.childId,
    updatedSince: query.updatedSince,
    after: after ? { at: after[0], id: after[1] } : undefined,
    limit: query.limit,
  });
  session.audit({
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(rows, query.limit, toEnrolment, (row) => [row.updated_at_key, row.id]);
}

export async function getEnrolment(
  session: Session,
  trx: Transaction<DB>,
  { childId, enrolmentId }: { childId: string; enrolmentId: string },
): Promise<Enrolment> {
  const [enrolment] = await visibleEnrolments(session, trx, childId, enrolmentId);
  if (!enrolment) throw new NotFoundError('enrolment', enrolmentId);
  return enrolment;
}

export async function changeEnrolment(
  session: Session,
  trx: Transaction<DB>,
  {
    childId,
    enrolmentId,
    body: input,
    ifMatch,
  }: {
    childId: string;
    enrolmentId: string;
    body: UpdateEnrolment;
    ifMatch?: string | undefined;
  },
): Promise<Enrolment> {
  const v = session.access.childrenToChange();
  const child = await requireChild(trx, v, childId, { lock: true });
  const existing = await listEnrolments(trx, v.municipalityId, childId);
  const current = existing.find((e) => e.id === enrolmentId);
  // Enrolments in units outside a unit-limited key's units are invisible to it.
  if (!current || !session.access.mayActInUnit(current.unit_id)) {
    throw new NotFoundError('enrolment', enrolmentId);
  }
  // Read after the child's lock, which every change of its enrolments takes first.
  requireIfMatch(ifMatch, toEnrolment(current), 'enrolment');
  const period = {
    start: input.startDate ?? current.start_date,
    end: input.endDate === undefined ? current.end_date : input.endDate,
  };
  const errors = enrolmentPeriodErrors(period, child.birth_date, 'body');
  if (errors.length > 0)
    throw new ValidationFailedError('The enrolment cannot be changed.', errors);
  const conflicts = conflictingEnrolments(
    { id: current.id, unitId: current.unit_id, unitKind: current.unit_kind, ...period },
    existing.map(asPeriod),
  );
  if (conflicts.length > 0) overlapProblem(session, conflicts);
  // Assessments made in this unit must stay inside the enrolment.
  const made = await currentAssessmentsDuring(trx, childId, current.unit_id, {
    start: current.start_date,
    end: current.end_date,
  });
  const outside = made.filter((a) => !periodContains(period, a.assessed_on));
  if (outside.length > 0) {
    throw new ConflictError(
      `The change would leave assessment(s) ${outside.map((a) => `${a.id} (${a.assessed_on})`).join(', ')} ` +
        'outside the enrolment. Correct or withdraw them first.',
      'assessments-outside-enrolment',
    );
  }
  const row = await updateEnrolment(
    trx,
    v.municipalityId,
    enrolmentId,
    {
      ...(input.startDate !== undefined ? { start_date: input.startDate } : {}),
      ...(input.endDate !== undefined ? { end_date: input.endDate } : {}),
    },
    session.now,
  );
  session.audit({ resourceId: enrolmentId, childId });
  return toEnrolment({ ...row, unit_kind: current.unit_kind });
}
