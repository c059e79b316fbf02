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
