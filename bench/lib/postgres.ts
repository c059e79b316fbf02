import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { DB } from '../../src/db/schema.js';

/**
 * The benchmark's database on the throw-away cluster of .ci/with-postgres.sh, split into roles
 * as README "Running on PostgreSQL" describes: an owner that runs the migrations and the data
 * generator, and a login role that is only a member of lineal_app (no BYPASSRLS, owns nothing)
 * for the service.
 */
export interface BenchDatabase {
  name: string;
  adminUrl: string;
  ownerUrl: string;
  appUrl: string;
  /** The service's login role. */
  appRole: string;
  serverVersion: string;
}

const DATABASE = 'lineal_bench';
const OWNER = 'lineal_bench_owner';
const APP = 'lineal_bench_app';

function withDatabase(url: string, database: string, user?: string, password?: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  if (user) u.username = user;
  if (password) u.password = password;
  return u.toString();
}

async function adminQuery(url: string, statements: string[]): Promise<pg.QueryResult[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const results: pg.QueryResult[] = [];
    for (const statement of statements) results.push(await client.query(statement));
    return results;
  } finally {
    await client.end();
  }
}

export async function createBenchDatabase(adminUrl: string): Promise<BenchDatabase> {
  const [version] = await adminQuery(adminUrl, [
    'SHOW server_version',
    `DROP DATABASE IF EXISTS ${DATABASE} WITH (FORCE)`,
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${OWNER}') THEN
         CREATE ROLE ${OWNER} LOGIN PASSWORD '${OWNER}';
       END IF;
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lineal_app') THEN
         CREATE ROLE lineal_app NOLOGIN;
       END IF;
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${APP}') THEN
         CREATE ROLE ${APP} LOGIN PASSWORD '${APP}';
       END IF;
     END $$`,
    `GRANT lineal_app TO ${APP}`,
    `CREATE DATABASE ${DATABASE} OWNER ${OWNER}`,
  ]);
  return {
    name: DATABASE,
    adminUrl,
    ownerUrl: withDatabase(adminUrl, DATABASE, OWNER, OWNER),
    appUrl: withDatabase(adminUrl, DATABASE, APP, APP),
    appRole: APP,
    serverVersion: String(version?.rows[0]?.server_version ?? 'unknown'),
  };
}

/** A Kysely on one connection as the owner: migrations, the data generator, counts. */
export function ownerKysely(url: string): { db: Kysely<DB>; pool: pg.Pool } {
  const pool = new pg.Pool({ connectionString: url, max: 1 });
  return { db: new Kysely<DB>({ dialect: new PostgresDialect({ pool }) }), pool };
}

/** Transactions committed or rolled back in the database so far (pg_stat_database). */
export async function databaseTransactions(adminUrl: string, database: string): Promise<number> {
  const [, result] = await adminQuery(adminUrl, [
    'SELECT pg_stat_clear_snapshot()',
    `SELECT (xact_commit + xact_rollback)::text AS n FROM pg_stat_database WHERE datname = '${database}'`,
  ]);
  return Number(result?.rows[0]?.n ?? 0);
}

/**
 * Runs of autovacuum and autoanalyze in the database so far (pg_stat_all_tables): each is a
 * transaction or a few that no request made, counted by pg_stat_database all the same.
 */
export async function autovacuumRuns(adminUrl: string, database: string): Promise<number> {
  const [, result] = await adminQuery(withDatabase(adminUrl, database), [
    'SELECT pg_stat_clear_snapshot()',
    `SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0)::text AS n
     FROM pg_stat_all_tables`,
  ]);
  return Number(result?.rows[0]?.n ?? 0);
}

/**
 * The work PostgreSQL did for the service's statements (pg_stat_statements, top-level
 * statements of the app role): shared buffers touched — found in shared_buffers (hit) or
 * fetched from the kernel (read) — and execution time. Unlike throughput, buffers per request
 * do not depend on what else the machine is doing: they show whether a request's work grows
 * with the data. Null when pg_stat_statements is not loaded (shared_preload_libraries).
 */
export interface DatabaseWork {
  calls: number;
  hit: number;
  read: number;
  execMs: number;
  /** Per statement (query id): its text and counters, for the breakdown of a case. */
  statements: Map<string, { query: string; calls: number; buffers: number; execMs: number }>;
}

export interface WorkMeter {
  snapshot(): Promise<DatabaseWork>;
  close(): Promise<void>;
}

export async function statementWorkMeter(
  adminUrl: string,
  database: string,
  role: string,
): Promise<WorkMeter | null> {
  const client = new pg.Client({ connectionString: withDatabase(adminUrl, database) });
  await client.connect();
  try {
    await client.query('CREATE EXTENSION IF NOT EXISTS pg_stat_statements');
    await client.query('SELECT count(*) FROM pg_stat_statements');
  } catch {
    await client.end();
    return null;
  }
  return {
    async snapshot() {
      const { rows } = await client.query<{
        id: string;
        query: string;
        calls: string;
        hit: string;
        read: string;
        exec: number;
      }>(
        `SELECT queryid::text AS id, query, calls::text, shared_blks_hit::text AS hit,
                shared_blks_read::text AS read, total_exec_time AS exec
         FROM pg_stat_statements
         WHERE toplevel AND userid = (SELECT oid FROM pg_roles WHERE rolname = $1)
           AND dbid = (SELECT oid FROM pg_database WHERE datname = $2)`,
        [role, database],
      );
      const work: DatabaseWork = { calls: 0, hit: 0, read: 0, execMs: 0, statements: new Map() };
      for (const row of rows) {
        const calls = Number(row.calls);
        const hit = Number(row.hit);
        const read = Number(row.read);
        work.calls += calls;
        work.hit += hit;
        work.read += read;
        work.execMs += row.exec;
        work.statements.set(row.id, {
          query: row.query.replace(/\s+/g, ' ').slice(0, 160),
          calls,
          buffers: hit + read,
          execMs: row.exec,
        });
      }
      return work;
    },
    close: () => client.end(),
  };
}

/** Per request: buffers touched (and read from the kernel) and execution time, over `requests`. */
export interface WorkPerRequest {
  requests: number;
  buffers: number;
  reads: number;
  execMs: number;
  /** The statements that touched the most buffers in the case, per request. */
  top: Array<{ query: string; calls: number; buffers: number; execMs: number }>;
}

export function workPerRequest(
  before: DatabaseWork,
  after: DatabaseWork,
  requests: number,
): WorkPerRequest {
  const n = Math.max(1, requests);
  const top = [...after.statements].map(([id, s]) => {
    const b = before.statements.get(id);
    return {
      query: s.query,
      calls: (s.calls - (b?.calls ?? 0)) / n,
      buffers: (s.buffers - (b?.buffers ?? 0)) / n,
      execMs: (s.execMs - (b?.execMs ?? 0)) / n,
    };
  });
  top.sort((x, y) => y.buffers - x.buffers);
  return {
    requests,
    buffers: (after.hit - before.hit + after.read - before.read) / n,
    reads: (after.read - before.read) / n,
    execMs: (after.execMs - before.execMs) / n,
    top: top.slice(0, 6).filter((t) => t.calls > 0),
  };
}
