import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { AnalyticsFilter } from '../analytics/schemas.js';

/** What one page query returns per assessment (the birth date never leaves the service). */
export interface ExportSourceRow {
  id: string;
  child_id: string;
  birth_date: string;
  sex: string | null;
  unit_id: string;
  unit_kind: string;
  district: string | null;
  round_id: string | null;
  round_name: string | null;
  /** The round's window start; null outside rounds. */
  round_start: string | null;
  /** Age band at the round's window start (as the analytics); null outside rounds or 0–17. */
  age_band: string | null;
  assessed_on: string;
  ruler_key: string;
  zone: string | null;
  level: number | null;
  score: number | null;
  red_flag_count: number;
  /** Sorted distinct kinds, comma-separated; null when no flag was raised. */
  flags: string | null;
  /** With `answers`: the item answers (a level, or "na"), and each item's domain. */
  answers?: Record<string, unknown>;
  domains?: Record<string, string | null> | null;
}

/**
 * Where the previous page ended: the keyset (assessed_on, id) of the detailed export, or
 * (round_id, id) of the default one, whose order must not follow the dates it does not publish
 * (ids are random).
 */
export type ExportCursor = { assessedOn: string; id: string } | { roundId: string; id: string };

/** Age in whole years at the round's window start, as the analytics' age bands count it. */
const ageBand = sql<string | null>`CASE
  WHEN date_part('year', age(r.window_start, c.birth_date))::int BETWEEN 0 AND 2 THEN '0-2'
  WHEN date_part('year', age(r.window_start, c.birth_date))::int BETWEEN 3 AND 5 THEN '3-5'
  WHEN date_part('year', age(r.window_start, c.birth_date))::int BETWEEN 6 AND 9 THEN '6-9'
  WHEN date_part('year', age(r.window_start, c.birth_date))::int BETWEEN 10 AND 13 THEN '10-13'
  WHEN date_part('year', age(r.window_start, c.birth_date))::int BETWEEN 14 AND 17 THEN '14-17'
END`;

/**
 * The analytics filters as conditions on `a` (assessments). Filters on units, rounds and
 * children are semi-joins, so a query without them reads the assessments table alone.
 */
function filterSql(municipalityId: string, f: AnalyticsFilter, inRounds: boolean) {
  const parts = [sql`a.municipality_id = ${municipalityId}`, sql`a.status = 'current'`];
  if (inRounds) parts.push(sql`a.round_id IS NOT NULL`);
  const rounds = [];
  if (f.roundIds?.length) rounds.push(sql`r.id = ANY(${f.roundIds}::uuid[])`);
  if (f.from) rounds.push(sql`r.window_start >= ${f.from}::date`);
  if (f.to) rounds.push(sql`r.window_start <= ${f.to}::date`);
  if (rounds.length > 0) {
    parts.push(sql`EXISTS (SELECT 1 FROM rounds r
      WHERE r.id = a.round_id AND ${sql.join(rounds, sql` AND `)})`);
  }
  const units = [];
  if (f.unitIds?.length) units.push(sql`u.id = ANY(${f.unitIds}::uuid[])`);
  if (f.districts?.length) units.push(sql`u.district = ANY(${f.districts}::text[])`);
  if (f.unitKinds?.length) units.push(sql`u.kind = ANY(${f.unitKinds}::text[])`);
  if (units.length > 0) {
    parts.push(sql`EXISTS (SELECT 1 FROM units u
      WHERE u.id = a.unit_id AND ${sql.join(units, sql` AND `)})`);
  }
  if (f.sex?.length) {
    parts.push(sql`EXISTS (SELECT 1 FROM children c
      WHERE c.id = a.child_id AND c.sex = ANY(${f.sex}::text[]))`);
  }
  if (f.ageBands?.length) {
    parts.push(sql`EXISTS (SELECT 1 FROM rounds r JOIN children c ON c.id = a.child_id
      WHERE r.id = a.round_id AND ${ageBand} = ANY(${f.ageBands}::text[]))`);
  }
  return sql.join(parts, sql` AND `);
}

/**
 * One keyset page of current assessments ordered by (assessed_on, id), or with `byRound` only
 * those in rounds ordered by (round_id, id), after `cursor`. The
 * page is chosen from the assessments alone (with the filters as semi-joins), and only its
 * rows are joined to children, units, rounds, rulers and flags.
 */
export async function exportPage(
  db: Executor,
  municipalityId: string,
  filter: AnalyticsFilter,
  cursor: ExportCursor | undefined,
  limit: number,
  byRound = false,
  answers = false,
): Promise<ExportSourceRow[]> {
  const after =
    cursor === undefined
      ? sql``
      : 'roundId' in cursor
        ? sql`AND (a.round_id, a.id) > (${cursor.roundId}::uuid, ${cursor.id}::uuid)`
        : sql`AND (a.assessed_on, a.id) > (${cursor.assessedOn}::date, ${cursor.id}::uuid)`;
  const { rows } = await sql<ExportSourceRow>`
    SELECT p.id, p.child_id, c.birth_date, c.sex, p.unit_id, u.kind AS unit_kind, u.district,
           p.round_id, r.name AS round_name, r.window_start AS round_start,
           CASE WHEN r.id IS NOT NULL THEN ${ageBand} END AS age_band,
           p.assessed_on, ru.key AS ruler_key,
           p.zone, p.level, p.score, cardinality(p.red_flags) AS red_flag_count,
           (SELECT string_agg(DISTINCT f.kind, ',' ORDER BY f.kind)
              FROM flags f WHERE f.assessment_id = p.id) AS flags
           ${
             answers
               ? sql`, p.answers, (SELECT jsonb_object_agg(i->>'key', i->>'domain')
                     FROM jsonb_array_elements(rv.definition->'items') i) AS domains`
               : sql``
           }
    FROM (
      SELECT a.id, a.child_id, a.unit_id, a.round_id, a.ruler_version_id, a.assessed_on,
             a.zone, a.level, a.score, a.red_flags${answers ? sql`, a.answers` : sql``}
      FROM assessments a
      WHERE ${filterSql(municipalityId, filter, byRound)} ${after}
      ORDER BY ${sql.raw(byRound ? 'a.round_id, a.id' : 'a.assessed_on, a.id')}
      LIMIT ${limit}
    ) p
    -- Looked up by primary key per row (LIMIT 1 keeps the planner from hashing the whole
    -- children table for every page: a 2,000-row page of a 200,000-child municipality).
    JOIN LATERAL (
      SELECT ch.birth_date, ch.sex FROM children ch WHERE ch.id = p.child_id LIMIT 1
    ) c ON true
    JOIN units u ON u.id = p.unit_id
    LEFT JOIN rounds r ON r.id = p.round_id
    JOIN ruler_versions rv ON rv.id = p.ruler_version_id
    JOIN rulers ru ON ru.id = rv.ruler_id
    ORDER BY ${sql.raw(byRound ? 'p.round_id, p.id' : 'p.assessed_on, p.id')}
  `.execute(db);
  return rows;
}
