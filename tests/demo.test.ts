import type { FastifyInstance } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { buildApp } from '../src/app.js';
import type { Database } from '../src/db/database.js';
import {
  createDemoData,
  DemoMunicipalityExistsError,
  type DemoResult,
} from '../src/demo/generate.js';
import { planRounds } from '../src/demo/plan.js';
import { createRng } from '../src/demo/random.js';
import { openTestDatabase, TEST_CPR_SECRET } from './support/engines.js';

const TODAY = new Date('2026-11-22T09:00:00.000Z');
const SEED = 42;
const CHILDREN = 60;

interface Opened {
  database: Database;
  app: FastifyInstance;
  asOwner: Awaited<ReturnType<typeof openTestDatabase>>['asOwner'];
}
const opened: Array<Opened & { drop: () => Promise<void> }> = [];

/** A fresh embedded database with the presets, and an app whose clock says TODAY. */
async function fresh(): Promise<Opened> {
  const { database, drop, asOwner } = await openTestDatabase('pglite');
  const app = await buildApp({
    config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
    cprSecret: TEST_CPR_SECRET,
    database,
    now: () => new Date(TODAY),
  });
  const entry = { database, app, asOwner, drop };
  opened.push(entry);
  return entry;
}

afterAll(async () => {
  for (const { app, drop } of opened) {
    await app.close();
    await drop();
  }
});

describe('random', () => {
  it('is deterministic per seed, and forks do not depend on earlier draws', () => {
    const a = createRng(5);
    const b = createRng(5);
    expect(Array.from({ length: 5 }, () => a.next())).toEqual(
      Array.from({ length: 5 }, () => b.next()),
    );
    expect(a.fork('x').next()).toBe(createRng(5).fork('x').next());
    expect(createRng(6).next()).not.toBe(createRng(5).next());
  });
});

describe('planRounds', () => {
  it('takes the last three screening windows that closed before today', () => {
    expect(planRounds('2026-11-22').map((r) => r.name)).toEqual([
      'Efterår 2025',
      'Forår 2026',
      'Efterår 2026',
    ]);
    expect(planRounds('2026-11-15').map((r) => r.name)).toEqual([
      'Forår 2025',
      'Efterår 2025',
      'Forår 2026',
    ]);
  });
});

describe('demo data [pglite]', () => {
  let first: Opened;
  let demo: DemoResult;

  it('creates a living municipality through the API', { timeout: 120_000 }, async () => {
    first = await fresh();
    demo = await createDemoData(first.app, first.database, {
      seed: SEED,
      children: CHILDREN,
      today: TODAY,
    });
    const c = demo.counts;
    expect(c.municipalities).toBe(1);
    expect(c.districts).toBe(3);
    expect(c.units).toBe(8);
    expect(c.children).toBe(CHILDREN);
    expect(c.enrolments).toBeGreaterThan(CHILDREN); // transitions: several units per child
    expect(c.rounds).toBe(3);
    expect(demo.rounds.every((r) => r.windowEnd < '2026-11-22')).toBe(true);
    expect(c.assessments).toBe(c.assessmentsPerRound.reduce((a, b) => a + b, 0));
    for (const [i, assessed] of c.assessmentsPerRound.entries()) {
      const coverage = c.coveragePerRound[i];
      expect(coverage?.assessed).toBe(assessed);
      // ~92 % of the enrolled children are assessed in each round.
      expect(coverage?.enrolled).toBeGreaterThanOrEqual(CHILDREN * 0.7);
      expect(coverage?.enrolled).toBeLessThanOrEqual(CHILDREN);
      expect(assessed / (coverage?.enrolled ?? 1)).toBeGreaterThanOrEqual(0.8);
      expect(assessed / (coverage?.enrolled ?? 1)).toBeLessThan(1);
      const zones = c.zonesPerRound[i];
      expect(zones?.none).toBe(0);
      // Mostly green.
      expect(zones?.green ?? 0).toBeGreaterThan(assessed * 0.6);
    }
    const reds = c.zonesPerRound.reduce((sum, z) => sum + z.red, 0);
    const yellows = c.zonesPerRound.reduce((sum, z) => sum + z.yellow, 0);
    expect(reds).toBeGreaterThanOrEqual(1);
    expect(yellows).toBeGreaterThan(reds);
    expect(c.concernReports).toBeGreaterThanOrEqual(1);
    expect(c.concernReports).toBeLessThanOrEqual(reds);
    expect(c.recommendations).toBe(c.assessments);
    expect(c.steps).toBeGreaterThan(0);
    expect(c.stepsDone).toBeGreaterThan(0);
    expect(c.notAssessedFlags).toBe(
      c.coveragePerRound.reduce((sum, r) => sum + r.enrolled - r.assessed, 0),
    );
  });

  it('gives the analyst a dashboard of three rounds', async () => {
    const res = await first.app.inject({
      method: 'GET',
      url: '/v1/analytics/zone-distribution?groupBy=round',
      headers: { authorization: `Bearer ${demo.analystToken}` },
    });
    expect(res.statusCode, res.body).toBe(200);
    const rows = res.json().rows as Array<{
      group: { round: { id: string; name: string } };
      total: { value: number | null };
      counts: { green: { value: number | null } };
    }>;
    expect(rows.map((r) => r.group.round.id)).toEqual(demo.rounds.map((r) => r.id));
    expect(rows.map((r) => r.total.value)).toEqual(demo.counts.assessmentsPerRound);
    expect(rows.map((r) => r.counts.green.value)).toEqual(
      demo.counts.zonesPerRound.map((z) => z.green),
    );
    // The administrator sees children; the analyst does not.
    const me = await first.app.inject({
      method: 'GET',
      url: '/v1/children?limit=1',
      headers: { authorization: `Bearer ${demo.adminToken}` },
    });
    expect(me.statusCode).toBe(200);
    const analystChildren = await first.app.inject({
      method: 'GET',
      url: '/v1/children?limit=1',
      headers: { authorization: `Bearer ${demo.analystToken}` },
    });
    expect(analystChildren.statusCode).toBe(403);
  });

  it('revokes its temporary platform key and refuses to run twice', async () => {
    const keys = await first.asOwner((db) =>
      db
        .selectFrom('api_keys')
        .select(['role', 'revoked_at'])
        .where('name', '=', 'Demo data generator (temporary)')
        .execute(),
    );
    expect(keys).toHaveLength(1);
    expect(keys[0]?.revoked_at).not.toBeNull();
    await expect(
      createDemoData(first.app, first.database, { seed: SEED, children: 5, today: TODAY }),
    ).rejects.toBeInstanceOf(DemoMunicipalityExistsError);
  });

  it('is deterministic: the same seed on a fresh database gives the same counts', {
    timeout: 120_000,
  }, async () => {
    const second = await fresh();
    const again = await createDemoData(second.app, second.database, {
      seed: SEED,
      children: CHILDREN,
      today: TODAY,
    });
    expect(again.counts).toEqual(demo.counts);
    expect(again.rounds.map(({ id: _, ...r }) => r)).toEqual(
      demo.rounds.map(({ id: _, ...r }) => r),
    );
  });
});
