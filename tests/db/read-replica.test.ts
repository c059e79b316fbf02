import type { FastifyInstance } from 'fastify';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Database } from '../../src/db/database.js';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openDatabase } from '../../src/db/open.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { syncPresetGuides } from '../../src/features/guides/service.js';
import { syncPresetRulers } from '../../src/features/rulers/service.js';
import { type EngineContext, TEST_CPR_SECRET, TestClock } from '../support/engines.js';
import {
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
  createTenant,
  createUnit,
} from '../support/factories.js';
import {
  adminQuery,
  ensureTestAppRole,
  TEST_APP_PASSWORD,
  TEST_APP_ROLE,
  withCredentials,
  withDatabase,
} from '../support/postgres-admin.js';
import { PrivateCluster, postgresBinDir } from '../support/private-cluster.js';

/**
 * Issue 14, point 3: DATABASE_REPLICA_URL. A primary and a streaming replica of this file's own
 * (pg_basebackup -R -X stream -C -S): the analytics and export reads run on the replica (seen
 * by pausing its replay: they miss a row the primary has), their audit entries land on the
 * primary, reads fall back to the primary when the replica lags past the bound or is stopped,
 * and go back to it when it is current again; row-level security holds on the replica against
 * the service's own role (the standby scope of migrations/20261208_090000_standby_scope.ts).
 */
const bin = postgresBinDir();
const MAX_LAG_SECONDS = 4;
const METRICS_TOKEN = 'read-replica-test-metrics-token-0123456789';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function until(what: string, condition: () => boolean | Promise<boolean>, ms = 15_000) {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out waiting until ${what}`);
    await sleep(50);
  }
}

describe.skipIf(!bin || !process.env.LINEAL_TEST_PG_BIN)('a read replica [postgres]', () => {
  let primary: PrivateCluster;
  let standby: PrivateCluster;
  let database: Database;
  let app: FastifyInstance;
  // biome-ignore lint/suspicious/noExplicitAny: the owner works on any schema
  let owner: Kysely<any>;
  let standbyAdmin: pg.Pool;
  let standbyAppUrl = '';
  const t = { engine: 'postgres' } as EngineContext;

  let tenant: Awaited<ReturnType<typeof createScreeningTenant>>;
  let other: Awaited<ReturnType<typeof createTenant>>;
  let analyst = '';
  let roundId = '';
  let platformKeyId = '';

  const onStandby = async <R>(text: string, values: unknown[] = []) =>
    (await standbyAdmin.query(text, values)).rows as R[];
  const status = () => {
    const read = database.replicaStatus;
    if (!read) throw new Error('no replica configured');
    return read();
  };

  /** Until the standby has replayed everything the primary has written so far. */
  async function replayed(): Promise<void> {
    const { rows } = await sql<{ lsn: string }>`SELECT pg_current_wal_lsn()::text AS lsn`.execute(
      owner,
    );
    const lsn = rows[0]?.lsn;
    await until('the standby has replayed the primary', async () => {
      const [row] = await onStandby<{ done: boolean }>(
        'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
        [lsn],
      );
      return row?.done === true;
    });
  }

  async function assess(): Promise<string> {
    const child = await createChild(t, tenant.admin.token, { unitId: tenant.unit.id });
    const res = await t.call('POST', '/v1/assessments', {
      token: tenant.admin.token,
      body: {
        childId: child.id,
        unitId: tenant.unit.id,
        roundId,
        assessedOn: '2026-11-01',
        raters: [
          { name: 'Anna', role: 'unit_staff' },
          { name: 'Bo', role: 'unit_leader' },
        ],
        rating: { overallLevel: 1 },
        parentsInformed: true,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json().id;
  }

  /** The export's rows (one assessment per child here), as the analyst's key gets them. */
  async function exported(): Promise<string[]> {
    const res = await t.call('GET', '/v1/exports/assessments.ndjson', { token: analyst });
    expect(res.statusCode, res.body).toBe(200);
    return res.body
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line).child_pseudonym);
  }

  const exportAudits = async () =>
    Number(
      (
        await sql<{
          n: number;
        }>`SELECT count(*)::int AS n FROM audit_log WHERE action = 'export'`.execute(owner)
      ).rows[0]?.n,
    );

  async function metric(name: string): Promise<string | undefined> {
    const res = await app.inject({
      method: 'GET',
      url: '/metrics',
      headers: { authorization: `Bearer ${METRICS_TOKEN}` },
    });
    return res.body.split('\n').find((line) => line.startsWith(name));
  }

  beforeAll(async () => {
    primary = await PrivateCluster.create(bin as string);
    await adminQuery(primary.adminUrl, ['CREATE DATABASE lineal']);
    const ownerUrl = withDatabase(primary.adminUrl, 'lineal');
    // Idle connections of these pools are ended when a test stops a server: not an error here.
    const ownerPool = new pg.Pool({ connectionString: ownerUrl, max: 2 });
    ownerPool.on('error', () => {});
    owner = new Kysely({ dialect: new PostgresDialect({ pool: ownerPool }) });
    await migrateToLatest(owner);
    await ensureTestAppRole(ownerUrl);
    standby = await PrivateCluster.standbyOf(primary, 'lineal_replica');
    const standbyUrl = withDatabase(standby.adminUrl, 'lineal');
    standbyAdmin = new pg.Pool({ connectionString: standbyUrl, max: 2 });
    standbyAdmin.on('error', () => {});
    standbyAppUrl = withCredentials(standbyUrl, TEST_APP_ROLE, TEST_APP_PASSWORD);
    database = await openDatabase({
      engine: 'postgres',
      url: withCredentials(ownerUrl, TEST_APP_ROLE, TEST_APP_PASSWORD),
      migrationUrl: ownerUrl,
      poolMax: 4,
      allowRlsBypass: false,
      pooler: 'none',
      replica: { url: standbyAppUrl, maxLagSeconds: MAX_LAG_SECONDS },
    });
    await syncPresetRulers(database);
    await syncPresetGuides(database);
    t.database = database;
    t.clock = new TestClock();
    t.asOwner = (fn) => fn(owner);
    app = await buildApp({
      config: {
        bodyLimitBytes: 64 * 1024,
        trustProxy: false,
        rateLimit: { max: 1_000_000, windowMs: 60_000 },
        metricsToken: METRICS_TOKEN,
      },
      cprSecret: TEST_CPR_SECRET,
      database,
      now: t.clock.now,
    });
    t.app = app;
    const platformKey = await createPlatformAdminKey(database, 'replica test platform admin');
    t.platformToken = platformKey.token;
    platformKeyId = platformKey.id;
    t.call = (method, url, options = {}) => {
      const token = options.token === undefined ? t.platformToken : options.token;
      return app.inject({
        method,
        url,
        headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...options.headers },
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
    };
    tenant = await createScreeningTenant(t);
    other = await createTenant(t);
    await createChild(t, other.admin.token, {
      unitId: (await createUnit(t, other.admin.token)).id,
    });
    analyst = (await createKey(t, tenant.municipality.id, 'analyst')).token;
    roundId = (await createRound(t, tenant.admin.token, tenant.topi)).id;
    for (let i = 0; i < 6; i++) await assess();
    await replayed();
    await until('reads use the replica', () => status().inUse);
  }, 120_000);

  afterAll(async () => {
    await app?.close();
    await database?.close();
    await owner?.destroy();
    await standbyAdmin?.end();
    await Promise.all([standby?.destroy(), primary?.destroy()]);
  });

  it('reads analytics and exports on the replica, and writes their audit entries on the primary', async () => {
    const before = await exported();
    expect(before).toHaveLength(6);
    const audits = await exportAudits();
    const reads = status().reads;
    await onStandby('SELECT pg_wal_replay_pause()');
    try {
      const newest = await assess();
      // The export misses the assessment the primary has: it was read on the (paused) replica.
      const stale = await exported();
      expect(stale.sort()).toEqual([...before].sort());
      // An analytics aggregate too (audited like the export).
      const coverage = await t.call('GET', `/v1/analytics/coverage?roundId=${roundId}`, {
        token: analyst,
      });
      expect(coverage.statusCode, coverage.body).toBe(200);
      expect(status().reads.replica).toBe(reads.replica + 2); // the export and the aggregate
      // Their audit entries are on the primary, in the same request: not on the replica yet.
      expect(await exportAudits()).toBe(audits + 1);
      const [onReplica] = await onStandby<{ n: number }>(
        "SELECT count(*)::int AS n FROM audit_log WHERE action = 'export'",
      );
      expect(onReplica?.n).toBe(audits);
      // A route that is not routed reads the primary: the new assessment is there.
      const list = await t.call('GET', `/v1/assessments/${newest}`, { token: tenant.admin.token });
      expect(list.statusCode, list.body).toBe(200);
    } finally {
      await onStandby('SELECT pg_wal_replay_resume()');
    }
    await replayed();
    expect(await exported()).toHaveLength(7);
  });

  it('reads on the primary while the replica lags past the bound, and on the replica again after', async () => {
    await until('reads use the replica', () => status().inUse);
    await onStandby('SELECT pg_wal_replay_pause()');
    try {
      await assess();
      const paused = Date.now();
      await until('the lag bound sends reads to the primary', () => !status().inUse, 15_000);
      const fallbackMs = Date.now() - paused;
      console.info(`[read-replica] lag bound ${MAX_LAG_SECONDS} s: primary after ${fallbackMs} ms`);
      expect(status().lagSeconds).toBeGreaterThan(MAX_LAG_SECONDS);
      const primaryReads = status().reads.primary;
      expect(await exported()).toHaveLength(8);
      expect(status().reads.primary).toBe(primaryReads + 1);
      expect(await metric('lineal_database_replica_in_use')).toBe(
        'lineal_database_replica_in_use 0',
      );
      const lag = Number((await metric('lineal_database_replica_lag_seconds'))?.split(' ')[1]);
      expect(lag).toBeGreaterThan(MAX_LAG_SECONDS);
      expect(await metric('lineal_database_replica_up')).toBe('lineal_database_replica_up 1');
    } finally {
      await onStandby('SELECT pg_wal_replay_resume()');
    }
    await until('reads use the replica again', () => status().inUse);
    const replicaReads = status().reads.replica;
    expect(await exported()).toHaveLength(8);
    expect(status().reads.replica).toBe(replicaReads + 1);
    expect(await metric('lineal_database_replica_reads_total{server="replica"}')).toBe(
      `lineal_database_replica_reads_total{server="replica"} ${replicaReads + 1}`,
    );
  });

  it('falls back to the primary when the replica is stopped, and returns to it', async () => {
    await until('reads use the replica', () => status().inUse);
    await standby.stop('fast');
    const stopped = Date.now();
    const first = await t.call('GET', '/v1/analytics/zone-distribution?groupBy=round', {
      token: analyst,
    });
    const firstMs = Date.now() - stopped;
    expect(first.statusCode, first.body).toBe(200);
    expect(status().inUse).toBe(false);
    const primaryReads = status().reads.primary;
    const started = Date.now();
    const second = await t.call('GET', '/v1/analytics/zone-distribution?groupBy=round', {
      token: analyst,
    });
    const secondMs = Date.now() - started;
    expect(second.statusCode, second.body).toBe(200);
    expect(status().reads.primary).toBe(primaryReads + 1);
    expect(await metric('lineal_database_replica_up')).toBe('lineal_database_replica_up 0');
    await standby.start();
    const restarted = Date.now();
    await until('reads use the replica again', () => status().inUse);
    const backMs = Date.now() - restarted;
    console.info(
      `[read-replica] stopped: first read ${firstMs} ms, next ${secondMs} ms (primary); ` +
        `back on the replica ${backMs} ms after it started`,
    );
    expect(secondMs).toBeLessThan(1_000);
    const replicaReads = status().reads.replica;
    expect(await exported()).toHaveLength(8);
    expect(status().reads.replica).toBe(replicaReads + 1);
  }, 60_000);

  describe('row-level security on the replica, as the service role', () => {
    let client: pg.Client;
    beforeAll(async () => {
      await replayed();
      client = new pg.Client({ connectionString: standbyAppUrl });
      client.on('error', () => {});
      await client.connect();
    });
    afterAll(() => client?.end());

    const a = () => tenant.municipality.id;
    const b = () => other.municipality.id;
    /** The statements in one transaction; the last one's rows, or the error's SQLSTATE. */
    async function inTransaction(...statements: string[]): Promise<unknown[] | string> {
      try {
        await client.query('BEGIN');
        let rows: unknown[] = [];
        for (const statement of statements) rows = (await client.query(statement)).rows;
        return rows;
      } catch (error) {
        return (error as { code: string }).code;
      } finally {
        await client.query('ROLLBACK');
      }
    }
    const enter = (municipality: string, key: string) =>
      `SELECT lineal_enter_scope('${municipality}', '${key}')`;
    const municipalitiesOfChildren =
      'SELECT DISTINCT municipality_id AS m FROM children ORDER BY 1';

    it('is a standby, with both municipalities’ children', async () => {
      expect((await client.query('SELECT pg_is_in_recovery() AS r')).rows[0].r).toBe(true);
      const all = await onStandby<{ m: string }>(municipalitiesOfChildren);
      expect(all.map((r) => r.m).sort()).toEqual([a(), b()].sort());
    });

    it('shows no row without a scope, and only the scope’s municipality with one', async () => {
      expect(await inTransaction(municipalitiesOfChildren)).toEqual([]);
      expect(await inTransaction(enter(a(), tenant.admin.id), municipalitiesOfChildren)).toEqual([
        { m: a() },
      ]);
    });

    it('refuses a forged or replayed scope setting', async () => {
      const forged = `SELECT set_config('lineal.standby_scope', '${b()}:${'0'.repeat(64)}', true)`;
      expect(await inTransaction(forged, municipalitiesOfChildren)).toEqual([]);
      // A genuine value copied from an earlier transaction of the same connection.
      const [row] = (await inTransaction(
        enter(b(), other.admin.id),
        "SELECT current_setting('lineal.standby_scope') AS token",
      )) as { token: string }[];
      expect(row?.token).toMatch(new RegExp(`^${b()}:[0-9a-f]{64}$`));
      const replay = `SELECT set_config('lineal.standby_scope', '${row?.token}', true)`;
      expect(await inTransaction(replay, municipalitiesOfChildren)).toEqual([]);
    });

    it('refuses a second scope in a transaction, even after clearing the setting and unlocking', async () => {
      expect(
        await inTransaction(
          enter(a(), tenant.admin.id),
          "SELECT set_config('lineal.standby_scope', '', true)",
          'SELECT pg_advisory_unlock_all()',
          enter(b(), other.admin.id),
        ),
      ).toBe('42501');
    });

    it('refuses a key of another municipality, and a revoked key', async () => {
      expect(await inTransaction(enter(b(), tenant.admin.id))).toBe('42501');
      const key = await createKey(t, b(), 'analyst');
      const revoke = await t.call('POST', `/v1/municipalities/${b()}/api-keys/${key.id}/revoke`, {
        token: other.admin.token,
        body: {},
      });
      expect(revoke.statusCode, revoke.body).toBe(200);
      await replayed();
      expect(await inTransaction(enter(b(), key.id))).toBe('LK401');
    });

    it('keeps the MAC key and function from the service role', async () => {
      expect(await inTransaction('SELECT key FROM lineal_standby_scope_key')).toBe('42501');
      expect(await inTransaction("SELECT lineal_standby_scope_mac('x')")).toBe('42501');
    });

    it('gives the platform scope the municipalities and no child', async () => {
      const platform = `SELECT lineal_enter_platform_scope('${platformKeyId}')`;
      expect(await inTransaction(platform, municipalitiesOfChildren)).toEqual([]);
      const rows = (await inTransaction(platform, 'SELECT id FROM municipalities')) as {
        id: string;
      }[];
      expect(rows.map((r) => r.id)).toEqual(expect.arrayContaining([a(), b()]));
    });
  });

  it('starts with the replica unreachable, reading on the primary; refuses an RLS-bypassing role', async () => {
    const url = withCredentials(
      withDatabase(primary.adminUrl, 'lineal'),
      TEST_APP_ROLE,
      TEST_APP_PASSWORD,
    );
    const config = {
      engine: 'postgres' as const,
      url,
      migrationUrl: url,
      poolMax: 2,
      allowRlsBypass: false,
      pooler: 'none' as const,
    };
    // A port nothing listens on.
    const closed = new URL(standbyAppUrl);
    closed.port = '1';
    const started = Date.now();
    const unreachable = await openDatabase({
      ...config,
      replica: { url: closed.toString(), maxLagSeconds: 30 },
    });
    try {
      expect(Date.now() - started).toBeLessThan(3_000);
      expect(unreachable.replicaStatus?.()).toMatchObject({ up: false, inUse: false });
      const n = await unreachable.readTransaction?.({ kind: 'platform' }, async (trx) =>
        Number(
          (await sql<{ n: number }>`SELECT count(*)::int AS n FROM municipalities`.execute(trx))
            .rows[0]?.n,
        ),
      );
      expect(n).toBeGreaterThanOrEqual(2);
      expect(unreachable.replicaStatus?.().reads).toEqual({ replica: 0, primary: 1 });
    } finally {
      await unreachable.close();
    }
    // The standby's superuser bypasses row-level security: refused at start-up, as on the primary.
    await expect(
      openDatabase({
        ...config,
        replica: { url: withDatabase(standby.adminUrl, 'lineal'), maxLagSeconds: 30 },
      }),
    ).rejects.toThrow(/bypasses row-level security/);
  });

  it('answers 503 and no data when the audit entry cannot be written on the primary', async () => {
    await replayed();
    await until('reads use the replica', () => status().inUse);
    await primary.stop('fast');
    const res = await t.call('GET', `/v1/analytics/coverage?roundId=${roundId}`, {
      token: analyst,
    });
    expect(res.statusCode, res.body).toBe(503);
    expect(res.body).not.toContain('"rows"');
    expect(res.headers['content-type']).toContain('application/problem+json');
  }, 30_000);
});
