import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { AnalyticsFilter, Dimension } from './schemas.js';

/** Age in whole years at the round's window start, as a band label. */
const ageYears = sql`date_part('year', age(r.window_start, c.birth_date))::int`;
const ageBand = sql<string | null>`CASE
  WHEN ${ageYears} BETWEEN 0 AND 2 THEN '0-2'
  WHEN ${ageYears} BETWEEN 3 AND 5 THEN '3-5'
  WHEN ${ageYears} BETWEEN 6 AND 9 THEN '6-9'
  WHEN ${ageYears} BETWEEN 10 AND 13 THEN '10-13'
  WHEN ${ageYears} BETWEEN 14 AND 17 THEN '14-17'
END`;

/** The SQL columns behind each grouping dimension (whitelisted: never from user input). */
const dimensionColumns: Record<Dimension, { name: string; expr: RawBuilder<unknown> }[]> = {
  // Listed in sort order: rounds by their window.
  round: [
    { name: 'round_start', expr: sql`r.window_start` },
    { name: 'round_id', expr: sql`r.id` },
    { name: 'round_name', expr: sql`r.name` },
  ],
  unit: [
    { name: 'unit_id', expr: sql`u.id` },
    { name: 'unit_name', expr: sql`u.name` },
  ],
  district: [{ name: 'district', expr: sql`u.district` }],
  unitKind: [{ name: 'unit_kind', expr: sql`u.kind` }],
  ageBand: [{ name: 'age_band', expr: ageBand }],
  sex: [{ name: 'sex', expr: sql`c.sex` }],
};

function filterSql(municipalityId: string, f: AnalyticsFilter, options: { rounds: boolean }) {
  const parts = [sql`a.municipality_id = ${municipalityId}`, sql`a.status = 'current'`];
  if (options.rounds) {
    if (f.roundIds?.length) parts.push(sql`a.round_id = ANY(${f.roundIds}::uuid[])`);
    if (f.from) parts.push(sql`r.window_start >= ${f.from}::date`);
    if (f.to) parts.push(sql`r.window_start <= ${f.to}::date`);
  }
  if (f.unitIds?.length) parts.push(sql`u.id = ANY(${f.unitIds}::uuid[])`);
  if (f.districts?.length) parts.push(sql`u.district = ANY(${f.districts}::text[])`);
  if (f.unitKinds?.length) parts.push(sql`u.kind = ANY(${f.unitKinds}::text[])`);
  if (f.ageBands?.length) parts.push(sql`${ageBand} = ANY(${f.ageBands}::text[])`);
  if (f.sex?.length) parts.push(sql`c.sex = ANY(${f.sex}::text[])`);
  return sql.join(parts, sql` AND `);
}

export type ZoneCountRow = Record<string, unknown> & { zone: string | null; count: number };

/** Current assessments in rounds, counted per group and zone, in SQL. */
export async function zoneCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<ZoneCountRow[]> {
  const columns = groupBy.flatMap((d) => dimensionColumns[d]);
  const selects = columns.map((c) => sql`${c.expr} AS ${sql.id(c.name)}`);
  const groups = columns.map((c) => c.expr);
  const { rows } = await sql<ZoneCountRow>`
    SELECT ${sql.join([...selects, sql`a.zone`, sql`count(*)::int AS count`])}
    FROM assessments a
    JOIN rounds r ON r.id = a.round_id
    JOIN units u ON u.id = a.unit_id
    JOIN children c ON c.id = a.child_id
    WHERE ${filterSql(municipalityId, f, { rounds: true })}
    GROUP BY ${sql.join([...groups, sql`a.zone`])}
    ORDER BY ${sql.join([...groups.map((g) => sql`${g} NULLS FIRST`), sql`a.zone NULLS FIRST`])}
  `.execute(db);
  return rows;
}

/**
 * Children assessed in both rounds, counted by (zone in the first, zone in the second). A child
 * assessed in two units in a round counts with its latest assessment there.
 */
export async function transitionCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  fromRoundId: string,
  toRoundId: string,
): Promise<{ from_zone: string | null; to_zone: string | null; count: number }[]> {
  const latestIn = (roundId: string) => sql`
    SELECT DISTINCT ON (a.child_id) a.child_id, a.zone
    FROM assessments a
    JOIN rounds r ON r.id = a.round_id
    JOIN units u ON u.id = a.unit_id
    JOIN children c ON c.id = a.child_id
    WHERE ${filterSql(municipalityId, f, { rounds: false })} AND a.round_id = ${roundId}
    ORDER BY a.child_id, a.assessed_on DESC, a.created_at DESC, a.id
  `;
  const { rows } = await sql<{ from_zone: string | null; to_zone: string | null; count: number }>`
    SELECT f.zone AS from_zone, t.zone AS to_zone, count(*)::int AS count
    FROM (${latestIn(fromRoundId)}) f
    JOIN (${latestIn(toRoundId)}) t ON t.child_id = f.child_id
    GROUP BY f.zone, t.zone
  `.execute(db);
  return rows;
}

/** Whole months between two dates, as ageInMonths counts them (incl. the month-end rule). */
const monthsBetween = (from: RawBuilder<unknown>, to: RawBuilder<unknown>) => sql<number>`(
  (date_part('year', ${to}) - date_part('year', ${from})) * 12
  + date_part('month', ${to}) - date_part('month', ${from})
  - CASE WHEN date_part('day', ${to}) < date_part('day', ${from})
          AND ${to} <> (date_trunc('month', ${to}) + interval '1 month - 1 day')::date
         THEN 1 ELSE 0 END
)::int`;

export interface QuartileRow {
  n: number;
  q1: number | null;
  median: number | null;
  q3: number | null;
}

/** Age in months at each child's first yellow/red assessment, quartiles by birth year and district. */
export async function earlyDetection(
  db: Executor,
  municipalityId: string,
  f: { unitIds?: string[] | undefined; districts?: string[] | undefined },
) {
  const filters = [sql`a.municipality_id = ${municipalityId}`, sql`a.status = 'current'`];
  if (f.unitIds?.length) filters.push(sql`a.unit_id = ANY(${f.unitIds}::uuid[])`);
  if (f.districts?.length) filters.push(sql`u.district = ANY(${f.districts}::text[])`);
  const { rows } = await sql<QuartileRow & { birth_year: number; district: string | null }>`
    WITH first_concern AS (
      SELECT DISTINCT ON (a.child_id) a.child_id, a.assessed_on, c.birth_date, u.district
      FROM assessments a
      JOIN children c ON c.id = a.child_id
      JOIN units u ON u.id = a.unit_id
      WHERE ${sql.join(filters, sql` AND `)} AND a.zone IN ('yellow', 'red')
      ORDER BY a.child_id, a.assessed_on, a.created_at, a.id
    )
    SELECT date_part('year', birth_date)::int AS birth_year, district,
           count(*)::int AS n,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY ${monthsBetween(sql`birth_date`, sql`assessed_on`)}) AS q1,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY ${monthsBetween(sql`birth_date`, sql`assessed_on`)}) AS median,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY ${monthsBetween(sql`birth_date`, sql`assessed_on`)}) AS q3
    FROM first_concern
    GROUP BY 1, 2
    ORDER BY 1, 2 NULLS FIRST
  `.execute(db);
  return rows;
}

/** Follow-up per unit: steps due, done by their deadline, open and overdue. */
export async function stepStats(
  db: Executor,
  municipalityId: string,
  today: string,
  unitIds?: string[],
) {
  const { rows } = await sql<{
    unit_id: string;
    unit_name: string;
    due: number;
    done_on_time: number;
    open: number;
    overdue: number;
  }>`
    SELECT u.id AS unit_id, u.name AS unit_name,
      count(*) FILTER (WHERE s.status = 'done' OR (s.status = 'open' AND s.due_on < ${today}::date))::int AS due,
      count(*) FILTER (WHERE s.status = 'done'
        AND (s.status_changed_at AT TIME ZONE 'Europe/Copenhagen')::date <= s.due_on)::int AS done_on_time,
      count(*) FILTER (WHERE s.status = 'open')::int AS open,
      count(*) FILTER (WHERE s.status = 'open' AND s.due_on < ${today}::date)::int AS overdue
    FROM recommendation_steps s
    JOIN units u ON u.id = s.unit_id
    WHERE s.municipality_id = ${municipalityId} AND s.status <> 'superseded'
      ${unitIds?.length ? sql`AND u.id = ANY(${unitIds}::uuid[])` : sql``}
    GROUP BY u.id, u.name
    ORDER BY u.name, u.id
  `.execute(db);
  return rows;
}

/**
 * Days from each child's first current red assessment to the first concern report about the
 * child on or after it (one value per child; children without a report yet are left out).
 */
export async function daysRedToReport(
  db: Executor,
  municipalityId: string,
  unitIds?: string[],
): Promise<QuartileRow> {
  const { rows } = await sql<QuartileRow>`
    WITH first_red AS (
      SELECT DISTINCT ON (a.child_id) a.child_id, a.assessed_on
      FROM assessments a
      WHERE a.municipality_id = ${municipalityId} AND a.status = 'current' AND a.zone = 'red'
        ${unitIds?.length ? sql`AND a.unit_id = ANY(${unitIds}::uuid[])` : sql``}
      ORDER BY a.child_id, a.assessed_on, a.id
    ), lags AS (
      SELECT (SELECT min(cr.reported_on) FROM concern_reports cr
              WHERE cr.municipality_id = ${municipalityId} AND cr.child_id = r.child_id
                AND cr.reported_on >= r.assessed_on) - r.assessed_on AS days
      FROM first_red r
    )
    SELECT count(days)::int AS n,
           percentile_cont(0.25) WITHIN GROUP (ORDER BY days) AS q1,
           percentile_cont(0.5) WITHIN GROUP (ORDER BY days) AS median,
           percentile_cont(0.75) WITHIN GROUP (ORDER BY days) AS q3
    FROM lags WHERE days IS NOT NULL
  `.execute(db);
  return rows[0] ?? { n: 0, q1: null, median: null, q3: null };
}

/** Concern reports in a period: counts, under-8s (age at the report), repeat reports. */
export async function concernReportStats(
  db: Executor,
  municipalityId: string,
  f: { from?: string | undefined; to?: string | undefined },
) {
  const { rows } = await sql<{
    reports: number;
    under8: number;
    children: number;
    repeat_children: number;
  }>`
    WITH reports AS (
      SELECT cr.child_id, cr.reported_on, c.birth_date
      FROM concern_reports cr JOIN children c ON c.id = cr.child_id
      WHERE cr.municipality_id = ${municipalityId}
        ${f.from ? sql`AND cr.reported_on >= ${f.from}::date` : sql``}
        ${f.to ? sql`AND cr.reported_on <= ${f.to}::date` : sql``}
    ), per_child AS (
      SELECT child_id, count(*) AS n FROM reports GROUP BY child_id
    )
    SELECT (SELECT count(*) FROM reports)::int AS reports,
           (SELECT count(*) FROM reports
             WHERE ${monthsBetween(sql`birth_date`, sql`reported_on`)} < 96)::int AS under8,
           (SELECT count(*) FROM per_child)::int AS children,
           (SELECT count(*) FROM per_child WHERE n >= 2)::int AS repeat_children
  `.execute(db);
  return rows[0] ?? { reports: 0, under8: 0, children: 0, repeat_children: 0 };
}
