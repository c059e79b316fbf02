import { type Kysely, type RawBuilder, sql } from 'kysely';
import type { Executor } from '../../src/db/database.js';
import type {
  GroupRow,
  TransitionRow,
  ZoneCountRow,
} from '../../src/features/analytics/repository.js';
import type { AnalyticsFilter, Dimension } from '../../src/features/analytics/schemas.js';

/**
 * The zone-distribution and transition queries as they were before the counts were maintained
 * (src/features/analytics/repository.ts scanned every current assessment per request), kept as
 * the reference the maintained counts must equal. Test code only.
 */

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

function dimensionSelects(period: RawBuilder<unknown>) {
  return sql.join([
    sql`r.window_start AS round_start`,
    sql`r.id AS round_id`,
    sql`r.name AS round_name`,
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

const assessmentFacts = (municipalityId: string) => sql`
  SELECT ${dimensionSelects(sql`r.window_start`)},
         a.id, a.child_id, a.zone, a.assessed_on, a.created_at
  FROM assessments a
  JOIN rounds r ON r.id = a.round_id
  JOIN units u ON u.id = a.unit_id
  JOIN children c ON c.id = a.child_id
  WHERE a.municipality_id = ${municipalityId} AND a.status = 'current'
`;

export function referenceZoneCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
): Promise<ZoneCountRow[]> {
  return grouped<ZoneCountRow>(
    db,
    assessmentFacts(municipalityId),
    f,
    groupBy,
    [sql`count(*)::int AS count`],
    ['zone'],
  );
}

export function referenceTransitionCounts(
  db: Executor,
  municipalityId: string,
  f: AnalyticsFilter,
  groupBy: readonly Dimension[],
  fromRoundId: string,
  toRoundId: string,
): Promise<TransitionRow[]> {
  const latestIn = (roundId: string) => sql`
    SELECT DISTINCT ON (a.child_id) a.*
    FROM (${assessmentFacts(municipalityId)}) a
    WHERE a.round_id = ${roundId}
    ORDER BY a.child_id, a.assessed_on DESC, a.created_at DESC, a.id
  `;
  const facts = sql`
    SELECT t.*, p.zone AS from_zone, t.zone AS to_zone
    FROM (${latestIn(fromRoundId)}) p
    JOIN (${latestIn(toRoundId)}) t ON t.child_id = p.child_id
  `;
  return grouped<TransitionRow>(
    db,
    facts,
    { ...f, roundIds: undefined, from: undefined, to: undefined },
    groupBy,
    [sql`count(*)::int AS count`],
    ['from_zone', 'to_zone'],
  );
}

/**
 * The whole content the maintained tables should have, recomputed from the base tables with
 * the reference definitions above (every municipality; run as the owner), each as sorted JSON
 * lines so that two snapshots compare with toEqual.
 */
// biome-ignore lint/suspicious/noExplicitAny: the owner works on any schema
export async function expectedAggregates(db: Kysely<any>, municipalityId?: string) {
  const only = (column: string) =>
    municipalityId ? sql`AND ${sql.ref(column)} = ${municipalityId}` : sql``;
  const latest = sql`
    SELECT DISTINCT ON (a.child_id, a.round_id) a.*
    FROM (
      SELECT x.municipality_id, x.child_id, x.round_id, x.id, x.unit_id, x.zone, x.assessed_on,
             x.created_at, ${ageBandOn(sql`r.window_start`)} AS age_band, c.sex,
             date_part('year', c.birth_date)::int AS cohort
      FROM assessments x JOIN rounds r ON r.id = x.round_id JOIN children c ON c.id = x.child_id
      WHERE x.status = 'current' ${only('x.municipality_id')}
    ) a
    ORDER BY a.child_id, a.round_id, a.assessed_on DESC, a.created_at DESC, a.id
  `;
  const zones = await sql<Record<string, unknown>>`
    SELECT a.municipality_id, a.round_id, a.unit_id, ${ageBandOn(sql`r.window_start`)} AS age_band,
           c.sex, date_part('year', c.birth_date)::int AS cohort, a.zone, count(*)::int AS n
    FROM assessments a JOIN rounds r ON r.id = a.round_id JOIN children c ON c.id = a.child_id
    WHERE a.status = 'current' ${only('a.municipality_id')}
    GROUP BY 1, 2, 3, 4, 5, 6, 7
  `.execute(db);
  const moves = await sql<Record<string, unknown>>`
    SELECT t.municipality_id, p.round_id AS from_round_id, t.round_id AS to_round_id, t.unit_id,
           t.age_band, t.sex, t.cohort, p.zone AS from_zone, t.zone AS to_zone, count(*)::int AS n
    FROM (${latest}) p JOIN (${latest}) t ON t.child_id = p.child_id
    GROUP BY 1, 2, 3, 4, 5, 6, 7, 8, 9
  `.execute(db);
  const zoneTotals = await sql<Record<string, unknown>>`
    SELECT a.municipality_id, a.round_id, a.zone, hashtext(a.child_id::text) & 15 AS slot,
           count(*)::int AS n
    FROM assessments a
    WHERE a.status = 'current' AND a.round_id IS NOT NULL ${only('a.municipality_id')}
    GROUP BY 1, 2, 3, 4
  `.execute(db);
  const moveTotals = await sql<Record<string, unknown>>`
    SELECT t.municipality_id, p.round_id AS from_round_id, t.round_id AS to_round_id,
           p.zone AS from_zone, t.zone AS to_zone, hashtext(t.child_id::text) & 15 AS slot,
           count(*)::int AS n
    FROM (${latest}) p JOIN (${latest}) t ON t.child_id = p.child_id
    GROUP BY 1, 2, 3, 4, 5, 6
  `.execute(db);
  const facts = await sql<Record<string, unknown>>`
    SELECT x.municipality_id, x.child_id, x.round_id, x.id AS assessment_id, x.unit_id, x.zone,
           ${ageBandOn(sql`r.window_start`)} AS age_band, c.sex,
           date_part('year', c.birth_date)::int AS cohort,
           x.id IN (SELECT l.id FROM (${latest}) l) AS latest
    FROM assessments x JOIN rounds r ON r.id = x.round_id JOIN children c ON c.id = x.child_id
    WHERE x.status = 'current' ${only('x.municipality_id')}
  `.execute(db);
  return {
    zones: sorted(zones.rows),
    zoneTotals: sorted(zoneTotals.rows),
    moves: sorted(moves.rows),
    moveTotals: sorted(moveTotals.rows),
    facts: sorted(facts.rows),
    pending: [] as string[],
  };
}

/** The maintained tables' content, in the shape of expectedAggregates. */
// biome-ignore lint/suspicious/noExplicitAny: the owner works on any schema
export async function storedAggregates(db: Kysely<any>, municipalityId?: string) {
  const only = municipalityId ? sql`WHERE municipality_id = ${municipalityId}` : sql``;
  const zones = await sql<Record<string, unknown>>`
    SELECT municipality_id, round_id, unit_id, age_band, sex, cohort, zone, n FROM zone_counts ${only}
  `.execute(db);
  const moves = await sql<Record<string, unknown>>`
    SELECT municipality_id, from_round_id, to_round_id, unit_id, age_band, sex, cohort, from_zone,
           to_zone, n
    FROM transition_counts ${only}
  `.execute(db);
  const zoneTotals = await sql<Record<string, unknown>>`
    SELECT municipality_id, round_id, zone, slot, n FROM zone_totals ${only}
  `.execute(db);
  const moveTotals = await sql<Record<string, unknown>>`
    SELECT municipality_id, from_round_id, to_round_id, from_zone, to_zone, slot, n
    FROM transition_totals ${only}
  `.execute(db);
  const facts = await sql<Record<string, unknown>>`
    SELECT municipality_id, child_id, round_id, assessment_id, unit_id, zone, age_band, sex, cohort,
           latest
    FROM round_assessment_facts ${only}
  `.execute(db);
  const pending = await sql<Record<string, unknown>>`SELECT * FROM analytics_pending`.execute(db);
  return {
    zones: sorted(zones.rows),
    zoneTotals: sorted(zoneTotals.rows),
    moves: sorted(moves.rows),
    moveTotals: sorted(moveTotals.rows),
    facts: sorted(facts.rows),
    pending: sorted(pending.rows),
  };
}

const sorted = (rows: Record<string, unknown>[]) => rows.map((r) => JSON.stringify(r)).sort();
