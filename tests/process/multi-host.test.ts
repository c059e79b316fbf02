import { execFile } from 'node:child_process';
import path from 'node:path';
import { promisify } from 'node:util';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLinealDatabase } from '../support/lineal-database.js';
import { TEST_APP_PASSWORD, TEST_APP_ROLE, withDatabase } from '../support/postgres-admin.js';
import { PrivateCluster, postgresBinDir } from '../support/private-cluster.js';
import { killAll, startServer } from '../support/processes.js';
import { type Outcome, seedTenant, type Tenant, writeLoad } from '../support/write-load.js';

/**
 * Issue 14, point 1: a multi-host DATABASE_URL (`h1:p1,h2:p2/db?target_session_attrs=read-write`,
 * what pg_auto_failover hands out). Two clusters of this file's own stand for a primary and its
 * standby: the "standby" is read-only (default_transaction_read_only, as a promoted standby is
 * until pg_auto_failover lets it write, or a demoted primary). The service must write only to
 * the writable one, and after a switchover (the old primary read-only, its data copied to the
 * other, which becomes writable) continue by itself: 503s with Retry-After meanwhile, then 201s,
 * and every acknowledged write is on the new primary exactly once.
 */
const bin = postgresBinDir();
const run = promisify(execFile);
const CPR = 'multi-host-test-cpr-secret-0123456789abcdef';
const CLIENTS = 4;
const CHILDREN = 12;
/** How long the service may take to write again once the new primary is writable. */
const RECOVERY_MS = 10_000;
/** Admin sessions may write on a read-only cluster (the copy, ALTER SYSTEM). */
const WRITABLE = '-c default_transaction_read_only=off';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

async function admin(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url, options: WRITABLE });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

/** Makes a cluster read-only or writable for new and existing sessions, and waits until it is. */
async function setReadOnly(cluster: PrivateCluster, readOnly: boolean): Promise<void> {
  await admin(cluster.adminUrl, [
    `ALTER SYSTEM SET default_transaction_read_only = ${readOnly ? 'on' : 'off'}`,
    'SELECT pg_reload_conf()',
  ]);
  for (let i = 0; i < 100; i++) {
    const client = new pg.Client({ connectionString: cluster.adminUrl });
    await client.connect();
    const { rows } = await client.query('SHOW default_transaction_read_only');
    await client.end();
    if (rows[0]?.default_transaction_read_only === (readOnly ? 'on' : 'off')) return;
    await sleep(50);
  }
  throw new Error('the setting did not take effect');
}

/** Replaces `to`'s lineal database by a copy of `from`'s (roles first when asked). */
async function copyDatabase(from: PrivateCluster, to: PrivateCluster, roles = false) {
  const tool = (name: string) => path.join(bin as string, name);
  const src = `-h 127.0.0.1 -p ${from.port} -U postgres`;
  const dst = `-h 127.0.0.1 -p ${to.port} -U postgres`;
  if (roles) {
    await run('bash', [
      '-c',
      `set -o pipefail; ${tool('pg_dumpall')} ${src} --roles-only | ${tool('psql')} ${dst} -q -d postgres >/dev/null 2>&1 || true`,
    ]);
  }
  await admin(to.adminUrl, [
    'DROP DATABASE IF EXISTS lineal WITH (FORCE)',
    'CREATE DATABASE lineal',
  ]);
  await run(
    'bash',
    [
      '-c',
      `set -o pipefail; ${tool('pg_dump')} ${src} -Fc lineal | ${tool('pg_restore')} ${dst} -d lineal`,
    ],
    { env: { ...process.env, PGOPTIONS: WRITABLE }, timeout: 120_000 },
  );
}

describe.skipIf(!bin || !process.env.LINEAL_TEST_PG_BIN)(
  'the service on a multi-host DATABASE_URL (target_session_attrs=read-write)',
  () => {
    let first: PrivateCluster;
    let second: PrivateCluster;
    let server: Awaited<ReturnType<typeof startServer>>;
    let tenant: Tenant;
    const { load, statuses, badProblems } = writeLoad(() => ({ base: server.base, ...tenant }), {
      clients: CLIENTS,
      attempts: 60,
    });

    /** The acknowledged writes on `cluster`: each exactly once, with recommendation and audit. */
    async function expectStoredExactlyOnce(cluster: PrivateCluster, outcomes: Outcome[]) {
      const acknowledged = outcomes.filter((o) => o.id);
      expect(acknowledged.length).toBeGreaterThan(5);
      const owner = new Kysely<unknown>({
        dialect: new PostgresDialect({
          pool: new pg.Pool({ connectionString: withDatabase(cluster.adminUrl, 'lineal'), max: 1 }),
        }),
      });
      try {
        const rows = await sql<{ id: string; justification: string }>`
          SELECT id, justification FROM assessments`.execute(owner);
        const byKey = new Map<string, string[]>();
        for (const row of rows.rows) {
          const key = row.justification.replace(/^load /, '');
          byKey.set(key, [...(byKey.get(key) ?? []), row.id]);
        }
        expect([...byKey.entries()].filter(([, ids]) => ids.length > 1)).toEqual([]);
        expect(acknowledged.filter((o) => byKey.get(o.key)?.[0] !== o.id)).toEqual([]);
        const ids = acknowledged.map((o) => o.id as string);
        const recommended = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM recommendations
          WHERE assessment_id = ANY(${ids}::uuid[])`.execute(owner);
        expect(recommended.rows[0]?.n).toBe(ids.length);
        const audited = await sql<{ n: number }>`
          SELECT count(DISTINCT resource_id)::int AS n FROM audit_log
          WHERE resource_type = 'assessment' AND action = 'create'
            AND resource_id = ANY(${ids}::text[])`.execute(owner);
        expect(audited.rows[0]?.n).toBe(ids.length);
        return rows.rows.length;
      } finally {
        await owner.destroy();
      }
    }

    async function assessmentsOn(cluster: PrivateCluster): Promise<number> {
      const client = new pg.Client({ connectionString: withDatabase(cluster.adminUrl, 'lineal') });
      await client.connect();
      try {
        return (await client.query('SELECT count(*)::int AS n FROM assessments')).rows[0].n;
      } finally {
        await client.end();
      }
    }

    beforeAll(async () => {
      [first, second] = await Promise.all([
        PrivateCluster.create(bin as string),
        PrivateCluster.create(bin as string),
      ]);
      // The schema, the app role and a platform key on the first; the second a copy of it.
      const { platformToken } = await createLinealDatabase(
        first.adminUrl,
        'lineal',
        'multi-host test',
      );
      await copyDatabase(first, second, true);
      // The first listed is the "standby": read-only.
      await setReadOnly(first, true);

      const hosts = `127.0.0.1:${first.port},127.0.0.1:${second.port}`;
      const url = `postgres://${TEST_APP_ROLE}:${TEST_APP_PASSWORD}@${hosts}/lineal?target_session_attrs=read-write`;
      server = await startServer({
        DATABASE_URL: url,
        LINEAL_CPR_SECRET: CPR,
        RATE_LIMIT_MAX: '0',
        LOG_LEVEL: 'info',
      });
      tenant = await seedTenant(server.base, platformToken, {
        code: '101',
        name: 'Failover',
        children: CHILDREN,
        refPrefix: 'failover',
      });
    }, 240_000);

    afterAll(async () => {
      killAll();
      await Promise.all([first?.destroy(), second?.destroy()]);
    });

    it('writes to the writable host even when a read-only one is listed first', async () => {
      statuses.clear();
      const probe = load();
      await sleep(2_000);
      const outcomes = await probe.stop();
      expect([...statuses.keys()], JSON.stringify([...statuses])).toEqual([201]);
      await expectStoredExactlyOnce(second, outcomes);
      expect(await assessmentsOn(first)).toBe(0);
    }, 60_000);

    it('after a switchover writes to the new primary by itself, losing nothing', async () => {
      statuses.clear();
      const probe = load();
      await sleep(1_500);
      expect(probe.lastSuccess(), JSON.stringify([...statuses])).toBeGreaterThan(0);
      const before = await assessmentsOn(second);
      // The switchover: the primary stops taking writes (demoted), the standby gets its data
      // (streaming replication would have done that) and is promoted (writable).
      await setReadOnly(second, true);
      const demoted = Date.now();
      await copyDatabase(second, first);
      await setReadOnly(first, false);
      const promoted = Date.now();
      const deadline = promoted + RECOVERY_MS;
      while (probe.lastSuccess() <= promoted && Date.now() < deadline) await sleep(50);
      const recoveryMs = probe.lastSuccess() - promoted;
      await sleep(1_500);
      const outcomes = await probe.stop();
      const summary = JSON.stringify({
        switchoverMs: promoted - demoted,
        recoveryMs,
        statuses: Object.fromEntries(statuses),
        writes: outcomes.length,
      });
      console.info(`[multi-host] ${summary}`);
      expect(server.child.exitCode, server.output().slice(-3000)).toBeNull();
      expect(recoveryMs, summary).toBeGreaterThan(0);
      expect(recoveryMs, summary).toBeLessThan(RECOVERY_MS);
      const allowed = new Set([201, 503]);
      expect(
        [...statuses.keys()].filter((s) => !allowed.has(s)),
        summary,
      ).toEqual([]);
      expect(statuses.get(503) ?? 0, summary).toBeGreaterThan(0);
      expect(badProblems).toEqual([]);
      // Every write acknowledged before, during and after the switchover is on the new primary;
      // the old one received none once it was read-only.
      const stored = await expectStoredExactlyOnce(first, outcomes);
      expect(stored).toBeGreaterThan(before);
      expect(await assessmentsOn(second)).toBeLessThanOrEqual(stored);
    }, 120_000);
  },
);
