import { CompiledQuery, type Kysely } from 'kysely';
import type { DB } from '../../src/db/schema.js';
import { addDays } from '../../src/domain/dates.js';
import type { AssessmentFacts } from '../../src/domain/guides/definition.js';
import { recommend } from '../../src/domain/guides/recommend.js';
import type { Tenant } from './setup.js';

/**
 * The data generator: plain SQL (INSERT … SELECT over generate_series) run as the schema owner,
 * on PostgreSQL and PGlite alike. Data comes in blocks of one "default municipality" each
 * (20,000 children and 60 units at --scale 1): block b holds children
 * [b·childrenPerBlock, (b+1)·childrenPerBlock) and units likewise, so growing the data set 1× →
 * 10× adds blocks 1–9 next to block 0: in the same municipality (a larger municipality, the
 * aggregates' --multiples), or one municipality per block (national scale, --history).
 *
 * Per block:
 * - units: nursery 13 %, integrated daycare 20 %, kindergarten 24 %, school 43 %, six districts;
 * - children aged 0–17 (uniform), 49 % girls, 49 % boys, 2 % sex unknown; Danish names;
 * - enrolments by age: under 3 nursery (60 %) or integrated daycare, 3–5 kindergarten (65 %)
 *   or integrated daycare, 6+ school, from 10 months / 3 / 6 years of age; the previous
 *   enrolment (nursery → kindergarten, daycare → school) when the move was within the rounds;
 * - per child and round, an assessment with probability 0.93 when enrolled on the drawn date,
 *   in the unit of that enrolment. Each child has a fixed profile — 75 % thriving, 20 %
 *   vulnerable, 5 % at risk — that sets the odds of green / yellow / red per round (overall about
 *   83 % / 12 % / 4 %), so zones persist between rounds like real ones;
 * - the assessment's stored columns (raters, answers, explanation, score) copied from a real
 *   assessment at the same level made through the API (Tenant.levels);
 * - its recommendation, steps and trajectory flags as the service makes them: recommend() of the
 *   preset action guide is evaluated for every (previous zone, zone) pair and the rows joined in;
 *   steps of older rounds are mostly done (85 %, 60 % for the round before the last, 30 % for
 *   the last), the rest open — the worklists;
 * - not-assessed flags for children enrolled during a round but not assessed in it, as the
 *   housekeeping sweep raises them (the rounds are marked as swept).
 *
 * Random numbers come from hashint8 of (row index, salt) mixed with the seed: the same seed and
 * sizes give the same data (ids and timestamps aside), on both engines.
 */

export interface SeedCounts {
  units: number;
  children: number;
  enrolments: number;
  assessments: number;
  recommendations: number;
  steps: number;
  flags: number;
  /** Audit entries written for the seeded history (three per assessment). */
  audits: number;
  seconds: number;
}

/** The sum of two seeding runs' counts. */
export function addCounts(a: SeedCounts, b: SeedCounts): SeedCounts {
  const sum = { ...a };
  for (const key of Object.keys(sum) as Array<keyof SeedCounts>) sum[key] += b[key];
  return sum;
}

export interface SeedShape {
  childrenPerBlock: number;
  unitsPerBlock: number;
  seed: number;
}

const DISTRICTS = ['Nord', 'Syd', 'Øst', 'Vest', 'Midtby', 'Kyst'];
const KIND_LABELS: Record<string, string> = {
  nursery: 'Vuggestuen',
  integrated_daycare: 'Børnehuset',
  kindergarten: 'Børnehaven',
  school: 'Skolen',
};
const GIVEN = [
  'Emma',
  'Ida',
  'Clara',
  'Freja',
  'Alma',
  'Ella',
  'Sofia',
  'Agnes',
  'Olivia',
  'Karla',
  'William',
  'Noah',
  'Oscar',
  'Lucas',
  'Carl',
  'Victor',
  'Malthe',
  'Alfred',
  'Emil',
  'Aksel',
];
const FAMILY = [
  'Jensen',
  'Nielsen',
  'Hansen',
  'Pedersen',
  'Andersen',
  'Christensen',
  'Larsen',
  'Sørensen',
  'Rasmussen',
  'Jørgensen',
  'Petersen',
  'Madsen',
  'Kristensen',
  'Olsen',
  'Thomsen',
];

/** The unit kind at position p of a block of n units. */
function unitKind(p: number, n: number): string {
  const f = (p + 0.5) / n;
  return f < 0.13
    ? 'nursery'
    : f < 0.33
      ? 'integrated_daycare'
      : f < 0.57
        ? 'kindergarten'
        : 'school';
}

type Zone = 'green' | 'yellow' | 'red';
const ZONES: Zone[] = ['green', 'yellow', 'red'];
const PREV_ON = '1901-01-01';
const CURRENT_ON = '1902-01-01';

/** recommend() of the guide for every (previous zone, zone) pair, as rows to join in SQL. */
export function recommendationTemplates(tenant: Tenant) {
  const facts = (id: string, on: string, round: string, zone: Zone): AssessmentFacts => ({
    id,
    assessedOn: on,
    roundId: round,
    roundStart: on,
    rulerKey: 'topi-3',
    higherIsBetter: false,
    zone,
    level: ZONES.indexOf(zone) + 1,
    redFlagCategories: [],
    redFlags: [],
  });
  const recs: unknown[] = [];
  const steps: unknown[] = [];
  const flags: unknown[] = [];
  for (const prev of [null, ...ZONES]) {
    for (const zone of ZONES) {
      const key = { prev: prev ?? 'none', zone };
      const previous = prev ? [facts('a', PREV_ON, '@prev_round@', prev)] : [];
      const result = recommend(facts('b', CURRENT_ON, '@round@', zone), previous, tenant.guide);
      recs.push({
        ...key,
        previous_zone: result.previousZone,
        zone_changed: result.zoneChanged,
        flags: result.flags,
        summary: result.summary,
      });
      result.steps.forEach((step, position) => {
        let dueDays = 0;
        while (addDays(CURRENT_ON, dueDays) < step.dueOn) dueDays += 1;
        steps.push({
          ...key,
          position,
          step_key: step.stepId,
          title: step.title,
          description: step.description,
          involve: step.involve,
          responsible: step.responsible,
          mandatory: step.mandatory,
          legal_reference: step.legalReference,
          purpose: step.purpose,
          source: step.source,
          due_days: dueDays,
        });
      });
      for (const flag of result.flags) flags.push({ ...key, kind: flag.kind, reason: flag.reason });
    }
  }
  return { recs, steps, flags };
}

export class Seeder {
  readonly #db: Kysely<DB>;
  readonly #tenant: Tenant;
  readonly #shape: SeedShape;
  readonly #log: (message: string) => void;

  constructor(db: Kysely<DB>, tenant: Tenant, shape: SeedShape, log: (message: string) => void) {
    this.#db = db;
    this.#tenant = tenant;
    this.#shape = shape;
    this.#log = log;
  }

  /** A uniform number in [0, 1) from an integer expression and a salt (0–63), seeded. */
  #rnd(expr: string, salt: number): string {
    const mix = (this.#shape.seed * 1_000_003) % 2 ** 40;
    return `((hashint8(((${expr})::bigint * 64 + ${salt}) # ${mix}::bigint)::bigint + 2147483648) / 4294967296.0)`;
  }

  async #run(label: string, text: string, params: unknown[] = []): Promise<number> {
    const started = performance.now();
    const result = await this.#db.executeQuery(CompiledQuery.raw(text, params));
    const rows = Number(result.numAffectedRows ?? result.rows.length);
    this.#log(`  ${label}: ${rows} rows in ${((performance.now() - started) / 1000).toFixed(1)} s`);
    return rows;
  }

  /**
   * Adds blocks [from, to) of data to a municipality: the seeder's own by default, or another
   * one set up the same way (national growth: one municipality per block, see bench/run.ts).
   */
  async addBlocks(from: number, to: number, tenant: Tenant = this.#tenant): Promise<SeedCounts> {
    const started = performance.now();
    const { childrenPerBlock: cpb, unitsPerBlock: upb } = this.#shape;
    const t = tenant;
    const m = t.municipalityId;
    const c0 = from * cpb;
    const c1 = to * cpb;
    const r = (expr: string, salt: number) => this.#rnd(expr, salt);
    const lastRound = t.rounds.length - 1;
    const firstRoundStart = t.rounds[0]?.windowStart ?? t.today;
    const counts: SeedCounts = {
      units: 0,
      children: 0,
      enrolments: 0,
      assessments: 0,
      recommendations: 0,
      steps: 0,
      flags: 0,
      audits: 0,
      seconds: 0,
    };

    const units = {
      name: [] as string[],
      kind: [] as string[],
      district: [] as string[],
      ref: [] as string[],
    };
    for (let i = from * upb; i < to * upb; i++) {
      const kind = unitKind(i % upb, upb);
      units.name.push(`${KIND_LABELS[kind]} ${i + 1}`);
      units.kind.push(kind);
      units.district.push(DISTRICTS[(i % upb) % DISTRICTS.length] as string);
      units.ref.push(`bench-u-${i}`);
    }
    counts.units = await this.#run(
      'units',
      `INSERT INTO units (municipality_id, name, kind, district, external_ref)
       SELECT $1, name, kind, district, ref
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[]) AS u(name, kind, district, ref)`,
      [m, units.name, units.kind, units.district, units.ref],
    );

    counts.children = await this.#run(
      'children',
      `INSERT INTO children (municipality_id, external_ref, given_name, family_name, birth_date, sex)
       SELECT $1, 'bench-c-' || i,
              ($2::text[])[1 + floor(${r('i', 1)} * cardinality($2::text[]))::int],
              ($3::text[])[1 + floor(${r('i', 2)} * cardinality($3::text[]))::int],
              $4::date - 1 - floor(${r('i', 3)} * 6574)::int,
              CASE WHEN ${r('i', 4)} < 0.49 THEN 'female' WHEN ${r('i', 4)} < 0.98 THEN 'male' END
       FROM generate_series($5::int, $6::int - 1) AS i`,
      [m, GIVEN, FAMILY, t.today, c0, c1],
    );

    // The block's units by kind, numbered, so a child picks one of its block's units of a kind.
    const blockUnits = `
      SELECT id, kind, blk,
             row_number() OVER (PARTITION BY blk, kind ORDER BY idx) - 1 AS rn,
             count(*) OVER (PARTITION BY blk, kind) AS cnt
      FROM (SELECT id, kind, substr(external_ref, 9)::int AS idx,
                   substr(external_ref, 9)::int / ${upb} AS blk
            FROM units WHERE municipality_id = $1 AND external_ref LIKE 'bench-u-%') x
      WHERE blk >= ${from} AND blk < ${to}`;
    const blockChildren = `
      SELECT id, birth_date, idx, idx / ${cpb} AS blk
      FROM (SELECT id, birth_date, substr(external_ref, 9)::int AS idx
            FROM children WHERE municipality_id = $1 AND external_ref LIKE 'bench-c-%') x
      WHERE idx >= ${c0} AND idx < ${c1}`;

    counts.enrolments = await this.#run(
      'enrolments',
      `WITH u AS (${blockUnits}),
       c AS (SELECT *, date_part('year', age($2::date, birth_date))::int AS age FROM (${blockChildren}) y),
       p AS (
         SELECT c.*,
                CASE WHEN age < 3 THEN CASE WHEN ${r('idx', 5)} < 0.6 THEN 'nursery' ELSE 'integrated_daycare' END
                     WHEN age < 6 THEN CASE WHEN ${r('idx', 5)} < 0.65 THEN 'kindergarten' ELSE 'integrated_daycare' END
                     ELSE 'school' END AS kind
         FROM c),
       q AS (
         SELECT p.*,
                CASE kind WHEN 'school' THEN (birth_date + interval '6 years')::date
                          WHEN 'kindergarten' THEN (birth_date + interval '3 years')::date
                          ELSE birth_date + 300 END AS start_date,
                CASE kind WHEN 'school' THEN CASE WHEN ${r('idx', 6)} < 0.65 THEN 'kindergarten' ELSE 'integrated_daycare' END
                          WHEN 'kindergarten' THEN 'nursery' END AS prev_kind
         FROM p),
       periods AS (
         SELECT id, blk, idx, kind, start_date, NULL::date AS end_date, 7 AS salt
         FROM q WHERE start_date <= $2::date - 2
         UNION ALL
         SELECT id, blk, idx, prev_kind,
                CASE prev_kind WHEN 'kindergarten' THEN (birth_date + interval '3 years')::date
                               ELSE birth_date + 300 END,
                start_date - 1, 8
         FROM q WHERE prev_kind IS NOT NULL AND start_date > $3::date - 365)
       INSERT INTO enrolments (municipality_id, child_id, unit_id, start_date, end_date)
       SELECT $1, periods.id, u.id, periods.start_date, periods.end_date
       FROM periods
       JOIN u ON u.blk = periods.blk AND u.kind = periods.kind
             AND u.rn = floor(${r('periods.idx', 9)} * u.cnt)
       WHERE periods.start_date <= coalesce(periods.end_date, periods.start_date)`,
      [m, t.today, firstRoundStart],
    );

    const rounds = JSON.stringify(
      t.rounds.map((round) => ({
        id: round.id,
        idx: round.index,
        name: round.name,
        window_start: round.windowStart,
        window_end: round.windowEnd,
      })),
    );
    await this.#run('stage (drop)', 'DROP TABLE IF EXISTS bench_stage');
    await this.#run(
      'stage (create)',
      `CREATE UNLOGGED TABLE bench_stage (
         id uuid, rec_id uuid, child_id uuid, cidx int, round_id uuid, ridx int, assessed_on date,
         unit_id uuid, level int, zone text, prev_zone text, prev_round_id uuid,
         prev_assessed_on date, created_at timestamptz)`,
    );
    await this.#run(
      'stage',
      `WITH r AS (SELECT * FROM jsonb_to_recordset($2::jsonb)
                    AS r(id uuid, idx int, name text, window_start date, window_end date)),
       c AS (${blockChildren}),
       d AS (
         SELECT c.id AS child_id, c.idx AS cidx, r.id AS round_id, r.idx AS ridx,
                r.window_start + floor(${r('c.idx * 8 + r.idx', 10)} * (r.window_end - r.window_start + 1))::int AS assessed_on,
                ${r('c.idx * 8 + r.idx', 11)} AS r_cov,
                ${r('c.idx', 12)} AS r_class,
                ${r('c.idx * 8 + r.idx', 13)} AS r_level
         FROM c CROSS JOIN r),
       h AS (
         SELECT d.child_id, d.cidx, d.round_id, d.ridx, d.assessed_on, e.unit_id,
                CASE WHEN r_class < 0.75 THEN CASE WHEN r_level < 0.95 THEN 1 WHEN r_level < 0.995 THEN 2 ELSE 3 END
                     WHEN r_class < 0.95 THEN CASE WHEN r_level < 0.55 THEN 1 WHEN r_level < 0.90 THEN 2 ELSE 3 END
                     ELSE CASE WHEN r_level < 0.20 THEN 1 WHEN r_level < 0.60 THEN 2 ELSE 3 END END AS level
         FROM d JOIN enrolments e ON e.child_id = d.child_id AND e.start_date <= d.assessed_on
                                 AND (e.end_date IS NULL OR e.end_date >= d.assessed_on)
         WHERE d.r_cov < 0.93)
       INSERT INTO bench_stage
       SELECT gen_random_uuid(), gen_random_uuid(), child_id, cidx, round_id, ridx, assessed_on, unit_id,
              level, (ARRAY['green','yellow','red'])[level],
              lag((ARRAY['green','yellow','red'])[level]) OVER w,
              lag(round_id) OVER w, lag(assessed_on) OVER w,
              (assessed_on + time '08:00') + make_interval(mins => floor(${r('cidx * 8 + ridx', 15)} * 480)::int)
       FROM h WINDOW w AS (PARTITION BY child_id ORDER BY ridx)`,
      [m, rounds],
    );

    const levels = JSON.stringify(
      t.levels.map((l) => ({
        level: l.level,
        zone: l.zone,
        raters: l.raters,
        answers: l.answers,
        explanation: l.explanation,
        score: l.score,
        overall_level: l.overallLevel,
      })),
    );
    counts.assessments = await this.#run(
      'assessments',
      `INSERT INTO assessments (id, municipality_id, child_id, unit_id, round_id, ruler_version_id,
         assessed_on, raters, overall_level, answers, red_flags, parents_informed, zone, level, score,
         explanation, status, version, lineage_id, created_at, created_by)
       SELECT s.id, $1, s.child_id, s.unit_id, s.round_id, $2, s.assessed_on, t.raters, t.overall_level,
              t.answers, '{}', true, t.zone, t.level, t.score, t.explanation, 'current', 1, s.id,
              s.created_at, $3
       FROM bench_stage s
       JOIN jsonb_to_recordset($4::jsonb) AS t(level int, zone text, raters jsonb, answers jsonb,
              explanation jsonb, score float8, overall_level int) ON t.level = s.level`,
      [m, t.rulerVersionId, t.submitter.id, levels],
    );

    const templates = recommendationTemplates(t);
    const placeholders = (column: string) =>
      `replace(replace(replace(${column}, '${PREV_ON}', coalesce(s.prev_assessed_on::text, '')),
                               '@prev_round@', coalesce(s.prev_round_id::text, '')),
                       '@round@', s.round_id::text)`;
    const match = `t.prev = coalesce(s.prev_zone, 'none') AND t.zone = s.zone`;
    counts.recommendations = await this.#run(
      'recommendations',
      `INSERT INTO recommendations (id, municipality_id, child_id, unit_id, assessment_id,
         guide_version_id, zone, previous_zone, zone_changed, flags, summary, created_at)
       SELECT s.rec_id, $1, s.child_id, s.unit_id, s.id, $2, s.zone, t.previous_zone, t.zone_changed,
              ${placeholders('t.flags::text')}::jsonb, t.summary, s.created_at
       FROM bench_stage s
       JOIN jsonb_to_recordset($3::jsonb) AS t(prev text, zone text, previous_zone text,
              zone_changed boolean, flags jsonb, summary text) ON ${match}`,
      [m, t.guideVersionId, JSON.stringify(templates.recs)],
    );
    counts.steps = await this.#run(
      'recommendation steps',
      `INSERT INTO recommendation_steps (municipality_id, recommendation_id, child_id, unit_id, zone,
         position, step_key, title, description, involve, responsible, mandatory, legal_reference,
         purpose, source, due_on, status, status_changed_at, status_changed_by, created_at)
       SELECT $1, s.rec_id, s.child_id, s.unit_id, s.zone, t.position, t.step_key, t.title,
              t.description, t.involve, t.responsible, t.mandatory, t.legal_reference, t.purpose,
              t.source, s.assessed_on + t.due_days,
              CASE WHEN x.done THEN 'done' ELSE 'open' END,
              CASE WHEN x.done THEN (s.assessed_on + t.due_days)::timestamptz END,
              CASE WHEN x.done THEN $2::uuid END,
              s.created_at
       FROM bench_stage s
       JOIN jsonb_to_recordset($3::jsonb) AS t(prev text, zone text, position int, step_key text,
              title jsonb, description jsonb, involve text[], responsible text, mandatory boolean,
              legal_reference text, purpose text, source text, due_days int) ON ${match}
       CROSS JOIN LATERAL (SELECT ${r('(s.cidx * 8 + s.ridx) * 16 + t.position', 16)} <
         CASE ${lastRound} - s.ridx WHEN 0 THEN 0.3 WHEN 1 THEN 0.6 ELSE 0.85 END AS done) x`,
      [m, t.admin.id, JSON.stringify(templates.steps)],
    );
    counts.flags = await this.#run(
      'trajectory flags',
      `INSERT INTO flags (municipality_id, child_id, unit_id, kind, reason, assessment_id, round_id,
         raised_at, acknowledged_at, acknowledged_by)
       SELECT $1, s.child_id, s.unit_id, t.kind, ${placeholders('t.reason')}, s.id, s.round_id,
              s.created_at,
              CASE WHEN x.ack THEN s.created_at + interval '7 days' END,
              CASE WHEN x.ack THEN $2::uuid END
       FROM bench_stage s
       JOIN jsonb_to_recordset($3::jsonb) AS t(prev text, zone text, kind text, reason text) ON ${match}
       CROSS JOIN LATERAL (SELECT ${lastRound} - s.ridx >= 2
                                  AND ${r('s.cidx * 8 + s.ridx', 17)} < 0.8 AS ack) x`,
      [m, t.admin.id, JSON.stringify(templates.flags)],
    );
    counts.flags += await this.#run(
      'not-assessed flags',
      `WITH r AS (SELECT * FROM jsonb_to_recordset($2::jsonb)
                    AS r(id uuid, idx int, name text, window_start date, window_end date)),
       c AS (${blockChildren})
       INSERT INTO flags (municipality_id, child_id, unit_id, kind, reason, round_id, raised_at)
       SELECT DISTINCT ON (e.child_id, r.id) $1, e.child_id, e.unit_id, 'not_assessed',
              'Enrolled during round "' || r.name || '" (' || r.window_start || ' – ' || r.window_end
                || ') but not assessed.',
              r.id, (r.window_end + 1)::timestamptz
       FROM r
       JOIN enrolments e ON e.start_date <= r.window_end
                        AND (e.end_date IS NULL OR e.end_date >= r.window_start)
       JOIN c ON c.id = e.child_id
       WHERE NOT EXISTS (SELECT 1 FROM bench_stage s WHERE s.child_id = e.child_id AND s.round_id = r.id)
       ORDER BY e.child_id, r.id, e.start_date DESC
       ON CONFLICT (child_id, unit_id, round_id) WHERE kind = 'not_assessed' DO NOTHING`,
      [m, rounds],
    );
    // The audit trail the service would have written: per assessment its creation (the
    // integration key) and, in realistic proportion, reads of the child (the timeline) and a
    // step update (the municipality admin): three entries per assessment on average.
    counts.audits = await this.#run(
      'audit entries',
      `INSERT INTO audit_log (occurred_at, municipality_id, principal_kind, principal_id, role,
         action, resource_type, resource_id, child_id, outcome, status_code, request_id)
       SELECT s.created_at + make_interval(days => a.k * 9), $1, 'api_key',
              CASE a.k WHEN 0 THEN $2::uuid ELSE $3::uuid END::text,
              CASE a.k WHEN 0 THEN 'integration' ELSE 'municipality_admin' END,
              (ARRAY['create','read','update'])[a.k + 1],
              CASE a.k WHEN 0 THEN 'assessment' WHEN 1 THEN 'child' ELSE 'recommendation_step' END,
              CASE a.k WHEN 1 THEN s.child_id ELSE s.id END::text, s.child_id, 'success',
              CASE a.k WHEN 0 THEN 201 ELSE 200 END, gen_random_uuid()::text
       FROM bench_stage s CROSS JOIN generate_series(0, 2) AS a(k)`,
      [m, t.submitter.id, t.admin.id],
    );
    await this.#run(
      'rounds swept',
      `UPDATE rounds SET not_assessed_flagged_at = now()
       WHERE municipality_id = $1 AND not_assessed_flagged_at IS NULL`,
      [m],
    );
    await this.#run('stage (drop)', 'DROP TABLE bench_stage');
    counts.seconds = (performance.now() - started) / 1000;
    return counts;
  }

  /** Fresh statistics and visibility maps, as a long-lived database would have. */
  async analyze(): Promise<number> {
    const started = performance.now();
    await this.#db.executeQuery(CompiledQuery.raw('VACUUM (ANALYZE)'));
    const seconds = (performance.now() - started) / 1000;
    this.#log(`  vacuum analyze: ${seconds.toFixed(1)} s`);
    return seconds;
  }
}
