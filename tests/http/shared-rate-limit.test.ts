import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { SharedRateCounts } from '../../src/http/shared-rate-limit.js';
import { describeEngines, openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';
import { createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/**
 * Two service instances on one database enforce one rate limit (issue 14, point 4): each counts
 * in memory and shares its counts through the database when it syncs.
 */
describeEngines('one rate limit across instances', (t) => {
  const apps: FastifyInstance[] = [];
  let token: string;

  /** An instance with a limit of 5 per hour that syncs only when the test says so. */
  const instance = async () => {
    const app = await buildApp({
      config: {
        bodyLimitBytes: 64 * 1024,
        trustProxy: false,
        rateLimit: { max: 5, windowMs: 60 * 60_000, syncMs: 60_000 },
      },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: t.clock.now,
    });
    apps.push(app);
    return app;
  };
  const me = (app: FastifyInstance) =>
    app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });
  const countsOf = (app: FastifyInstance) => app.rateCounts as SharedRateCounts;

  beforeAll(async () => {
    token = (await createTenant(t)).admin.token;
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('a client spreading its requests over two instances gets one limit', async () => {
    const [a, b] = [await instance(), await instance()];
    for (let i = 0; i < 3; i++) expect((await me(a)).statusCode).toBe(200);
    await countsOf(a).sync();
    // b has not synced: it judges on its own count, then learns a's at its sync.
    expect((await me(b)).statusCode).toBe(200);
    await countsOf(b).sync();
    const fifth = await me(b);
    expect(fifth.statusCode).toBe(200);
    expect(fifth.headers['ratelimit-remaining']).toBe('0');
    const sixth = await me(b);
    expectProblem(sixth, 429);
    expect(Number(sixth.headers['retry-after'])).toBeGreaterThan(0);
    // a learns b's requests once b has shared them and a syncs: it refuses too (a count at
    // half its limit or more is refreshed at every sync, with no new hit of its own).
    await countsOf(b).sync();
    await countsOf(a).sync();
    expectProblem(await me(a), 429);
    // The next window (aligned to the epoch on every instance) starts afresh.
    t.clock.advance(60 * 60_000);
    try {
      expect((await me(a)).statusCode).toBe(200);
      expect((await me(b)).statusCode).toBe(200);
    } finally {
      t.clock.advance(-60 * 60_000);
    }
  });

  it('stores no client address or key, only hashes, and forgets ended windows', async () => {
    const rows = await t.asOwner(
      async (db) =>
        (await sql<{ bucket: string }>`SELECT bucket FROM lineal_rate_limit_counts`.execute(db))
          .rows,
    );
    expect(rows.length).toBeGreaterThan(0);
    for (const row of rows) expect(row.bucket).toMatch(/^[0-9a-f]{64}$/);
    // The application role cannot read or write the table, only add through the function.
    await expect(
      sql`SELECT count(*) FROM lineal_rate_limit_counts`.execute(t.database.db),
    ).rejects.toThrow(/permission denied/);
    // A sync two hours on deletes the windows that ended. (A window length no other instance
    // of this file uses: the file's app keeps syncing its own counts meanwhile.)
    const WINDOW = 7_000;
    let now = t.clock.now().getTime();
    const counts = new SharedRateCounts(t.database, 60_000, () => now);
    const windows = () =>
      t.asOwner(async (db) =>
        (
          await sql<{ window_start: string; count: string }>`SELECT window_start, count
              FROM lineal_rate_limit_counts WHERE window_ms = ${WINDOW}`.execute(db)
        ).rows.map((row) => ({ window_start: Number(row.window_start), count: Number(row.count) })),
      );
    counts.hit('someone', WINDOW, 10);
    await counts.sync();
    expect(await windows()).toEqual([
      { window_start: Math.floor(now / WINDOW) * WINDOW, count: 1 },
    ]);
    now += 2 * 60 * 60_000;
    counts.hit('someone', WINDOW, 10);
    await counts.close();
    expect(await windows()).toEqual([
      { window_start: Math.floor(now / WINDOW) * WINDOW, count: 1 },
    ]);
  });

  it('keeps counting locally while the database cannot be reached', async () => {
    let now = 1_800_000_000_000;
    const { database: gone, drop } = await openTestDatabase(t.engine);
    await drop();
    const counts = new SharedRateCounts(gone, 60_000, () => now);
    expect(counts.hit('k', 60_000, 10).current).toBe(1);
    await counts.sync();
    expect(counts.failedSyncs).toBe(1);
    expect(counts.hit('k', 60_000, 10).current).toBe(2);
    expect(counts.peek('k', 60_000)).toEqual({ current: 2, ttl: 60_000 - (now % 60_000) });
    now += 60_000;
    expect(counts.peek('k', 60_000)).toEqual({ current: 0, ttl: 0 });
    await counts.close();
  });
});
