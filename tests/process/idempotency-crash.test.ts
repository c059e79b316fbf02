import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLinealDatabase } from '../support/lineal-database.js';
import { dropDatabase, uniqueDatabaseName } from '../support/postgres-admin.js';
import { killAll, startServer } from '../support/processes.js';

/**
 * Issue 12, point 7: the service is killed (SIGKILL) while it works on a request that carries
 * an Idempotency-Key. The claim on the key must die with the process: the client's retry right
 * after the restart does the work once (or replays it), never 409 idempotency-in-progress.
 */
const CPR = 'idempotency-crash-cpr-secret-0123456789ab';
const adminUrl = inject('postgresAdminUrl');
const name = uniqueDatabaseName('lineal_crash');
let owner: Kysely<unknown> | undefined;

afterAll(async () => {
  killAll();
  await owner?.destroy();
  if (adminUrl) await dropDatabase(adminUrl, name);
});

describe.skipIf(!adminUrl)('an idempotent request when the service is killed mid-request', () => {
  it('leaves no claim behind: the retry after a restart does the work once', async () => {
    const {
      ownerUrl,
      appUrl,
      platformToken: token,
    } = await createLinealDatabase(adminUrl, name, 'crash test');
    owner = new Kysely({
      dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: ownerUrl, max: 2 }) }),
    });
    const env = { DATABASE_URL: appUrl, LINEAL_CPR_SECRET: CPR, RATE_LIMIT_MAX: '0' };
    const create = (base: string) =>
      fetch(`${base}/v1/municipalities`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': 'create-crash-kommune',
        },
        body: JSON.stringify({ code: '999', name: 'Crash Kommune' }),
      });

    const first = await startServer(env);
    await owner.transaction().execute(async (trx) => {
      // Holds the request inside its work (its insert waits for this lock) ...
      await sql`LOCK TABLE municipalities IN SHARE MODE`.execute(trx);
      const pending = create(first.base).catch(() => undefined);
      let waiting = 0;
      for (let i = 0; i < 400 && waiting === 0; i++) {
        // pg_locks, not pg_stat_activity: the activity view is a snapshot taken once per
        // transaction, so a wait that starts after the first look would never show there.
        const { rows } = await sql<{ n: number }>`
          SELECT count(*)::int AS n FROM pg_locks
          WHERE relation = 'municipalities'::regclass AND NOT granted`.execute(trx);
        waiting = rows[0]?.n ?? 0;
        if (waiting === 0) await new Promise((resolve) => setTimeout(resolve, 25));
      }
      expect(waiting, 'the request waits inside its work').toBe(1);
      // ... and the service dies there.
      first.child.kill('SIGKILL');
      await first.exited;
      await pending;
    });

    const second = await startServer(env);
    const retry = await create(second.base);
    expect(retry.status, await retry.clone().text()).toBe(201);
    expect(retry.headers.get('idempotency-replayed')).toBeNull();
    const replay = await create(second.base);
    expect(replay.status).toBe(201);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    expect(((await replay.json()) as { id: string }).id).toBe(
      ((await retry.json()) as { id: string }).id,
    );
    const stored = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM municipalities WHERE code = '999'`.execute(owner);
    expect(stored.rows[0]?.n).toBe(1);
    second.child.kill('SIGTERM');
    expect(await second.exited).toBe(0);
  }, 90_000);
});
