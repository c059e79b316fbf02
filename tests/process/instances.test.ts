import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import {
  adminQuery,
  dropDatabase,
  ensureTestAppRole,
  TEST_APP_PASSWORD,
  TEST_APP_ROLE,
  uniqueDatabaseName,
  withCredentials,
  withDatabase,
} from '../support/postgres-admin.js';
import { killAll, launch, type Started, waitFor } from '../support/processes.js';

/**
 * Issue 12, point 8: two instances of the service on one PostgreSQL database. Started at the
 * same moment on a freshly migrated database, both store the presets and come up; their
 * background jobs (the not-assessed sweep) run on one instance at a time, so each closed round
 * is swept once. To make the races certain rather than likely, the test holds a table lock that
 * stops the first instance inside the contested step until the second has reached it too.
 */
const CPR = 'instances-test-cpr-secret-0123456789abcd';
const adminUrl = inject('postgresAdminUrl');
const template = uniqueDatabaseName('lineal_inst_tpl');
const databases: string[] = [template];
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function ownerOf(database: string) {
  const pool = new pg.Pool({ connectionString: withDatabase(adminUrl, database), max: 2 });
  return new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
}

/** Backends of this database waiting for a lock (a table lock or an advisory lock). */
async function waiting(owner: Kysely<unknown>): Promise<number> {
  const { rows } = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM pg_stat_activity
    WHERE datname = current_database() AND wait_event_type = 'Lock'`.execute(owner);
  return rows[0]?.n ?? 0;
}

/**
 * Starts two instances at the same moment while `lock` is held in a transaction of the owner;
 * releases it once both are stopped inside the locked step (or one has passed it by), then
 * returns when both answer or one has exited.
 */
async function startTwo(database: string, lock: string, settled: (s: Started[]) => boolean) {
  const owner = ownerOf(database);
  const url = withCredentials(withDatabase(adminUrl, database), TEST_APP_ROLE, TEST_APP_PASSWORD);
  const env = { PORT: '0', DATABASE_URL: url, LINEAL_CPR_SECRET: CPR, RATE_LIMIT_MAX: '0' };
  try {
    const both = await owner.transaction().execute(async (trx) => {
      await sql.raw(lock).execute(trx);
      const started = [launch('src/server.ts', env), launch('src/server.ts', env)];
      const deadline = Date.now() + 30_000;
      while (Date.now() < deadline) {
        if ((await waiting(owner)) >= 2 || settled(started)) break;
        if (started.some((s) => s.child.exitCode !== null)) break;
        await sleep(25);
      }
      await sleep(200);
      return started;
    });
    await Promise.race([
      Promise.all(both.map((s) => waitFor(s, /lineal is ready/, 30_000))),
      Promise.race(both.map((s) => s.exited)),
    ]);
    return both;
  } finally {
    await owner.destroy();
  }
}

async function stop(instances: Started[]) {
  for (const s of instances) s.child.kill('SIGTERM');
  await Promise.all(instances.map((s) => s.exited));
}

afterAll(async () => {
  killAll();
  if (adminUrl) for (const name of databases) await dropDatabase(adminUrl, name);
});

describe.skipIf(!adminUrl)('two instances on one PostgreSQL database', () => {
  let token = '';

  beforeAll(async () => {
    await adminQuery(adminUrl, [`CREATE DATABASE "${template}"`]);
    const owner = ownerOf(template);
    try {
      await migrateToLatest(owner);
    } finally {
      await owner.destroy();
    }
    await ensureTestAppRole(withDatabase(adminUrl, template));
  }, 60_000);

  it('both start on a freshly migrated database, storing the presets once', async () => {
    for (let trial = 0; trial < 3; trial++) {
      const name = uniqueDatabaseName('lineal_inst');
      databases.push(name);
      await adminQuery(adminUrl, [`CREATE DATABASE "${name}" TEMPLATE "${template}"`]);
      const both = await startTwo(name, 'LOCK TABLE rulers IN SHARE MODE', () => false);
      const outputs = both
        .map((s) => s.output().match(/lineal failed to start: .*/)?.[0] ?? s.output().slice(-600))
        .join('\n---\n');
      for (const s of both) expect(s.child.exitCode, outputs).toBeNull();
      await stop(both);
      const owner = ownerOf(name);
      try {
        const { rows } = await sql<{ key: string; n: number }>`
          SELECT key, count(*)::int AS n FROM rulers WHERE municipality_id IS NULL GROUP BY key
        `.execute(owner);
        expect(rows.length).toBeGreaterThanOrEqual(4);
        expect(rows.every((r) => r.n === 1)).toBe(true);
        const versions = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM ruler_versions v JOIN rulers r ON r.id = v.ruler_id
          WHERE r.municipality_id IS NULL`.execute(owner);
        expect(versions.rows[0]?.n).toBe(rows.length);
      } finally {
        await owner.destroy();
      }
    }
  }, 60_000);

  it('runs the not-assessed sweep on one instance at a time: each closed round swept once', async () => {
    const name = databases.at(-1) as string;
    const url = withCredentials(withDatabase(adminUrl, name), TEST_APP_ROLE, TEST_APP_PASSWORD);
    const direct = await openPostgresDatabase({ url, poolMax: 1 });
    token = (await createPlatformAdminKey(direct, 'instances test')).token;
    await direct.close();

    // One instance sets up two closed rounds with children nobody assessed.
    const env = { PORT: '0', DATABASE_URL: url, LINEAL_CPR_SECRET: CPR, RATE_LIMIT_MAX: '0' };
    const setup = launch('src/server.ts', env);
    const [, port] = await waitFor(setup, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
    await waitFor(setup, /lineal is ready/);
    // biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
    const post = async (path: string, body: unknown): Promise<any> => {
      const res = await fetch(`http://127.0.0.1:${port}${path}`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
      const json = await res.json();
      expect(res.status, JSON.stringify(json)).toBe(201);
      return json;
    };
    const municipality = await post('/v1/municipalities', { code: '102', name: 'To Kommune' });
    token = (
      await post(`/v1/municipalities/${municipality.id}/api-keys`, {
        name: 'admin',
        role: 'municipality_admin',
      })
    ).token;
    const unit = await post('/v1/units', { name: 'Mælkebøtten', kind: 'kindergarten' });
    for (let i = 0; i < 3; i++) {
      await post('/v1/children', {
        externalRef: `inst-${i}`,
        birthDate: '2021-05-10',
        enrolment: { unitId: unit.id, startDate: '2024-08-01' },
      });
    }
    const rulers = (await (
      await fetch(`http://127.0.0.1:${port}/v1/rulers`, {
        headers: { authorization: `Bearer ${token}` },
      })
    ).json()) as { items: { key: string; latestVersion: { id: string } }[] };
    const rulerVersionId = rulers.items.find((r) => r.key === 'topi-3')?.latestVersion.id;
    for (const [windowStart, windowEnd] of [
      ['2025-09-01', '2025-10-31'],
      ['2026-01-05', '2026-02-27'],
    ]) {
      await post('/v1/rounds', {
        name: `Runde ${windowEnd}`,
        windowStart,
        windowEnd,
        rulerVersionId,
        unitKinds: ['kindergarten'],
      });
    }
    // The sweep at start-up has not seen these rounds yet (they were created after it).
    await stop([setup]);

    // Both instances start together and sweep at once; the first is held inside its sweep.
    const both = await startTwo(name, 'LOCK TABLE flags IN SHARE MODE', (started) =>
      started.some((s) => /housekeeping skipped/.test(s.output())),
    );
    await Promise.all(both.map((s) => waitFor(s, /housekeeping (ran|skipped)/, 30_000)));
    const ran = both.filter((s) => /"msg":"housekeeping ran"/.test(s.output()));
    const outputs = both.map((s) => s.output().slice(-1200)).join('\n---\n');
    expect(ran.length, outputs).toBe(1);
    await stop(both);

    const owner = ownerOf(name);
    try {
      const { rows } = await sql<{ n: number; distinct: number }>`
        SELECT count(*)::int AS n, count(DISTINCT (child_id, round_id))::int AS distinct
        FROM flags WHERE kind = 'not_assessed'`.execute(owner);
      expect(rows[0]).toEqual({ n: 6, distinct: 6 });
      const runs = await sql<{ n: number }>`
        SELECT count(DISTINCT request_id)::int AS n FROM audit_log
        WHERE principal_kind = 'system' AND principal_id = 'not-assessed-flags'`.execute(owner);
      expect(runs.rows[0]?.n).toBe(1);
    } finally {
      await owner.destroy();
    }
  }, 60_000);
});
