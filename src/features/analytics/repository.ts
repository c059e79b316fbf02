import { type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { birthBounds } from '../../domain/rounds.js';
import type { RoundRow } from '../rounds/repository.js';
import { type AnalyticsFilter, ageBands, type Dimension } from './schemas.js';

/**
 * Every aggregate is computed the same way, in SQL: a "facts" subquery with one row per counted
 * thing (a covered child, a step, a report…) or per maintained count (zone distribution and
 * transitions: counts kept by the database as assessments are written, summed) carrying the same
 * dimension columns (below), filtered and grouped by whitelisted column names. Only counts and
 * percentiles leave the database.
 */

/** Whole months between two dates, as ageInMonths counts them (incl. the month-end rule). */
const monthsBetween = (from: RawBuilder<unknown>, to: RawBuilder<unknown>) => sql<number>`(
  (date_part('year', ${to}) - date_part('year', ${from})) * 12
  + date_part('month', ${to}) - date_part('month', ${from})
  - CASE WHEN date_part('day', ${to}) < date_part('day', ${from})
          AND ${to} <> (date_trunc('month', ${to}) + interval '1 month - 1 day')::date
         THEN 1 ELSE 0 END
)::int`;

/** The age band (whole years) of child `c` on a date; null outside 0–17. */
const ageBandOn = (on: RawBuilder<unknown>) => {
  const years = sql`date_part('year', age(${on}, c.birth_date))::int`;
  return sql<string | null>`CASE
    WHEN ${years} BETWEEN 0 AND 2 THEN '0-2'
    WHEN ${years} BETWEEN 3 AND 5 THEN '3-5'
    WHEN ${years} BETWEEN 6 AND 9 THEN '6-9'
    WHEN ${years} BETWEEN 10 AND 13 THEN '10-13'
    WHEN ${years} BETWEEN 14 AND 17 THEN '14-17'
  END`;
};

/**
 * The dimension columns of a facts row, from the aliases `r` (rounds, may be absent), `u` (units,
 * may be absent) and `c` (children). `period` is the date the period filter applies to and the
 * age band is computed on.
 */
function dimensionSelects(period: RawBuilder<unknown>, options: { rounds: boolean }) {
  const round = options.rounds
    ? [sql`r.window_start AS round_start`, sql`r.id AS round_id`, sql`r.name AS round_name`]
    : [sql`NULL::date AS round_start`, sql`NULL::uuid AS round_id`, sql`NULL::text AS round_name`];
  return sql.join([
    ...round,
    sql`u.id AS unit_id`,
    sql`u.name AS unit_name`,
    sql`u.district AS district`,
    sql`u.kind AS unit_kind`,
    sql`${ageBandOn(period)} AS age_band`,
    sql`c.sex AS sex`,
    sql`date_part('year', c.birth_date)::int AS cohort`,
    sql`date_part('year', ${period})::int AS year`,
    sql`${period} AS period_date`,
  ]);
}

/** The facts columns behind each grouping dimension, in sort order (rounds by their window). */
const dimensionColumns: Record<Dimension, string[]> = {
  round: ['round_start', 'round_id', 'round_name'],
  unit: ['unit_id', 'unit_name'],
  district: ['district'],
  unitKind: ['unit_kind'],
  ageBand: ['age_band'],
  sex: ['sex'],
  cohort: ['cohort'],
  year: ['year'],
};

const columnsOf = (dims: readonly Dimension[]) => dims.flatMap((d) => dimensionColumns[d]);

/** The filter on a facts row `f` (every part optional; an empty filter keeps everything). */
function factFilter(f: AnalyticsFilter) {
  const parts = [sql<boolean>`true`];
  if (f.roundIds?.length) parts.push(sql`f.round_id = ANY(${f.roundIds}::uuid[])`);
  if (f.from) parts.push(sql`f.period_date >= ${f.from}::date`);
  if (f.to) parts.push(sql`f.period_date <= ${f.to}::date`);
  if (f.unitIds?.length) parts.push(sql`f.unit_id = ANY(${f.unitIds}::uuid[])`);
  if (f.districts?.length) parts.push(sql`f.district = ANY(${f.districts}::text[])`);
  if (f.unitKinds?.length) parts.push(sql`f.unit_kind = ANY(${f.unitKinds}::text[])`);
  if (f.ageBands?.length) parts.push(sql`f.age_band = ANY(${f.ageBands}::text[])`);
  if (f.sex?.length) parts.push(sql`f.sex = ANY(${f.sex}::text[])`);
  return sql.join(parts, sql` AND `);
}

export type GroupRow = Record<string, unknown>;

/**
 * `SELECT <dimension columns>, <measures> FROM (<facts>) f WHERE <filter> GROUP BY … ORDER BY …`.
 * `extra` are facts columns grouped after the dimensions (e.g. the zone).
 */
async function grouped<R extends GroupRow>(
  db: Executor,
  facts: RawBuilder<unknown>,
  filter: AnalyticsFilter,
  dims: readonly Dimension[],
  measures: RawBuilder<unknown>[],
  extra: string[] = [],
): Promise<R[]> {
  const columns = [...columnsOf(dims), ...extra].map((c) => sql.ref(`f.${c}`));
  const { rows } = await sql<R>`
    SELECT ${sql.join([...columns, ...measures])}
    FROM (${facts}) f
    WHERE ${factFilter(filter)}
    ${columns.length ? sql`GROUP BY ${sql.join(columns)}` : sql``}
    ${columns.length ? sql`ORDER BY ${sql.join(columns.map((c) => sql`${c} NULLS FIRST`))}` : sql``}
  `.execute(db);
  return rows;
}

/**
 * The dimension columns of a row `x` of a maintained count: its round `r` (the round whose window
 * start is the period and the age band's date) and unit `u`, read as they are now, and the age
 * band, sex and cohort stored with the count.
 */
const countDimensions = sql`
  r.window_start AS round_start, r.id AS round_id, r.name AS round_name,
  u.id AS unit_id, u.name AS unit_name, u.district AS district, u.kind AS unit_kind,
  x.age_band, x.sex, x.cohort, date_part('year', r.window_start)::int AS year,
  r.window_start AS period_date
`;

/** The round columns alone, for the totals (no unit or child dimension to filter or group by). */
const roundDimensions = sql`
  r.window_start AS round_start, r.id AS round_id, r.name AS round_name,
  date_part('year', r.window_start)::int AS year, r.window_start AS period_date
`;

/** Whether a request only groups and filters by the round (and its period): totals suffice. */
const byRoundOnly = (f: AnalyticsFilter, groupBy: readonly Dimension[]) =>
  groupBy.every((d) => d === 'round') &&
  !f.unitIds?.length &&
  !f.districts?.length &&
  !f.unitKinds?.length &&
  !f.ageBands?.length &&
  !f.sex?.length;

export type ZoneCountRow = GroupRow & { zone: string | null; count: number };

/**
 * Current assessments in rounds (age band at the round's window start), counted per group and
 * zone. The database keeps these counts as assessments, children and rounds are written
 * (`zone_counts`, and per round only `zone_totals`; see
 * migrations/20261122_150000_analytics_aggregates.ts): a request sums over groups, never over
 * assessments.
 */
export function zoneCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<ZoneCountRow[]> {
  const facts = byRoundOnly(f, groupBy)
    ? sql`
        SELECT ${roundDimensions}, x.zone, x.n
        FROM (SELECT round_id, zone, sum(n)::int AS n FROM zone_totals
              WHERE municipality_id = ${municipalityId}
              GROUP BY round_id, zone) x
        JOIN rounds r ON r.id = x.round_id
      `
    : sql`
        SELECT ${countDimensions}, x.zone, x.n
        FROM zone_counts x
        JOIN rounds r ON r.id = x.round_id
        JOIN units u ON u.id = x.unit_id
        WHERE x.municipality_id = ${municipalityId}
      `;
  return grouped<ZoneCountRow>(db, facts, f, groupBy, [sql`sum(f.n)::int AS count`], ['zone']);
}

export type TransitionRow = GroupRow & {
  from_zone: string | null;
  to_zone: string | null;
  count: number;
};

/**
 * Children assessed in both rounds, counted per group by (zone in the first, zone in the second).
 * A child assessed in two units in a round counts with its latest assessment there; the group and
 * the filter are taken from that assessment in the second round. Read from the maintained
 * `transition_counts` (every ordered pair of rounds a child is in), or `transition_totals` when
 * nothing is grouped or filtered.
 */
export function transitionCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
  fromRoundId: string,
  toRoundId: string,
): Promise<TransitionRow[]> {
  const facts = byRoundOnly(f, groupBy)
    ? sql`
        SELECT ${roundDimensions}, x.from_zone, x.to_zone, x.n
        FROM (SELECT to_round_id, from_zone, to_zone, sum(n)::int AS n FROM transition_totals
              WHERE municipality_id = ${municipalityId}
                AND from_round_id = ${fromRoundId} AND to_round_id = ${toRoundId}
              GROUP BY to_round_id, from_zone, to_zone) x
        JOIN rounds r ON r.id = x.to_round_id
      `
    : sql`
        SELECT ${countDimensions}, x.from_zone, x.to_zone, x.n
        FROM transition_counts x
        JOIN rounds r ON r.id = x.to_round_id
        JOIN units u ON u.id = x.unit_id
        WHERE x.municipality_id = ${municipalityId}
          AND x.from_round_id = ${fromRoundId} AND x.to_round_id = ${toRoundId}
      `;
  return grouped<TransitionRow>(
    db,
    facts,
    { ...f, roundIds: undefined, from: undefined, to: undefined },
    groupBy,
    [sql`sum(f.n)::int AS count`],
    ['from_zone', 'to_zone'],
  );
}

export interface CoverageRow extends GroupRow {
  enrolled: number;
  assessed: number;
}

/**
 * Coverage of one round: the children the round covers (enrolled in a covered unit during the
 * window, in the age range), grouped; a child counts once per group, as assessed when it has a
 * current assessment in the round in a unit of the group.
 */
export function coverageCounts(
  db: Executor,
  municipalityId: string,
  round: RoundRow,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<CoverageRow[]> {
  const { bornFrom, bornTo } = birthBounds(round);
  const facts = sql`
    SELECT ${dimensionSelects(sql`r.window_start`, { rounds: true })}, e.child_id,
      EXISTS (
        SELECT 1 FROM assessments a
        WHERE a.child_id = e.child_id AND a.unit_id = e.unit_id
          AND a.round_id = r.id AND a.status = 'current') AS assessed
    FROM rounds r
    JOIN enrolments e ON e.municipality_id = r.municipality_id
      AND e.start_date <= r.window_end AND (e.end_date IS NULL OR e.end_date >= r.window_start)
    JOIN units u ON u.id = e.unit_id
    JOIN children c ON c.id = e.child_id
    WHERE r.id = ${round.id} AND r.municipality_id = ${municipalityId}
      ${round.unit_ids.length ? sql`AND u.id = ANY(${round.unit_ids}::uuid[])` : sql``}
      ${round.unit_kinds.length ? sql`AND u.kind = ANY(${round.unit_kinds}::text[])` : sql``}
      ${bornTo ? sql`AND c.birth_date <= ${bornTo}::date` : sql``}
      ${bornFrom ? sql`AND c.birth_date > ${bornFrom}::date` : sql``}
  `;
  return grouped<CoverageRow>(
    db,
    facts,
    { ...f, roundIds: undefined, from: undefined, to: undefined },
    groupBy.filter((d) => d !== 'round'),
    [
      sql`count(DISTINCT f.child_id)::int AS enrolled`,
      sql`count(DISTINCT f.child_id) FILTER (WHERE f.assessed)::int AS assessed`,
    ],
  );
}

export interface QuartileRow extends GroupRow {
  n: number;
  q1: number | null;
  median: number | null;
  q3: number | null;
}

const quartilesOf = (value: RawBuilder<unknown>) => [
  sql`count(${value})::int AS n`,
  sql`percentile_cont(0.25) WITHIN GROUP (ORDER BY ${value}) AS q1`,
  sql`percentile_cont(0.5) WITHIN GROUP (ORDER BY ${value}) AS median`,
  sql`percentile_cont(0.75) WITHIN GROUP (ORDER BY ${value}) AS q3`,
];

/**
 * Each child's first yellow or red assessment (over all its current assessments), with the
 * dimensions of that assessment (age band and period on its date).
 */
const firstAssessmentIn = (municipalityId: string, zones: string[]) => sql`
  SELECT DISTINCT ON (a.child_id) ${dimensionSelects(sql`a.assessed_on`, { rounds: true })},
         a.child_id, a.assessed_on, c.birth_date
  FROM assessments a
  JOIN children c ON c.id = a.child_id
  JOIN units u ON u.id = a.unit_id
  LEFT JOIN rounds r ON r.id = a.round_id
  WHERE a.municipality_id = ${municipalityId} AND a.status = 'current'
    AND a.zone = ANY(${zones}::text[])
  ORDER BY a.child_id, a.assessed_on, a.created_at, a.id
`;

/** Age in months at each child's first yellow/red assessment: quartiles per group. */
export function earlyDetection(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<QuartileRow[]> {
  return grouped<QuartileRow>(
    db,
    firstAssessmentIn(municipalityId, ['yellow', 'red']),
    f,
    groupBy,
    quartilesOf(monthsBetween(sql`f.birth_date`, sql`f.assessed_on`)),
  );
}

export interface StepRow extends GroupRow {
  due: number;
  done_on_time: number;
  open: number;
  overdue: number;
}

/**
 * Follow-up steps (not superseded) per group: due (done, or open past the deadline), done by the
 * deadline, open, overdue. The group is the step's unit and the assessment behind it (its round,
 * its date for the period and the age band).
 */
export function stepCounts(
  db: Executor,
  municipalityId: string,
  today: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<StepRow[]> {
  const facts = sql`
    SELECT ${dimensionSelects(sql`a.assessed_on`, { rounds: true })},
           s.status, s.due_on,
           (s.status_changed_at AT TIME ZONE 'Europe/Copenhagen')::date AS done_on
    FROM recommendation_steps s
    JOIN recommendations rec ON rec.id = s.recommendation_id
    JOIN assessments a ON a.id = rec.assessment_id
    JOIN units u ON u.id = s.unit_id
    JOIN children c ON c.id = s.child_id
    LEFT JOIN rounds r ON r.id = a.round_id
    WHERE s.municipality_id = ${municipalityId} AND s.status <> 'superseded'
  `;
  return grouped<StepRow>(db, facts, f, groupBy, [
    sql`count(*) FILTER (WHERE f.status = 'done'
      OR (f.status = 'open' AND f.due_on < ${today}::date))::int AS due`,
    sql`count(*) FILTER (WHERE f.status = 'done' AND f.done_on <= f.due_on)::int AS done_on_time`,
    sql`count(*) FILTER (WHERE f.status = 'open')::int AS open`,
    sql`count(*) FILTER (WHERE f.status = 'open' AND f.due_on < ${today}::date)::int AS overdue`,
  ]);
}

export interface NoticeRow extends GroupRow {
  due: number;
  informed_on_time: number;
  open: number;
  overdue: number;
  not_informed_risk: number;
}

/**
 * Parent-information duties (not superseded) per group, grouped by their unit and assessment:
 * due (closed, or open past the deadline), parents informed by the deadline, open, overdue, and
 * closed as not informed for the child's safety.
 */
export function noticeCounts(
  db: Executor,
  municipalityId: string,
  today: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<NoticeRow[]> {
  const facts = sql`
    SELECT ${dimensionSelects(sql`a.assessed_on`, { rounds: true })},
           n.status, n.due_on, n.informed_on
    FROM parent_notices n
    JOIN assessments a ON a.id = n.assessment_id
    JOIN units u ON u.id = n.unit_id
    JOIN children c ON c.id = n.child_id
    LEFT JOIN rounds r ON r.id = a.round_id
    WHERE n.municipality_id = ${municipalityId} AND n.status <> 'superseded'
      AND a.status = 'current'
  `;
  return grouped<NoticeRow>(db, facts, f, groupBy, [
    sql`count(*) FILTER (WHERE f.status <> 'open' OR f.due_on < ${today}::date)::int AS due`,
    sql`count(*) FILTER (WHERE f.status = 'informed'
      AND f.informed_on <= f.due_on)::int AS informed_on_time`,
    sql`count(*) FILTER (WHERE f.status = 'open')::int AS open`,
    sql`count(*) FILTER (WHERE f.status = 'open' AND f.due_on < ${today}::date)::int AS overdue`,
    sql`count(*) FILTER (WHERE f.status = 'not_informed_risk')::int AS not_informed_risk`,
  ]);
}

/**
 * Days from each child's first current red assessment to the first concern report about the
 * child on or after it (one value per child, grouped by that red assessment; children without a
 * report yet are left out).
 */
export function daysRedToReport(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<QuartileRow[]> {
  const facts = sql`
    SELECT fr.*,
      (SELECT min(cr.reported_on) FROM concern_reports cr
        WHERE cr.municipality_id = ${municipalityId} AND cr.child_id = fr.child_id
          AND cr.reported_on >= fr.assessed_on) - fr.assessed_on AS days
    FROM (${firstAssessmentIn(municipalityId, ['red'])}) fr
  `;
  return grouped<QuartileRow>(db, facts, f, groupBy, quartilesOf(sql`f.days`));
}

/**
 * The unit of a child's latest-starting enrolment overlapping [from, to], as a lateral join
 * producing `u` (inner: only children enrolled then; outer: `u` null when not enrolled).
 */
const unitDuring = (
  municipalityId: string,
  child: RawBuilder<unknown>,
  from: RawBuilder<unknown>,
  to: RawBuilder<unknown>,
  join: 'inner' | 'outer',
) => sql`
  ${join === 'inner' ? sql`JOIN` : sql`LEFT JOIN`} LATERAL (
    SELECT e.unit_id FROM enrolments e
    WHERE e.municipality_id = ${municipalityId} AND e.child_id = ${child}
      AND e.start_date <= ${to} AND (e.end_date IS NULL OR e.end_date >= ${from})
    ORDER BY e.start_date DESC, e.id
    LIMIT 1
  ) en ON true
  LEFT JOIN units u ON u.id = en.unit_id
`;

export interface ReportRow extends GroupRow {
  reports: number;
  under8: number;
  children: number;
  repeat_children: number;
}

/**
 * Concern reports per group: reports, reports about children under 8 (age at the report),
 * children reported and children with two or more reports in the group. The group is the child's
 * unit on the report date and its age on that date.
 */
export async function reportCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<ReportRow[]> {
  const facts = sql`
    SELECT ${dimensionSelects(sql`cr.reported_on`, { rounds: false })}, cr.child_id,
           ${monthsBetween(sql`c.birth_date`, sql`cr.reported_on`)} < 96 AS under8
    FROM concern_reports cr
    JOIN children c ON c.id = cr.child_id
    ${unitDuring(municipalityId, sql`cr.child_id`, sql`cr.reported_on`, sql`cr.reported_on`, 'outer')}
    WHERE cr.municipality_id = ${municipalityId}
  `;
  const perChild = await grouped<GroupRow>(
    db,
    facts,
    f,
    groupBy,
    [sql`count(*)::int AS n`, sql`count(*) FILTER (WHERE f.under8)::int AS n_under8`],
    ['child_id'],
  );
  // Folding the per-child rows of a group in Node is over at most one row per reported child
  // and group; the counting itself happened in SQL.
  const columns = columnsOf(groupBy);
  const groups = new Map<string, ReportRow>();
  for (const row of perChild) {
    const key = JSON.stringify(columns.map((c) => row[c]));
    const entry =
      groups.get(key) ??
      ({
        ...Object.fromEntries(columns.map((c) => [c, row[c]])),
        reports: 0,
        under8: 0,
        children: 0,
        repeat_children: 0,
      } as ReportRow);
    entry.reports += row.n as number;
    entry.under8 += row.n_under8 as number;
    entry.children += 1;
    if ((row.n as number) >= 2) entry.repeat_children += 1;
    groups.set(key, entry);
  }
  return [...groups.values()];
}

/**
 * Children aged 0–17 enrolled in the municipality at some point of the period, per group (the unit
 * of their latest enrolment in the period, age on the period's last day or today): the
 * denominator of rates per 1,000 children.
 */
export function childPopulation(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
  today: string,
): Promise<(GroupRow & { children: number })[]> {
  const end = sql`${f.to && f.to < today ? f.to : today}::date`;
  const start = sql`${f.from ?? '0001-01-01'}::date`;
  const facts = sql`
    SELECT ${dimensionSelects(end, { rounds: false })}, c.id AS child_id
    FROM children c
    ${unitDuring(municipalityId, sql`c.id`, start, end, 'inner')}
    WHERE c.municipality_id = ${municipalityId}
  `;
  return grouped(
    db,
    facts,
    // The period picks the enrolments above; only children aged 0–17 count.
    { ...f, from: undefined, to: undefined, ageBands: f.ageBands ?? [...ageBands] },
    groupBy,
    [sql`count(*)::int AS children`],
  );
}
