import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { Period } from '../../domain/enrolments.js';
import { enrolmentColumns } from '../children/repository.js';

const columns = enrolmentColumns;

export function updateEnrolment(
  db: Executor,
  municipalityId: string,
  id: string,
  changes: { start_date?: string; end_date?: string | null },
  now: Date,
) {
  return db
    .updateTable('enrolments')
    .set({ ...changes, updated_at: now })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

/** The child's current assessments made in the unit during `period`. */
export function currentAssessmentsDuring(
  db: Executor,
  childId: string,
  unitId: string,
  period: Period,
) {
  return db
    .selectFrom('assessments')
    .select(['id', 'assessed_on'])
    .where('child_id', '=', childId)
    .where('unit_id', '=', unitId)
    .where('status', '=', 'current')
    .where('assessed_on', '>=', period.start)
    .where((eb) => (period.end === null ? eb.val(true) : eb('assessed_on', '<=', period.end)))
    .execute();
}

export interface EnrolmentFilter {
  municipalityId: string;
  /** A unit-limited principal sees only the enrolments in its units. */
  unitIds: readonly string[];
  unitId?: string | undefined;
  childId?: string | undefined;
  updatedSince?: string | undefined;
  after?: { at: string; id: string } | undefined;
  limit: number;
}

/** The municipality's enrolments in change order (updated_at, id); fetches `limit + 1`. */
export function listMunicipalityEnrolments(db: Executor, f: EnrolmentFilter) {
  let query = db
    .selectFrom('enrolments')
    .innerJoin('units', 'units.id', 'enrolments.unit_id')
    .select([
      ...columns,
      'units.kind as unit_kind',
      sql<string>`enrolments.updated_at::text`.as('updated_at_key'),
    ])
    .where('enrolments.municipality_id', '=', f.municipalityId)
    .orderBy('enrolments.updated_at')
    .orderBy('enrolments.id')
    .limit(f.limit + 1);
  if (f.unitIds.length > 0) query = query.where('enrolments.unit_id', 'in', f.unitIds);
  if (f.unitId) query = query.where('enrolments.unit_id', '=', f.unitId);
  if (f.childId) query = query.where('enrolments.child_id', '=', f.childId);
  if (f.updatedSince) {
    query = query.where('enrolments.updated_at', '>=', sql<Date>`${f.updatedSince}::timestamptz`);
  }
  if (f.after) {
    const { at, id } = f.after;
    query = query.where(
      sql<boolean>`(enrolments.updated_at, enrolments.id) > (${at}::timestamptz, ${id}::uuid)`,
    );
  }
  return query.execute();
}
