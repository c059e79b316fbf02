import fc from 'fast-check';
import { sql, type Transaction } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope, platformScope } from '../../src/db/database.js';
import { createMigrator, migrateToLatest } from '../../src/db/migrations.js';
import type { DB } from '../../src/db/schema.js';
import { transitionCounts, zoneCounts } from '../../src/features/analytics/repository.js';
import type { AnalyticsFilter, Dimension } from '../../src/features/analytics/schemas.js';
import { transitionsOf, zoneDistributionOf } from '../../src/features/analytics/service.js';
import { cubeDimensions } from '../../src/features/analytics/zone-lattice.js';
import {
  expectedAggregates,
  referenceTransitionCounts,
  referenceZoneCounts,
  storedAggregates,
} from '../support/analytics-reference.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createScreeningTenant, createUnit } from '../support/factories.js';

/**
 * The zone distribution and the transitions read counts that triggers maintain as assessments,
 * children and rounds are written. Random sequences of writes — through the API (assessments,
 * corrections, withdrawals, changes to a child, erasure, changes to a unit) and as multi-row
 * statements of the application role (bulk inserts, withdrawals and changes, a round's window
 * moved) — must leave the maintained tables equal to a recomputation from the base tables, and
 * both endpoints answering exactly what the queries that scanned every assessment answered.
 */

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];
const sexes = ['female', 'male', 'other', null] as const;
type Sex = (typeof sexes)[number];
type Level = 1 | 2 | 3 | null;

type Op =
  | { kind: 'child'; birth: number; sex: Sex }
  | { kind: 'assess'; child: number; unit: number; round: number; day: number; level: Level }
  | {
      kind: 'correct';
      pick: number;
      unit: number | null;
      round: 'keep' | 'leave' | number;
      day: number;
      level: Level;
    }
  | { kind: 'withdraw'; pick: number }
  | { kind: 'patchChild'; child: number; sex: Sex | undefined; birth: number | undefined }
  | { kind: 'erase'; child: number }
  | { kind: 'patchUnit'; unit: number; district: string | null; unitKind: string | undefined }
  | { kind: 'bulkAssess'; round: number; units: number[]; salt: number }
  | { kind: 'bulkWithdraw'; round: number; zone: 'green' | 'yellow' | 'red' | null }
  | { kind: 'bulkSex'; salt: number }
  | { kind: 'window'; round: number; shift: number };

const level = fc.constantFrom<Level>(1, 2, 3, null);
const sex = fc.constantFrom<Sex>(...sexes);
/** Days after 2006-01-01, up to 2023-12-31 (before the enrolments start): ages 1 to 20. */
const birth = fc.integer({ min: 0, max: 6573 });
const unit = fc.integer({ min: 0, max: 2 });
const round = fc.integer({ min: 0, max: 2 });
const day = fc.integer({ min: 0, max: 59 });

const op: fc.Arbitrary<Op> = fc.oneof(
  { weight: 3, arbitrary: fc.record({ kind: fc.constant('child'), birth, sex }) },
  {
    weight: 8,
    arbitrary: fc.record({ kind: fc.constant('assess'), child: fc.nat(), unit, round, day, level }),
  },
  {
    weight: 4,
    arbitrary: fc.record({
      kind: fc.constant('correct'),
      pick: fc.nat(),
      unit: fc.option(unit),
      round: fc.oneof(fc.constant<'keep'>('keep'), fc.constant<'leave'>('leave'), round),
      day,
      level,
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant('withdraw'), pick: fc.nat() }) },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('patchChild'),
      child: fc.nat(),
      sex: fc.option(sex, { nil: undefined }),
      birth: fc.option(birth, { nil: undefined }),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('erase'), child: fc.nat() }) },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('patchUnit'),
      unit,
      district: fc.constantFrom('Nord', 'Syd', null),
      unitKind: fc.constantFrom('kindergarten', 'school', 'after_school', 'club', undefined),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bulkAssess'),
      round,
      units: fc.uniqueArray(unit, { minLength: 1, maxLength: 2 }),
      salt: fc.nat(),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('bulkWithdraw'),
      round,
      zone: fc.constantFrom<'green' | 'yellow' | 'red' | null>('green', 'yellow', 'red', null),
    }),
  },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant('bulkSex'), salt: fc.nat() }) },
  {
    weight: 3,
    arbitrary: fc.record({
      kind: fc.constant('window'),
      round,
      shift: fc.integer({ min: -400, max: 20 }),
    }),
  },
);

const isoDay = (base: string, days: number) =>
  new Date(Date.parse(`${base}T00:00:00Z`) + days * 86_400_000).toISOString().slice(0, 10);

interface World {
  municipalityId: string;
  token: string;
  topi: string;
  units: { id: string }[];
  rounds: { id: string; name: string; windowStart: string }[];
  children: string[];
}

async function world(t: EngineContext): Promise<World> {
  const s = await createScreeningTenant(t);
  const units = [
    await createUnit(t, s.admin.token, { kind: 'kindergarten', district: 'Nord' }),
    await createUnit(t, s.admin.token, { kind: 'school', district: 'Syd' }),
    await createUnit(t, s.admin.token, { kind: 'after_school' }),
  ];
  const rounds = [];
  for (const [name, windowStart, windowEnd] of [
    ['Forår 2025', '2025-03-01', '2025-04-29'],
    ['Efterår 2025', '2025-09-01', '2025-10-30'],
    ['Forår 2026', '2026-03-01', '2026-04-29'],
  ]) {
    const res = await t.call('POST', '/v1/rounds', {
      token: s.admin.token,
      body: { name, windowStart, windowEnd, rulerVersionId: s.topi },
    });
    expect(res.statusCode, res.body).toBe(201);
    rounds.push(res.json());
  }
  return {
    municipalityId: s.municipality.id,
    token: s.admin.token,
    topi: s.topi,
    units,
    rounds,
    children: [],
  };
}

/**
 * Enrolled in all three units from 2024-01-01 (of three kinds, so the places do not overlap),
 * so any unit may assess it in any round. After a unit's kind changed, an enrolment may be
 * refused: the child is then not assessed there, fine.
 */
async function addChild(t: EngineContext, w: World, birthDays: number, childSex: Sex) {
  const child = await createChild(t, w.token, {
    unitId: w.units[0]?.id as string,
    enrolledFrom: '2024-01-01',
    birthDate: isoDay('2006-01-01', birthDays),
    ...(childSex ? { sex: childSex } : {}),
  });
  for (const u of w.units.slice(1)) {
    await t.call('POST', `/v1/children/${child.id}/enrolments`, {
      token: w.token,
      body: { unitId: u.id, startDate: '2024-01-01' },
    });
  }
  w.children.push(child.id);
}

/**
 * Many more children at once (in SQL: the API would take long), enrolled like addChild's: the
 * bulk operations then touch more than 100 (child, round) pairs in one statement, which the
 * database plans differently from the API's few.
 */
async function addCrowd(t: EngineContext, w: World, n: number) {
  const ids = await t.database.transaction(municipalityScope(w.municipalityId), async (trx) => {
    const { rows } = await sql<{ id: string }>`
      INSERT INTO children (municipality_id, external_ref, birth_date, sex)
      SELECT ${w.municipalityId}, 'crowd-' || gen_random_uuid(),
             date '2006-01-01' + (abs(hashtext(g::text || ${w.municipalityId})::bigint) % 6574)::int,
             (ARRAY['female', 'male', 'other', NULL])[(1 + g % 4)::int]
      FROM generate_series(1, ${n}::int) g
      RETURNING id
    `.execute(trx);
    await sql`
      INSERT INTO enrolments (municipality_id, child_id, unit_id, start_date)
      SELECT ${w.municipalityId}, c.id, u.id, date '2024-01-01'
      FROM unnest(${rows.map((r) => r.id)}::uuid[]) AS c(id)
      CROSS JOIN unnest(${w.units.map((u) => u.id)}::uuid[]) AS u(id)
    `.execute(trx);
    return rows.map((r) => r.id);
  });
  w.children.push(...ids);
}

const pick = <T>(items: T[], n: number): T | undefined => items[n % Math.max(items.length, 1)];
const rating = (l: Level) => (l === null ? {} : { overallLevel: l });

/** Applies one operation; returns whether it changed something (some are refused: fine). */
async function apply(t: EngineContext, w: World, o: Op): Promise<boolean> {
  const as = <T>(fn: (trx: Transaction<DB>) => Promise<T>) =>
    t.database.transaction(municipalityScope(w.municipalityId), fn);
  const currentIds = () =>
    as((trx) =>
      trx
        .selectFrom('assessments')
        .select(['id', 'unit_id', 'round_id'])
        .where('status', '=', 'current')
        .orderBy('id')
        .execute(),
    );
  const ok = (status: number) => status >= 200 && status < 300;
  t.clock.advance(1000 * (o.kind === 'assess' ? 0 : 1));
  switch (o.kind) {
    case 'child':
      await addChild(t, w, o.birth, o.sex);
      return true;
    case 'assess': {
      const child = pick(w.children, o.child);
      const r = w.rounds[o.round];
      if (!child || !r) return false;
      const res = await t.call('POST', '/v1/assessments', {
        token: w.token,
        body: {
          childId: child,
          unitId: w.units[o.unit]?.id,
          roundId: r.id,
          assessedOn: isoDay(r.windowStart, o.day),
          raters,
          rating: rating(o.level),
          parentsInformed: true,
        },
      });
      return ok(res.statusCode);
    }
    case 'correct': {
      const target = pick(await currentIds(), o.pick);
      if (!target) return false;
      const r =
        o.round === 'keep'
          ? w.rounds.find((x) => x.id === target.round_id)
          : o.round === 'leave'
            ? undefined
            : w.rounds[o.round];
      const res = await t.call('POST', `/v1/assessments/${target.id}/corrections`, {
        token: w.token,
        body: {
          reason: 'Rettet.',
          unitId: o.unit === null ? target.unit_id : w.units[o.unit]?.id,
          ...(o.round === 'keep' ? {} : { roundId: r ? r.id : null }),
          assessedOn: isoDay(r?.windowStart ?? '2026-06-01', o.day),
          raters,
          rating: rating(o.level),
          parentsInformed: true,
          ...(r ? {} : { rulerVersionId: w.topi }),
        },
      });
      return ok(res.statusCode);
    }
    case 'withdraw': {
      const target = pick(await currentIds(), o.pick);
      if (!target) return false;
      const res = await t.call('POST', `/v1/assessments/${target.id}/withdraw`, {
        token: w.token,
        body: { reason: 'Trukket tilbage.' },
      });
      return ok(res.statusCode);
    }
    case 'patchChild': {
      const child = pick(w.children, o.child);
      if (!child || (o.sex === undefined && o.birth === undefined)) return false;
      const res = await t.call('PATCH', `/v1/children/${child}`, {
        token: w.token,
        body: {
          ...(o.sex !== undefined ? { sex: o.sex } : {}),
          ...(o.birth !== undefined ? { birthDate: isoDay('2006-01-01', o.birth) } : {}),
        },
      });
      return ok(res.statusCode);
    }
    case 'erase': {
      const child = pick(w.children, o.child);
      if (!child) return false;
      const res = await t.call('DELETE', `/v1/children/${child}`, {
        token: w.token,
        body: { reason: 'Anmodning om sletning.' },
      });
      w.children = w.children.filter((c) => c !== child);
      return ok(res.statusCode);
    }
    case 'patchUnit': {
      const res = await t.call('PATCH', `/v1/units/${w.units[o.unit]?.id}`, {
        token: w.token,
        body: { district: o.district, ...(o.unitKind ? { kind: o.unitKind } : {}) },
      });
      return ok(res.statusCode);
    }
    case 'bulkAssess': {
      // One statement: every child without a current assessment there, in one or two units
      // (two rows of a child in one statement), zones and dates from a hash.
      const r = w.rounds[o.round] as World['rounds'][number];
      const unitIds = o.units.map((u) => w.units[u]?.id as string);
      const result = await as((trx) =>
        sql`
          INSERT INTO assessments (municipality_id, child_id, unit_id, round_id, ruler_version_id,
            assessed_on, raters, answers, explanation, parents_informed, zone, level, status,
            version, lineage_id, created_by)
          SELECT c.municipality_id, c.id, u.id, r.id, r.ruler_version_id,
                 r.window_start + (abs(hashtext(c.id::text || u.id::text || ${o.salt}::text)::bigint) % 3)::int,
                 '[]', '{}', '{}', true, z.zone, z.level, 'current', 1, gen_random_uuid(),
                 gen_random_uuid()
          FROM children c
          CROSS JOIN unnest(${unitIds}::uuid[]) AS u(id)
          JOIN rounds r ON r.id = ${r.id}
          CROSS JOIN LATERAL (
            SELECT (ARRAY['green', 'yellow', 'red', NULL])[(1 + abs(hashtext(c.id::text || ${o.salt}::text)::bigint) % 4)::int] AS zone
          ) z0
          CROSS JOIN LATERAL (
            SELECT z0.zone, CASE z0.zone WHEN 'green' THEN 1 WHEN 'yellow' THEN 2 WHEN 'red' THEN 3 END AS level
          ) z
          WHERE c.municipality_id = ${w.municipalityId}
            AND NOT EXISTS (
              SELECT 1 FROM assessments a WHERE a.child_id = c.id AND a.unit_id = u.id
                AND a.round_id = r.id AND a.status = 'current')
        `.execute(trx),
      );
      return Number(result.numAffectedRows ?? 0) > 0;
    }
    case 'bulkWithdraw': {
      const r = w.rounds[o.round] as World['rounds'][number];
      await as((trx) =>
        sql`
          UPDATE assessments SET status = 'withdrawn', withdrawal_reason = 'Massevis.',
            status_changed_at = now()
          WHERE round_id = ${r.id} AND status = 'current'
            AND zone IS NOT DISTINCT FROM ${o.zone}::text
        `.execute(trx),
      );
      return true;
    }
    case 'bulkSex':
      await as((trx) =>
        sql`
          UPDATE children SET
            sex = (ARRAY['female', 'male', 'other', NULL])[(1 + abs(hashtext(id::text || ${o.salt}::text)::bigint) % 4)::int],
            birth_date = CASE WHEN ${o.salt} % 3 = 0 THEN birth_date - 400 ELSE birth_date END
          WHERE municipality_id = ${w.municipalityId}
        `.execute(trx),
      );
      return true;
    case 'window': {
      // Not something the API offers; the triggers keep up with it all the same.
      const r = w.rounds[o.round] as World['rounds'][number];
      const windowStart = isoDay('2025-03-01', 183 * o.round + o.shift);
      await as((trx) =>
        sql`UPDATE rounds SET window_start = ${windowStart}::date WHERE id = ${r.id}`.execute(trx),
      );
      r.windowStart = windowStart;
      return true;
    }
  }
}

/** Query-string and filter of a zone-distribution or transitions request. */
function request(w: World, groupBy: Dimension[], filter: AnalyticsFilter) {
  const params = new URLSearchParams();
  params.set('groupBy', groupBy.join(','));
  for (const [key, value] of Object.entries(filter)) {
    if (value !== undefined) params.set(key, Array.isArray(value) ? value.join(',') : value);
  }
  return { query: params.toString(), groupBy, filter, w };
}

function zoneRequests(w: World) {
  const [r0, r1, r2] = w.rounds.map((r) => r.id) as [string, string, string];
  const [u0, , u2] = w.units.map((u) => u.id) as [string, string, string];
  return [
    request(w, ['round'], {}),
    request(w, [], {}),
    request(w, ['round'], { roundIds: [r2, r0], to: '2026-01-31' }),
    request(w, ['unit', 'ageBand', 'sex'], { roundIds: [r0, r2] }),
    request(w, ['district', 'unitKind', 'cohort'], { from: '2025-06-01' }),
    request(w, ['round', 'sex'], {
      ageBands: ['3-5', '6-9', '14-17'],
      sex: ['female', 'other'],
      unitKinds: ['school', 'kindergarten', 'club'],
    }),
    request(w, ['ageBand', 'round', 'unit', 'district', 'unitKind', 'sex', 'cohort'], {
      districts: ['Nord'],
      to: '2025-12-31',
      unitIds: [u0, u2],
      roundIds: [r1, r2, r0],
    }),
  ];
}

function transitionRequests(w: World) {
  const [r0, r1, r2] = w.rounds as [World['rounds'][0], World['rounds'][0], World['rounds'][0]];
  const [, u1] = w.units.map((u) => u.id) as [string, string, string];
  return [
    { from: r0, to: r1, ...request(w, [], {}) },
    { from: r2, to: r2, ...request(w, [], {}) },
    { from: r2, to: r0, ...request(w, [], {}) },
    { from: r1, to: r0, ...request(w, ['unit', 'sex'], {}) },
    { from: r2, to: r2, ...request(w, ['ageBand', 'cohort'], {}) },
    { from: r0, to: r2, ...request(w, ['district', 'unitKind'], { sex: ['male'] }) },
    {
      from: r2,
      to: r1,
      ...request(w, ['unit', 'ageBand', 'sex', 'cohort', 'district'], {
        ageBands: ['0-2', '3-5', '6-9', '10-13', '14-17'],
        unitIds: [u1],
      }),
    },
  ];
}

const json = (value: unknown) => JSON.parse(JSON.stringify(value));

/** The maintained tables equal a recomputation; both endpoints answer as the old queries. */
async function check(t: EngineContext, w: World) {
  const [stored, expected] = await t.asOwner(async (db) => [
    await storedAggregates(db),
    await expectedAggregates(db),
  ]);
  expect(stored.facts).toEqual(expected.facts);
  expect(stored.zones).toEqual(expected.zones);
  expect(stored.zoneTotals).toEqual(expected.zoneTotals);
  expect(stored.moves).toEqual(expected.moves);
  expect(stored.moveTotals).toEqual(expected.moveTotals);
  expect(stored.pending).toEqual([]);

  const scoped = <T>(fn: (trx: Transaction<DB>) => Promise<T>) =>
    t.database.transaction(municipalityScope(w.municipalityId), fn);
  const m = w.municipalityId;
  for (const r of zoneRequests(w)) {
    const [rows, reference] = await scoped((trx) =>
      Promise.all([
        zoneCounts(trx, m, r.filter, r.groupBy),
        referenceZoneCounts(trx, m, r.filter, r.groupBy),
      ]),
    );
    expect(rows, r.query).toEqual(reference);
    // The response is suppressed as one cube of the finest counts (every dimension, the asked
    // ones first, as the service reads them).
    const order = [...new Set(r.groupBy)];
    for (const d of cubeDimensions) if (!order.includes(d)) order.push(d);
    const finest = await scoped((trx) => referenceZoneCounts(trx, m, r.filter, order));
    const res = await t.call('GET', `/v1/analytics/zone-distribution?${r.query}`, {
      token: w.token,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json(), r.query).toEqual(json(zoneDistributionOf(finest, [...new Set(r.groupBy)])));
  }
  for (const r of transitionRequests(w)) {
    const [rows, reference] = await scoped((trx) =>
      Promise.all([
        transitionCounts(trx, m, r.filter, r.groupBy, r.from.id, r.to.id),
        referenceTransitionCounts(trx, m, r.filter, r.groupBy, r.from.id, r.to.id),
      ]),
    );
    expect(rows, r.query).toEqual(reference);
    const res = await t.call(
      'GET',
      `/v1/analytics/transitions?fromRoundId=${r.from.id}&toRoundId=${r.to.id}&${r.query}`,
      { token: w.token },
    );
    expect(res.statusCode, res.body).toBe(200);
    const asked = [...new Set(r.groupBy)];
    const order = [...asked];
    for (const d of cubeDimensions) if (d !== 'round' && !order.includes(d)) order.push(d);
    const finest = await scoped((trx) =>
      referenceTransitionCounts(trx, m, r.filter, order, r.from.id, r.to.id),
    );
    expect(res.json(), r.query).toEqual(json(transitionsOf(r.from, r.to, finest, asked)));
  }
}

/** One assessment written directly by the application role (no API: to hold the transaction). */
function insertAssessment(
  trx: Transaction<DB>,
  w: World,
  childId: string,
  u: number,
  r: number,
  days: number,
  zone: string | null,
) {
  const round = w.rounds[r] as World['rounds'][number];
  return sql`
    INSERT INTO assessments (municipality_id, child_id, unit_id, round_id, ruler_version_id,
      assessed_on, raters, answers, explanation, parents_informed, zone, status, version,
      lineage_id, created_by)
    SELECT ${w.municipalityId}, ${childId}, ${w.units[u]?.id}, r.id, r.ruler_version_id,
           r.window_start + ${days}::int, '[]', '{}', '{}', true, ${zone}, 'current', 1,
           gen_random_uuid(), gen_random_uuid()
    FROM rounds r WHERE r.id = ${round.id}
  `.execute(trx);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describeEngines('analytics aggregates', (t) => {
  it('random writes keep the counts equal to a recomputation from the base tables', async () => {
    let applied = 0;
    let tried = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.array(fc.record({ birth, sex }), { minLength: 3, maxLength: 6 }),
        fc.integer({ min: 0, max: 3 }).map((x) => x === 0),
        fc.array(op, { minLength: 5, maxLength: 30 }),
        async (initial, crowded, ops) => {
          const w = await world(t);
          for (const c of initial) await addChild(t, w, c.birth, c.sex);
          if (crowded) await addCrowd(t, w, 55);
          for (const o of ops) {
            tried += 1;
            if (await apply(t, w, o)) applied += 1;
            // After the operations whose effect a later write to the same child would repair,
            // this municipality's tables are compared at once.
            if (!['child', 'assess', 'correct', 'withdraw'].includes(o.kind)) {
              const [stored, expected] = await t.asOwner(async (db) => [
                await storedAggregates(db, w.municipalityId),
                await expectedAggregates(db, w.municipalityId),
              ]);
              expect(stored, JSON.stringify(o)).toEqual(expected);
            }
          }
          await check(t, w);
        },
      ),
      { numRuns: 20, endOnFailure: true },
    );
    // Most operations did something (the rest were refused by the API, which is fine).
    expect(applied).toBeGreaterThan(tried / 2);
  }, 120_000);

  it("a round's window moving re-bands the children assessed in it", async () => {
    const w = await world(t);
    // Born 2022-01-01: 3 years old at the window start 2025-03-01, 2 after the move.
    await addChild(t, w, 5844, 'female');
    expect(
      await apply(t, w, { kind: 'assess', child: 0, unit: 0, round: 0, day: 4, level: 1 }),
    ).toBe(true);
    expect(
      await apply(t, w, { kind: 'assess', child: 0, unit: 0, round: 1, day: 4, level: 3 }),
    ).toBe(true);
    const bands = () =>
      t.asOwner(async (db) =>
        (
          await sql<{ age_band: string }>`
            SELECT age_band FROM zone_counts WHERE round_id = ${w.rounds[0]?.id}`.execute(db)
        ).rows.map((r) => r.age_band),
      );
    expect(await bands()).toEqual(['3-5']);
    await apply(t, w, { kind: 'window', round: 0, shift: -90 });
    expect(await bands()).toEqual(['0-2']);
    await check(t, w);
  });

  it.skipIf(t.engine === 'pglite')(
    'concurrent writers about one child take turns (PostgreSQL)',
    async () => {
      const w = await world(t);
      await addChild(t, w, 5000, 'female');
      const child = w.children[0] as string;
      const scope = municipalityScope(w.municipalityId);
      /**
       * `first` runs and keeps its transaction open while `second` starts (and, without the
       * lock the counts take, would count from a snapshot missing `first`'s write).
       */
      const race = async (
        first: (trx: Transaction<DB>) => Promise<unknown>,
        second: (trx: Transaction<DB>) => Promise<unknown>,
      ) => {
        let release!: () => void;
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let started!: () => void;
        const firstDone = new Promise<void>((resolve) => {
          started = resolve;
        });
        const one = t.database.transaction(scope, async (trx) => {
          await first(trx);
          started();
          await held;
        });
        await firstDone;
        const two = t.database.transaction(scope, second);
        await sleep(300);
        release();
        await Promise.all([one, two]);
        const [stored, expected] = await t.asOwner(async (db) => [
          await storedAggregates(db),
          await expectedAggregates(db),
        ]);
        expect(stored).toEqual(expected);
      };
      // Two units assess the child in one round.
      await race(
        (trx) => insertAssessment(trx, w, child, 0, 0, 5, 'red'),
        (trx) => insertAssessment(trx, w, child, 1, 0, 3, 'green'),
      );
      // The child's sex changes while a round is assessed, both ways round.
      await race(
        (trx) => sql`UPDATE children SET sex = 'male' WHERE id = ${child}`.execute(trx),
        (trx) => insertAssessment(trx, w, child, 0, 1, 2, 'yellow'),
      );
      await race(
        (trx) => insertAssessment(trx, w, child, 1, 1, 4, null),
        (trx) =>
          sql`UPDATE children SET birth_date = '2019-02-03' WHERE id = ${child}`.execute(trx),
      );
      // A withdrawal while another unit assesses.
      await race(
        (trx) =>
          sql`UPDATE assessments SET status = 'withdrawn', withdrawal_reason = 'x'
              WHERE child_id = ${child} AND unit_id = ${w.units[0]?.id}`.execute(trx),
        (trx) => insertAssessment(trx, w, child, 2, 2, 1, 'green'),
      );
      await check(t, w);
    },
  );

  it('the application role reads the counts, never writes them, and never sees the facts', async () => {
    const w = await world(t);
    await addChild(t, w, 5000, 'female');
    expect(
      await apply(t, w, { kind: 'assess', child: 0, unit: 0, round: 0, day: 3, level: 2 }),
    ).toBe(true);
    const scoped = <T>(fn: (trx: Transaction<DB>) => Promise<T>) =>
      t.database.transaction(municipalityScope(w.municipalityId), fn);
    const counts = await scoped((trx) =>
      trx.selectFrom('zone_counts').select(['zone', 'n']).execute(),
    );
    expect(counts).toEqual([{ zone: 'yellow', n: 1 }]);
    // Another municipality sees none of them.
    const other = await world(t);
    expect(
      await t.database.transaction(municipalityScope(other.municipalityId), (trx) =>
        trx.selectFrom('zone_counts').selectAll().execute(),
      ),
    ).toEqual([]);
    for (const statement of [
      sql`UPDATE zone_counts SET n = n + 1`,
      sql`DELETE FROM transition_counts`,
      sql`INSERT INTO zone_counts (municipality_id, round_id, unit_id, cohort, n)
          VALUES (${w.municipalityId}, ${w.rounds[0]?.id}, ${w.units[0]?.id}, 2020, 7)`,
      sql`SELECT * FROM round_assessment_facts`,
      sql`SELECT * FROM analytics_pending`,
      sql`UPDATE zone_totals SET n = 0`,
      sql`SELECT lineal_analytics_refresh(ARRAY[]::uuid[], ARRAY[]::uuid[])`,
    ]) {
      await expect(scoped((trx) => statement.execute(trx))).rejects.toThrow(/permission denied/);
    }
    await expect(
      t.database.transaction(platformScope, (trx) => sql`TRUNCATE zone_counts`.execute(trx)),
    ).rejects.toThrow(/permission denied/);
  });

  it('the migration fills the counts from the assessments already there', async () => {
    const w = await world(t);
    for (let i = 0; i < 6; i++) await addChild(t, w, 1000 * i, sexes[i % 4] as Sex);
    for (let i = 0; i < 12; i++) {
      await apply(t, w, {
        kind: 'assess',
        child: i,
        unit: i % 3,
        round: i % 2,
        day: i,
        level: ([1, 2, 3, null] as const)[i % 4] as Level,
      });
    }
    await apply(t, w, { kind: 'bulkAssess', round: 2, units: [0, 1], salt: 7 });
    const before = await t.asOwner(storedAggregates);
    // Not vacuous: counts, totals and moves all present before the migration goes down.
    expect(before.zones.length).toBeGreaterThan(3);
    expect(before.zoneTotals.length).toBeGreaterThan(0);
    expect(before.moves.length).toBeGreaterThan(0);
    expect(before.moveTotals.length).toBeGreaterThan(0);
    expect(before.facts.length).toBeGreaterThan(0);
    await t.asOwner(async (db) => {
      // Down to just before the aggregates (later migrations go down and up with them).
      const { error } = await createMigrator(db).migrateTo('20261122_140000_consents');
      expect(error).toBeUndefined();
      const left = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name IN ('zone_counts', 'transition_counts')
      `.execute(db);
      expect(left.rows[0]?.n).toBe(0);
      expect((await migrateToLatest(db))[0]).toBe('20261122_150000_analytics_aggregates');
    });
    const [after, expected] = await t.asOwner(async (db) => [
      await storedAggregates(db),
      await expectedAggregates(db),
    ]);
    expect(after).toEqual(before);
    expect(after).toEqual(expected);
    await check(t, w);
  });
});
