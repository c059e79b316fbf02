import { randomUUID } from 'node:crypto';
import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { localJobLock } from '../../src/db/advisory-locks.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { Metrics, UNMATCHED_ROUTE } from '../../src/http/metrics.js';
import { runHousekeeping } from '../../src/jobs/housekeeping.js';
import { describeEngines, openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';
import {
  assessmentBody,
  createAssessment,
  createChild,
  createScreeningTenant,
} from '../support/factories.js';
import { TEST_APP_ROLE } from '../support/postgres-admin.js';
import { expectProblem } from '../support/problem.js';

const TOKEN = 'metrics-token-0123456789abcdef0123456789';
const UUID = /[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/i;

/** The sum of the samples of `name` whose labels include `labels`; undefined when none. */
function sample(
  body: string,
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  let sum: number | undefined;
  for (const line of body.split('\n')) {
    const m = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const found = Object.fromEntries(
      [...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1], l[2]]),
    );
    if (Object.entries(labels).every(([k, v]) => found[k] === v)) sum = (sum ?? 0) + Number(m[3]);
  }
  return sum;
}

function appWithMetrics(database: Parameters<typeof buildApp>[0]['database'], metrics?: Metrics) {
  return buildApp({
    config: {
      bodyLimitBytes: 64 * 1024,
      trustProxy: false,
      rateLimit: { max: 1_000_000, windowMs: 60_000 },
      metricsToken: TOKEN,
    },
    cprSecret: TEST_CPR_SECRET,
    database,
    ...(metrics ? { metrics } : {}),
  });
}

async function scrape(app: FastifyInstance): Promise<string> {
  const res = await app.inject({
    method: 'GET',
    url: '/metrics',
    headers: { authorization: `Bearer ${TOKEN}` },
  });
  expect(res.statusCode, res.body).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return res.body;
}

describeEngines('GET /metrics', (t) => {
  let app: FastifyInstance;
  let metrics: Metrics;
  beforeAll(async () => {
    metrics = new Metrics();
    app = await appWithMetrics(t.database, metrics);
  });
  afterAll(async () => {
    await app?.close();
  });
  const call = (method: 'GET' | 'POST', url: string, token: string, body?: object, headers = {}) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}`, ...headers },
      ...(body ? { payload: body } : {}),
    });

  it('is not there (404) when no METRICS_TOKEN is configured', async () => {
    expectProblem(await t.call('GET', '/metrics', { token: null }), 404);
    expectProblem(await t.call('GET', '/metrics', { token: TOKEN }), 404);
  });

  it('answers 401 problem+json without the token or with a wrong one', async () => {
    const missing = await app.inject({ method: 'GET', url: '/metrics' });
    expectProblem(missing, 401);
    expect(missing.headers['www-authenticate']).toBe('Bearer realm="lineal"');
    for (const wrong of [`${TOKEN.slice(0, -1)}x`, 'short', `${TOKEN}0`, t.platformToken]) {
      const res = await app.inject({
        method: 'GET',
        url: '/metrics',
        headers: { authorization: `Bearer ${wrong}` },
      });
      expectProblem(res, 401);
      expect(res.body).not.toContain('lineal_http_requests_total');
    }
    const basic = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Basic ${Buffer.from(`x:${TOKEN}`).toString('base64')}` },
    });
    expectProblem(basic, 401);
    expect((await scrape(app)).length).toBeGreaterThan(0);
  });

  it('counts requests by route pattern, method and status; no id or path in any label', async () => {
    const { admin, unit } = await createScreeningTenant(t);
    const child = await createChild(t, admin.token, { unitId: unit.id });
    const labels = { method: 'GET', route: '/v1/children/:childId' };
    const before = await scrape(app);
    const count = (body: string, status: string) =>
      sample(body, 'lineal_http_requests_total', { ...labels, status }) ?? 0;

    expect((await call('GET', `/v1/children/${child.id}`, admin.token)).statusCode).toBe(200);
    expect((await call('GET', `/v1/children/${child.id}`, admin.token)).statusCode).toBe(200);
    expect((await call('GET', `/v1/children/${randomUUID()}`, admin.token)).statusCode).toBe(404);
    expect((await call('GET', `/v1/nothing/${child.id}`, admin.token)).statusCode).toBe(404);

    const after = await scrape(app);
    expect(count(after, '200') - count(before, '200')).toBe(2);
    expect(count(after, '404') - count(before, '404')).toBe(1);
    const latency = (body: string) =>
      sample(body, 'lineal_http_request_duration_seconds_count', { ...labels, status: '200' }) ?? 0;
    expect(latency(after) - latency(before)).toBe(2);
    expect(
      sample(after, 'lineal_http_requests_total', { route: UNMATCHED_ROUTE, status: '404' }),
    ).toBeGreaterThanOrEqual(1);
    // Nothing from the requests but their route patterns: no uuid, no path, no CPR, no name.
    expect(after).not.toMatch(UUID);
    expect(after).not.toContain(child.id);
    expect(after).not.toContain('/v1/nothing');
    expect(after).not.toContain(child.externalRef);
    for (const line of after.split('\n').filter((l) => l.includes('route="'))) {
      expect(line).toMatch(/route="(\(unmatched\)|\/[A-Za-z0-9/:._-]*)"/);
    }
  });

  it('counts idempotent replays and exported rows', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const child = await createChild(t, admin.token, { unitId: unit.id });
    const body = assessmentBody({ childId: child.id, unitId: unit.id, rulerVersionId: topi });
    const headers = { 'idempotency-key': `metrics-${randomUUID()}` };
    const replays = (text: string) =>
      sample(text, 'lineal_idempotent_replays_total', {
        method: 'POST',
        route: '/v1/assessments',
      }) ?? 0;
    const before = await scrape(app);
    expect((await call('POST', '/v1/assessments', admin.token, body, headers)).statusCode).toBe(
      201,
    );
    const retry = await call('POST', '/v1/assessments', admin.token, body, headers);
    expect(retry.headers['idempotency-replayed']).toBe('true');
    await createAssessment(t, admin.token, {
      childId: (await createChild(t, admin.token, { unitId: unit.id })).id,
      unitId: unit.id,
      rulerVersionId: topi,
    });

    const rows = (text: string) => sample(text, 'lineal_export_rows_total', { format: 'csv' }) ?? 0;
    const exported = await call(
      'GET',
      '/v1/exports/detailed/assessments.csv?gzip=false',
      admin.token,
    );
    expect(exported.statusCode, exported.body).toBe(200);
    let after = await scrape(app);
    // The stream's close (which counts the export) may come a turn after the response's end.
    for (let i = 0; i < 50 && rows(after) === rows(before); i++) {
      await new Promise((resolve) => setTimeout(resolve, 20));
      after = await scrape(app);
    }
    expect(replays(after) - replays(before)).toBe(1);
    expect(rows(after) - rows(before)).toBe(2);
    expect(
      (sample(after, 'lineal_exports_total', { format: 'csv', outcome: 'completed' }) ?? 0) -
        (sample(before, 'lineal_exports_total', { format: 'csv', outcome: 'completed' }) ?? 0),
    ).toBe(1);
    expect(after).not.toMatch(UUID);
  });

  it('counts job runs, failures and skips with their durations', async () => {
    const logger = pino({ level: 'silent' });
    const jobs = localJobLock();
    await runHousekeeping(t.database, jobs, logger, metrics);
    let body = await scrape(app);
    expect(sample(body, 'lineal_job_runs_total', { job: 'housekeeping', outcome: 'ok' })).toBe(1);
    expect(sample(body, 'lineal_job_runs_total', { job: 'not-assessed', outcome: 'ok' })).toBe(1);
    expect(sample(body, 'lineal_job_duration_seconds_count', { job: 'housekeeping' })).toBe(1);
    expect(
      sample(body, 'lineal_job_duration_seconds_sum', { job: 'housekeeping' }),
    ).toBeGreaterThan(0);
    // Two sweeps at once: the second one is skipped (the job runs once at a time).
    await Promise.all([
      runHousekeeping(t.database, jobs, logger, metrics),
      runHousekeeping(t.database, jobs, logger, metrics),
    ]);
    // A failing run (its database is closed) is counted as failed, and the sweep does not throw.
    const closed = await openTestDatabase(t.engine);
    await closed.drop();
    await runHousekeeping(closed.database, jobs, logger, metrics);
    body = await scrape(app);
    expect(sample(body, 'lineal_job_runs_total', { job: 'housekeeping', outcome: 'ok' })).toBe(2);
    expect(sample(body, 'lineal_job_runs_total', { job: 'housekeeping', outcome: 'skipped' })).toBe(
      1,
    );
    expect(sample(body, 'lineal_job_runs_total', { job: 'housekeeping', outcome: 'failed' })).toBe(
      1,
    );
    expect(sample(body, 'lineal_job_duration_seconds_count', { job: 'housekeeping' })).toBe(3);
  });

  it('has process metrics, and pool gauges on PostgreSQL only', async () => {
    const body = await scrape(app);
    expect(sample(body, 'process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(sample(body, 'nodejs_heap_size_used_bytes')).toBeGreaterThan(0);
    const pool = ['in_use', 'idle', 'waiting'].map((g) =>
      sample(body, `lineal_database_pool_${g}`),
    );
    if (t.engine === 'postgres') {
      for (const value of pool) expect(value).toBeGreaterThanOrEqual(0);
      // The test pool has at most 5 connections.
      expect((pool[0] ?? 0) + (pool[1] ?? 0)).toBeLessThanOrEqual(5);
      expect((pool[0] ?? 0) + (pool[1] ?? 0)).toBeGreaterThan(0);
    } else {
      expect(pool).toEqual([undefined, undefined, undefined]);
    }
  });

  it('keeps each app’s metrics apart (one registry per app)', async () => {
    const other = await appWithMetrics(t.database);
    try {
      await other.inject({ method: 'GET', url: '/healthz' });
      await other.inject({ method: 'GET', url: '/healthz' });
      const own = sample(await scrape(other), 'lineal_http_requests_total', {
        route: '/healthz',
        status: '200',
      });
      expect(own).toBe(2);
      expect(sample(await scrape(other), 'lineal_job_runs_total')).toBeUndefined();
    } finally {
      await other.close();
    }
  });

  it.skipIf(t.engine !== 'postgres')(
    'counts requests answered 503 while the database refuses connections',
    async () => {
      const { database, drop, asOwner } = await openTestDatabase('postgres');
      const down = await appWithMetrics(database);
      const key = await createPlatformAdminKey(database, 'metrics 503');
      try {
        // No new connection for the app's role, and its open ones ended: like a server away.
        await asOwner(async (db) => {
          const { rows } = await sql<{ name: string }>`SELECT current_database() AS name`.execute(
            db,
          );
          await sql`ALTER DATABASE ${sql.id(rows[0]?.name ?? '')} CONNECTION LIMIT 0`.execute(db);
          await sql`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
                    WHERE datname = current_database() AND usename = ${TEST_APP_ROLE}`.execute(db);
        });
        const res = await down.inject({
          method: 'GET',
          url: '/v1/me',
          headers: { authorization: `Bearer ${key.token}` },
        });
        expect(expectProblem(res, 503).type).toBe('urn:lineal:problem:database-unavailable');
        // The metrics need no database.
        const body = await scrape(down);
        expect(sample(body, 'lineal_database_unavailable_total')).toBe(1);
        expect(sample(body, 'lineal_http_requests_total', { route: '/v1/me', status: '503' })).toBe(
          1,
        );
        expect(sample(body, 'lineal_database_pool_waiting')).toBe(0);
      } finally {
        await down.close();
        await drop();
      }
    },
  );
});

describe('METRICS_TOKEN', () => {
  it('is off by default and must be at least 32 characters', () => {
    expect(loadConfig({}).metricsToken).toBeUndefined();
    expect(loadConfig({ METRICS_TOKEN: TOKEN }).metricsToken).toBe(TOKEN);
    expect(() => loadConfig({ METRICS_TOKEN: 'too-short' })).toThrow(ConfigError);
    expect(() => loadConfig({ METRICS_TOKEN: 'too-short' })).toThrow(/METRICS_TOKEN/);
  });
});
