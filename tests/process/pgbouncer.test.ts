import { execFile, execFileSync } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { postgresJobLock } from '../../src/db/advisory-locks.js';
import { platformScope } from '../../src/db/database.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createLinealDatabase } from '../support/lineal-database.js';
import { TEST_APP_PASSWORD, TEST_APP_ROLE } from '../support/postgres-admin.js';
import { freePort, PrivateCluster, postgresBinDir } from '../support/private-cluster.js';
import { killAll, startServer } from '../support/processes.js';
import { call, seedTenant, type Tenant, writeLoad } from '../support/write-load.js';

/**
 * Issue 14, point 5: the service behind PgBouncer in transaction mode (Debian's 1.18, which
 * cannot keep prepared statements across server connections). With DATABASE_POOLER=transaction
 * it prepares no statements per connection and its job lock lives in a transaction, so
 * everything works with a server pool smaller than the service's own; with prepared
 * statements on, the same traffic fails.
 */
const bin = postgresBinDir();
const PGBOUNCER = '/usr/sbin/pgbouncer';
const run = promisify(execFile);
const CPR = 'pgbouncer-test-cpr-secret-0123456789abcdef';
/** Server connections PgBouncer keeps per user and database: fewer than the clients. */
const SERVER_POOL = 2;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PgBouncer on a loopback port of its own, in front of `cluster`'s lineal database. */
class Bouncer {
  private constructor(
    readonly dir: string,
    readonly port: number,
  ) {}

  static async start(cluster: PrivateCluster): Promise<Bouncer> {
    const dir = mkdtempSync(path.join(tmpdir(), 'lineal-pgbouncer-'));
    const bouncer = new Bouncer(dir, await freePort());
    writeFileSync(
      path.join(dir, 'users.txt'),
      `"${TEST_APP_ROLE}" "${TEST_APP_PASSWORD}"\n"postgres" ""\n`,
    );
    writeFileSync(
      path.join(dir, 'pgbouncer.ini'),
      [
        '[databases]',
        `lineal = host=127.0.0.1 port=${cluster.port} dbname=lineal`,
        '[pgbouncer]',
        'listen_addr = 127.0.0.1',
        `listen_port = ${bouncer.port}`,
        'unix_socket_dir =',
        'auth_type = trust',
        `auth_file = ${path.join(dir, 'users.txt')}`,
        'pool_mode = transaction',
        `default_pool_size = ${SERVER_POOL}`,
        'max_client_conn = 200',
        'ignore_startup_parameters = extra_float_digits,options',
        `logfile = ${path.join(dir, 'pgbouncer.log')}`,
        `pidfile = ${path.join(dir, 'pgbouncer.pid')}`,
        '',
      ].join('\n'),
    );
    // PgBouncer refuses to run as root: as root it runs as the postgres user.
    if (userInfo().uid === 0) {
      const uid = Number(execFileSync('id', ['-u', 'postgres']).toString().trim());
      const gid = Number(execFileSync('id', ['-g', 'postgres']).toString().trim());
      for (const file of ['', 'users.txt', 'pgbouncer.ini'])
        chownSync(path.join(dir, file), uid, gid);
      await run('runuser', [
        '-u',
        'postgres',
        '--',
        PGBOUNCER,
        '-d',
        path.join(dir, 'pgbouncer.ini'),
      ]);
    } else {
      await run(PGBOUNCER, ['-d', path.join(dir, 'pgbouncer.ini')]);
    }
    for (let i = 0; i < 100; i++) {
      const client = new pg.Client({ connectionString: bouncer.url(TEST_APP_ROLE) });
      client.on('error', () => {});
      try {
        await client.connect();
        await client.end();
        return bouncer;
      } catch {
        await sleep(100);
      }
    }
    throw new Error(`PgBouncer did not start: ${bouncer.log()}`);
  }

  url(user: string): string {
    return `postgres://${user}:${TEST_APP_PASSWORD}@127.0.0.1:${this.port}/lineal`;
  }

  log(): string {
    const file = path.join(this.dir, 'pgbouncer.log');
    return existsSync(file) ? readFileSync(file, 'utf8') : '';
  }

  stop(): void {
    const pidFile = path.join(this.dir, 'pgbouncer.pid');
    if (existsSync(pidFile)) {
      try {
        process.kill(Number(readFileSync(pidFile, 'utf8').trim()), 'SIGTERM');
      } catch {
        // gone already
      }
    }
    rmSync(this.dir, { recursive: true, force: true });
  }
}

describe.skipIf(!bin || !process.env.LINEAL_TEST_PG_BIN || !existsSync(PGBOUNCER))(
  'the service behind PgBouncer 1.18 in transaction mode (DATABASE_POOLER=transaction)',
  () => {
    let cluster: PrivateCluster;
    let bouncer: Bouncer;
    let ownerUrl: string;
    let platformToken: string;

    beforeAll(async () => {
      cluster = await PrivateCluster.create(bin as string);
      ({ ownerUrl, platformToken } = await createLinealDatabase(
        cluster.adminUrl,
        'lineal',
        'pgbouncer test',
      ));
      bouncer = await Bouncer.start(cluster);
    }, 120_000);

    afterAll(async () => {
      killAll();
      bouncer?.stop();
      await cluster?.destroy();
    });

    /** Concurrent scoped transactions of parameterised statements, each run many times. */
    async function traffic(preparedStatements: boolean): Promise<string[]> {
      const database = await openPostgresDatabase({
        url: bouncer.url(TEST_APP_ROLE),
        poolMax: 6,
        preparedStatements,
      });
      const errors: string[] = [];
      try {
        await Promise.all(
          Array.from({ length: 6 }, async (_, client) => {
            for (let i = 0; i < 15; i++) {
              await database
                .transaction(platformScope, async (trx) => {
                  const { rows } = await sql<{ n: number }>`
                    SELECT count(*)::int AS n FROM municipalities WHERE code <> ${`x${client}`}`.execute(
                    trx,
                  );
                  expect(rows[0]?.n).toBeGreaterThanOrEqual(0);
                  await sql`SELECT ${i}::int AS i, pg_sleep(0.002)`.execute(trx);
                })
                .catch((error: Error) => errors.push(error.message));
            }
          }),
        );
      } finally {
        await database.close();
      }
      return errors;
    }

    it('breaks with per-connection prepared statements, as the setting warns', async () => {
      const errors = await traffic(true);
      expect(errors.length).toBeGreaterThan(0);
      expect(errors.join('\n')).toMatch(
        /prepared statement "lineal_[0-9a-f]+" (does not|already) exist/,
      );
    }, 60_000);

    it('runs the same traffic without a single error when they are off', async () => {
      expect(await traffic(false)).toEqual([]);
    }, 60_000);

    it('serves writes and reads through the pooler: every acknowledged write stored once', async () => {
      const server = await startServer({
        DATABASE_URL: bouncer.url(TEST_APP_ROLE),
        DATABASE_POOLER: 'transaction',
        DATABASE_POOL_MAX: '8',
        LINEAL_CPR_SECRET: CPR,
        RATE_LIMIT_MAX: '0',
      });
      const tenant: Tenant = await seedTenant(server.base, platformToken, {
        code: '102',
        name: 'Pooler',
        children: 8,
        refPrefix: 'pooler',
      });
      const { load, statuses } = writeLoad(() => ({ base: server.base, ...tenant }), {
        clients: 6,
        attempts: 5,
      });
      const probe = load();
      // Reads beside the writes, each statement more than five times (generic plans too).
      for (let round = 0; round < 3; round++) {
        for (const childId of tenant.childIds) {
          const res = await call(
            server.base,
            tenant.token,
            'GET',
            `/v1/children/${childId}/timeline`,
          );
          expect(res.status, await res.text()).toBe(200);
        }
      }
      await sleep(1_500);
      const outcomes = await probe.stop();
      expect(Object.fromEntries(statuses)).toEqual({ 201: outcomes.length });
      expect(outcomes.length).toBeGreaterThan(20);
      const owner = new pg.Client({ connectionString: ownerUrl });
      await owner.connect();
      try {
        const { rows } = await owner.query<{ justification: string }>(
          'SELECT justification FROM assessments',
        );
        const stored = rows.map((r) => r.justification.replace(/^load /, '')).sort();
        expect(stored).toEqual(outcomes.map((o) => o.key).sort());
        // The service's pool of 8 and the load went through PgBouncer's two server connections.
        const { rows: servers } = await owner.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM pg_stat_activity WHERE usename = '${TEST_APP_ROLE}'`,
        );
        expect(servers[0]?.n).toBeLessThanOrEqual(SERVER_POOL);
      } finally {
        await owner.end();
      }
      expect(server.output()).not.toMatch(/prepared statement/);
      expect(server.child.exitCode).toBeNull();
    }, 120_000);

    it('runs a job on one instance at a time through the pooler', async () => {
      const a = postgresJobLock(bouncer.url(TEST_APP_ROLE), () => {});
      const b = postgresJobLock(bouncer.url(TEST_APP_ROLE), () => {});
      try {
        let release = () => {};
        const held = new Promise<void>((resolve) => {
          release = resolve;
        });
        let started = () => {};
        const running = new Promise<void>((resolve) => {
          started = resolve;
        });
        const first = a.runExclusive('housekeeping', async () => {
          started();
          await held;
          return 'a';
        });
        await running;
        // Other clients' transactions through the same two server connections meanwhile.
        const busy = await openPostgresDatabase({
          url: bouncer.url(TEST_APP_ROLE),
          poolMax: 4,
          preparedStatements: false,
        });
        try {
          await Promise.all(
            Array.from({ length: 8 }, () =>
              busy.transaction(platformScope, (trx) => sql`SELECT 1`.execute(trx)),
            ),
          );
        } finally {
          await busy.close();
        }
        expect(await b.runExclusive('housekeeping', async () => 'b')).toEqual({ ran: false });
        expect(await b.runExclusive('retention', async () => 'other job')).toEqual({
          ran: true,
          value: 'other job',
        });
        release();
        expect(await first).toEqual({ ran: true, value: 'a' });
        expect(await b.runExclusive('housekeeping', async () => 'b')).toEqual({
          ran: true,
          value: 'b',
        });
      } finally {
        await Promise.all([a.close(), b.close()]);
      }
    }, 60_000);
  },
);
