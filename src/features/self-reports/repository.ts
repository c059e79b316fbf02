import { type Insertable, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { SelfReportsTable } from '../../db/schema.js';

const selfReportColumns = [
  'self_reports.id',
  'self_reports.child_id',
  'self_reports.unit_id',
  sql<string>`self_reports.reported_on::text`.as('reported_on'),
  'self_reports.ruler_key',
  'self_reports.ruler_version',
  'self_reports.answers',
  'self_reports.zone',
  'self_reports.score',
  'self_reports.explanation',
  'self_reports.purpose',
  'self_reports.shared_with_parents',
  'self_reports.present_name',
  'self_reports.present_role',
  'self_reports.created_at',
  'self_reports.created_by',
] as const;

/** The municipality's self-reports, for the caller to filter and order (no purpose filter). */
export function selectSelfReports(db: Executor, municipalityId: string) {
  return db
    .selectFrom('self_reports')
    .select(selfReportColumns)
    .where('self_reports.municipality_id', '=', municipalityId);
}

export type SelfReportRow = Awaited<
  ReturnType<ReturnType<typeof selectSelfReports>['executeTakeFirstOrThrow']>
>;

/** A child's self-reports by date (every purpose: the caller applies the audience). */
export function childSelfReports(db: Executor, municipalityId: string, childId: string) {
  return selectSelfReports(db, municipalityId)
    .where('self_reports.child_id', '=', childId)
    .orderBy('self_reports.reported_on')
    .orderBy('self_reports.created_at')
    .orderBy('self_reports.id')
    .execute();
}

export function insertSelfReport(db: Executor, values: Insertable<SelfReportsTable>) {
  return db
    .insertInto('self_reports')
    .values(values)
    .returning(selfReportColumns)
    .executeTakeFirstOrThrow();
}

/**
 * Anonymous counts for the aggregates: reports given for `purposes` (statistics only), dated in [from, to],
 * the latest per child (a child is counted once), by the child's age on that day and zone.
 */
export async function statisticsCounts(
  db: Executor,
  municipalityId: string,
  purposes: readonly string[],
  { from, to }: { from: string; to: string },
): Promise<{ age: number; zone: string | null; n: number }[]> {
  const { rows } = await sql<{ age: number; zone: string | null; n: number }>`
    WITH latest AS (
      SELECT DISTINCT ON (r.child_id) r.child_id, r.zone, r.reported_on
      FROM self_reports r
      WHERE r.municipality_id = ${municipalityId}
        AND r.purpose = ANY(${sql.val(purposes)}::text[])
        AND r.reported_on BETWEEN ${from}::date AND ${to}::date
      ORDER BY r.child_id, r.reported_on DESC, r.created_at DESC, r.id DESC
    )
    SELECT extract(year FROM age(latest.reported_on, c.birth_date))::int AS age,
           latest.zone, count(*)::int AS n
    FROM latest JOIN children c ON c.id = latest.child_id AND c.municipality_id = ${municipalityId}
    GROUP BY 1, 2
    ORDER BY 1, 2
  `.execute(db);
  return rows;
}
