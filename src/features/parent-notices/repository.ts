import { type ExpressionBuilder, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { parentViewWithheld, type WithholdingFacts } from '../../domain/parent-view.js';
import type { ParentNotice } from './schemas.js';

const noticeColumns = [
  'parent_notices.id',
  'parent_notices.child_id',
  'parent_notices.unit_id',
  'parent_notices.assessment_id',
  'parent_notices.reason',
  'parent_notices.zone',
  'parent_notices.previous_zone',
  sql<string>`parent_notices.assessed_on::text`.as('assessed_on'),
  sql<string>`parent_notices.due_on::text`.as('due_on'),
  'parent_notices.risk_categories',
  'parent_notices.status',
  sql<string | null>`parent_notices.informed_on::text`.as('informed_on'),
  'parent_notices.method',
  'parent_notices.informed_by_name',
  'parent_notices.informed_by_role',
  'parent_notices.note',
  'parent_notices.closed_at',
  'parent_notices.closed_by',
] as const;

/** The municipality's parent notices, for the caller to filter, order and page. */
export function selectNotices(db: Executor, municipalityId: string) {
  return db
    .selectFrom('parent_notices')
    .select(noticeColumns)
    .where('parent_notices.municipality_id', '=', municipalityId);
}

export type NoticeRow = Awaited<
  ReturnType<ReturnType<typeof selectNotices>['executeTakeFirstOrThrow']>
>;

/**
 * Which notices a unit-limited key sees: its units' open ones (the duty stays with the unit that
 * owes it after the child leaves), and its units' closed ones while the child is enrolled in one
 * of them — as for steps.
 */
export function noticesVisibleTo(unitIds: readonly string[], today: string) {
  return (eb: ExpressionBuilder<DB, 'parent_notices'>) =>
    unitIds.length === 0
      ? eb.and([])
      : eb.and([
          eb('parent_notices.unit_id', 'in', unitIds),
          eb.or([
            eb('parent_notices.status', '=', 'open'),
            eb.exists(
              eb
                .selectFrom('enrolments as visible')
                .select('visible.id')
                .whereRef('visible.child_id', '=', 'parent_notices.child_id')
                .where('visible.unit_id', 'in', unitIds)
                .where((e) =>
                  e.or([e('visible.end_date', 'is', null), e('visible.end_date', '>=', today)]),
                ),
            ),
          ]),
        ]);
}

export function toNotice(row: NoticeRow, today: string): ParentNotice {
  return {
    id: row.id,
    childId: row.child_id,
    unitId: row.unit_id,
    assessmentId: row.assessment_id,
    reason: row.reason as ParentNotice['reason'],
    zone: row.zone as ParentNotice['zone'],
    previousZone: row.previous_zone as ParentNotice['previousZone'],
    assessedOn: row.assessed_on,
    dueOn: row.due_on,
    overdue: row.status === 'open' && row.due_on < today,
    riskCategories: row.risk_categories,
    status: row.status as ParentNotice['status'],
    informedOn: row.informed_on,
    method: row.method as ParentNotice['method'],
    informedBy:
      row.informed_by_name === null
        ? null
        : { name: row.informed_by_name, role: row.informed_by_role ?? '' },
    note: row.note,
    closedAt: row.closed_at?.toISOString() ?? null,
    closedBy: row.closed_by,
  };
}

/**
 * Whether the parents must not be told anything now: the child's current assessments with red
 * flags and its parent notices (src/domain/parent-view.ts `parentViewWithheld`). Asked by the
 * letter, the closing of a notice and the parent view.
 */
export async function withholdingFacts(db: Executor, childId: string): Promise<WithholdingFacts> {
  const [flagged, notices] = await Promise.all([
    db
      .selectFrom('assessments')
      .select(['created_at', 'red_flags'])
      .where('child_id', '=', childId)
      .where('status', '=', 'current')
      .where(sql<boolean>`cardinality(red_flags) > 0`)
      .execute(),
    db
      .selectFrom('parent_notices as n')
      .innerJoin('assessments as a', 'a.id', 'n.assessment_id')
      .select(['a.created_at', 'n.status', 'n.risk_categories', 'n.risk_lifted_at'])
      .where('n.child_id', '=', childId)
      .where('a.status', '=', 'current')
      .execute(),
  ]);
  return {
    flagged: flagged.map((a) => ({
      recordedAt: a.created_at.toISOString(),
      redFlags: a.red_flags,
    })),
    notices: notices.map((n) => ({
      recordedAt: n.created_at.toISOString(),
      status: n.status as WithholdingFacts['notices'][number]['status'],
      riskCategories: n.risk_categories,
      riskLiftedAt: n.risk_lifted_at?.toISOString() ?? null,
    })),
  };
}

/** Whether the parents of the child must not be told anything now (see `withholdingFacts`). */
export async function parentsWithheld(db: Executor, childId: string): Promise<boolean> {
  return parentViewWithheld(await withholdingFacts(db, childId));
}
