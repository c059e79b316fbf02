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
