import type { Selectable } from 'kysely';
import type { ConcernReportsTable } from '../../db/schema.js';

export const concernColumns = [
  'id',
  'child_id',
  'reported_on',
  'reported_by_name',
  'reported_by_role',
  'reference',
  'completed_step_ids',
  'created_at',
  'created_by',
] as const;

export type ConcernReportRow = Pick<
  Selectable<ConcernReportsTable>,
  (typeof concernColumns)[number]
>;

export function toConcernReport(row: ConcernReportRow) {
  return {
    id: row.id,
    childId: row.child_id,
    reportedOn: row.reported_on,
    reportedBy: { name: row.reported_by_name, role: row.reported_by_role as 'unit_leader' },
    reference: row.reference,
    completedStepIds: row.completed_step_ids,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}
