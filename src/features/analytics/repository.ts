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
