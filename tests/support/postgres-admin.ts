import { randomBytes } from 'node:crypto';
import pg from 'pg';

/**
 * Helpers for tests on a real PostgreSQL server, reached through an administrative URL
 * (a superuser or a role with CREATEDB and CREATEROLE).
 */

/** The login role the service connects as in tests: a member of lineal_app, owning nothing. */
export const TEST_APP_ROLE = 'lineal_test_app';
export const TEST_APP_PASSWORD = 'lineal_test_app';

export function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

export function withCredentials(url: string, user: string, password: string): string {
  const u = new URL(url);
  u.username = user;
  u.password = password;
  return u.toString();
}

export async function adminQuery(url: string, statements: string[]): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    for (const statement of statements) await client.query(statement);
  } finally {
    await client.end();
  }
}

export function uniqueDatabaseName(prefix: string): string {
  return `${prefix}_${process.pid}_${randomBytes(4).toString('hex')}`;
}

const ident = (name: string) => `"${name.replace(/"/g, '""')}"`;

/** Clones the migrated template into a fresh database; retries while the template is busy. */
export async function cloneTemplate(adminUrl: string, template: string): Promise<string> {
  const name = uniqueDatabaseName('lineal_t');
  for (let attempt = 0; ; attempt++) {
    try {
      await adminQuery(adminUrl, [`CREATE DATABASE ${ident(name)} TEMPLATE ${ident(template)}`]);
      return name;
    } catch (error) {
      // 55006: source database is being accessed by other users (a concurrent clone).
      if ((error as { code?: string }).code !== '55006' || attempt >= 50) throw error;
      await new Promise((resolve) => setTimeout(resolve, 100 + Math.random() * 200));
    }
  }
}

export async function dropDatabase(adminUrl: string, name: string): Promise<void> {
  await adminQuery(adminUrl, [`DROP DATABASE IF EXISTS ${ident(name)} WITH (FORCE)`]);
}

/** Makes sure the test's login role exists and belongs to lineal_app. */
/** How the app role's statements are planned in the tests (see ensureTestAppRole). */
export const TEST_PLAN_CACHE_MODE = 'force_generic_plan';

export async function ensureTestAppRole(adminUrl: string): Promise<void> {
  await adminQuery(adminUrl, [
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '${TEST_APP_ROLE}') THEN
         CREATE ROLE ${TEST_APP_ROLE} LOGIN PASSWORD '${TEST_APP_PASSWORD}';
       END IF;
     EXCEPTION WHEN duplicate_object OR unique_violation THEN NULL;
     END $$`,
    `GRANT lineal_app TO ${TEST_APP_ROLE}`,
    // Every statement the service runs in the tests is planned generically, as a prepared
    // statement is from its sixth execution on: a statement that only works with a custom plan
    // (a parameter in ON CONFLICT … WHERE, issue 12) fails on its first run instead of its sixth.
    `ALTER ROLE ${TEST_APP_ROLE} SET plan_cache_mode = ${TEST_PLAN_CACHE_MODE}`,
  ]);
}
