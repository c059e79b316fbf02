import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { createLinealDatabase } from '../support/lineal-database.js';
import { PrivateCluster, postgresBinDir } from '../support/private-cluster.js';
import { killAll, startServer } from '../support/processes.js';
import { type Outcome, seedTenant, type Tenant, writeLoad } from '../support/write-load.js';

/**
 * Issue 12, point 1: the real service process under a write load while its PostgreSQL server
 * is restarted (-m fast: clients are disconnected; -m immediate: a crash with recovery) and
 * while it is stopped. The cluster is this file's own, so the shared test server is untouched.
 * Every acknowledged assessment must be stored exactly once, with its recommendation and its
 * audit entry, and the process must stay up and write again within a few seconds by itself.
 */
const bin = postgresBinDir();
const CPR = 'restart-test-cpr-secret-0123456789abcdef';
const CLIENTS = 6;
const CHILDREN = 24;
/** How long the service may take to write again once PostgreSQL is back. */
const RECOVERY_MS = 10_000;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!inject('postgresAdminUrl') || !bin)(
  'the service while PostgreSQL restarts',
  () => {
    let cluster: PrivateCluster;
    let server: Awaited<ReturnType<typeof startServer>>;
    let owner: Kysely<unknown>;
    let tenant: Tenant;
    const { api, load, statuses, badProblems } = writeLoad(
      () => ({ base: server.base, ...tenant }),
      { clients: CLIENTS, attempts: 8 },
    );

    async function waitForWrite(since: number, ms: number, probe: ReturnType<typeof load>) {
      const deadline = Date.now() + ms;
      while (probe.lastSuccess() <= since && Date.now() < deadline) await sleep(50);
      return probe.lastSuccess() > since ? probe.lastSuccess() - since : Number.POSITIVE_INFINITY;
    }

    /** Every acknowledged write is stored once, with its recommendation and audit entry. */
    async function expectStoredExactlyOnce(outcomes: Outcome[]) {
      const acknowledged = outcomes.filter((o) => o.id);
      expect(acknowledged.length).toBeGreaterThan(10);
      const rows = await sql<{ id: string; justification: string }>`
      SELECT a.id, a.justification FROM assessments a
    `.execute(owner);
      const byKey = new Map<string, string[]>();
      for (const row of rows.rows) {
        const key = row.justification.replace(/^load /, '');
        byKey.set(key, [...(byKey.get(key) ?? []), row.id]);
      }
      const duplicated = [...byKey.entries()].filter(([, ids]) => ids.length > 1);
      expect(duplicated).toEqual([]);
      const ids = acknowledged.map((o) => o.id as string);
      const lost = acknowledged.filter((o) => byKey.get(o.key)?.[0] !== o.id);
      expect(lost).toEqual([]);
      const recommended = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM recommendations WHERE assessment_id = ANY(${ids}::uuid[])
    `.execute(owner);
      expect(recommended.rows[0]?.n).toBe(ids.length);
      const audited = await sql<{ n: number }>`
      SELECT count(DISTINCT resource_id)::int AS n FROM audit_log
      WHERE resource_type = 'assessment' AND action = 'create' AND resource_id = ANY(${ids}::text[])
    `.execute(owner);
      expect(audited.rows[0]?.n).toBe(ids.length);
    }

    beforeAll(async () => {
      cluster = await PrivateCluster.create(bin as string);
      const { ownerUrl, appUrl, platformToken } = await createLinealDatabase(
        cluster.adminUrl,
        'lineal',
        'restart test',
      );
      const ownerPool = new pg.Pool({ connectionString: ownerUrl, max: 2 });
      // The restarts end this pool's idle connections too; the pool replaces them.
      ownerPool.on('error', () => {});
      owner = new Kysely({ dialect: new PostgresDialect({ pool: ownerPool }) });

      server = await startServer({
        DATABASE_URL: appUrl,
        LINEAL_CPR_SECRET: CPR,
        RATE_LIMIT_MAX: '0',
        LOG_LEVEL: 'info',
      });
      tenant = await seedTenant(server.base, platformToken, {
        code: '101',
        name: 'Restart',
        children: CHILDREN,
        refPrefix: 'restart',
      });
    }, 180_000);

    afterAll(async () => {
      killAll();
      await owner?.destroy();
      await cluster?.destroy();
    });

    for (const mode of ['fast', 'immediate'] as const) {
      it(`stays up through pg_ctl restart -m ${mode} under a write load and loses nothing`, async () => {
        statuses.clear();
        const probe = load();
        await sleep(1_500);
        expect(probe.lastSuccess(), JSON.stringify([...statuses])).toBeGreaterThan(0);
        await cluster.restart(mode);
        const restarted = Date.now();
        const recoveryMs = await waitForWrite(restarted, RECOVERY_MS, probe);
        await sleep(1_500);
        const outcomes = await probe.stop();
        const summary = JSON.stringify({
          mode,
          recoveryMs,
          statuses: Object.fromEntries(statuses),
          writes: outcomes.length,
        });
        console.info(`[restart] ${summary}`);
        expect(server.child.exitCode, server.output().slice(-3000)).toBeNull();
        expect(recoveryMs, summary).toBeLessThan(RECOVERY_MS);
        // Only acknowledged writes and 503s: no 500, no refused connection, and no 409
        // idempotency-in-progress (a claim dies with its transaction, point 7).
        const allowed = new Set([201, 503]);
        expect(
          [...statuses.keys()].filter((s) => !allowed.has(s)),
          summary,
        ).toEqual([]);
        expect(badProblems).toEqual([]);
        await expectStoredExactlyOnce(outcomes);
      }, 90_000);
    }

    it('answers 503 with Retry-After while PostgreSQL is down, and resumes when it is back', async () => {
      await cluster.stop('fast');
      try {
        const health = await fetch(`${server.base}/healthz`);
        expect(health.status).toBe(200);
        const ready = await fetch(`${server.base}/readyz`);
        expect(ready.status).toBe(503);
        expect(ready.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        const write = await api('POST', '/v1/units', { name: 'Ny', kind: 'kindergarten' });
        expect(write.status).toBe(503);
        expect(write.headers.get('content-type')).toMatch(/^application\/problem\+json/);
        expect(Number(write.headers.get('retry-after'))).toBeGreaterThan(0);
        expect(await write.json()).toMatchObject({
          status: 503,
          type: expect.stringMatching(/database-unavailable$/),
        });
        const read = await api('GET', '/v1/children');
        expect(read.status).toBe(503);
      } finally {
        await cluster.start();
      }
      const deadline = Date.now() + RECOVERY_MS;
      let status = 0;
      while (Date.now() < deadline) {
        status = (await fetch(`${server.base}/readyz`)).status;
        if (status === 200) break;
        await sleep(100);
      }
      expect(status).toBe(200);
      const units = await api('GET', '/v1/units');
      expect(units.status).toBe(200);
      // The unit refused while the database was down was not half-written.
      const { items } = (await units.json()) as { items: { name: string }[] };
      expect(items.map((u) => u.name)).not.toContain('Ny');
      expect(server.child.exitCode).toBeNull();
    }, 60_000);
  },
);
