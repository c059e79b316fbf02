import { existsSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, PostgresDialect } from 'kysely';
import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { migrateToLatest } from '../../src/db/migrations.js';
import {
  adminQuery,
  dropDatabase,
  ensureTestAppRole,
  uniqueDatabaseName,
  withDatabase,
} from './postgres-admin.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A migrated embedded database, dumped to a file; each test file loads a copy. */
    pgliteTemplateFile: string;
    /** Administrative URL of the PostgreSQL server, or '' when none is available. */
    postgresAdminUrl: string;
    /** Name of the migrated template database each test file clones. */
    postgresTemplate: string;
  }
}

async function pgliteTemplate(dir: string): Promise<string> {
  const pglite = await PGlite.create();
  const db = new Kysely<unknown>({ dialect: new PGliteDialect({ pglite }) });
  await migrateToLatest(db);
  const dump = await pglite.dumpDataDir('none');
  const file = path.join(dir, 'pglite-template.tar');
  await writeFile(file, Buffer.from(await dump.arrayBuffer()));
  await db.destroy();
  return file;
}

/** TEST_DATABASE_URL, else a testcontainers PostgreSQL where a Docker engine answers. */
async function postgresServer(): Promise<{ url: string; stop: () => Promise<void> } | undefined> {
  if (process.env.TEST_DATABASE_URL) {
    return { url: process.env.TEST_DATABASE_URL, stop: async () => {} };
  }
  const dockerReachable =
    process.env.DOCKER_HOST !== undefined || existsSync('/var/run/docker.sock');
  if (!dockerReachable || process.env.LINEAL_TEST_DOCKER === '0') {
    console.info(
      '[lineal tests] PostgreSQL: skipped (no TEST_DATABASE_URL, no Docker engine); PGlite only.',
    );
    return undefined;
  }
  try {
    const { PostgreSqlContainer } = await import('@testcontainers/postgresql');
    const container = await new PostgreSqlContainer('postgres:16-alpine').start();
    return { url: container.getConnectionUri(), stop: async () => void (await container.stop()) };
  } catch (error) {
    console.warn(`[lineal tests] PostgreSQL via testcontainers failed: ${String(error)}`);
    return undefined;
  }
}

/**
 * The front end (dist/web) as the tests' apps serve it, built from the current sources once per
 * run (under a second), so `npm test` needs no prior `npm run build`.
 */
async function buildWeb(): Promise<void> {
  const { build } = await import('vite');
  // A production build, as `npm run build` makes it: vitest runs with NODE_ENV=test, which
  // would give Vite's development JSX (file paths in the bundle) and no service worker.
  const nodeEnv = process.env.NODE_ENV;
  process.env.NODE_ENV = 'production';
  try {
    await build({
      configFile: path.resolve(import.meta.dirname, '../../vite.config.ts'),
      mode: 'production',
    });
  } finally {
    process.env.NODE_ENV = nodeEnv;
  }
}

export default async function setup(project: TestProject) {
  await buildWeb();
  const dir = await mkdtemp(path.join(tmpdir(), 'lineal-tests-'));
  project.provide('pgliteTemplateFile', await pgliteTemplate(dir));

  const server = await postgresServer();
  let template = '';
  if (server) {
    template = uniqueDatabaseName('lineal_tpl');
    await adminQuery(server.url, [`CREATE DATABASE "${template}"`]);
    const db = new Kysely<unknown>({
      dialect: new PostgresDialect({
        pool: new pg.Pool({ connectionString: withDatabase(server.url, template), max: 1 }),
      }),
    });
    try {
      await migrateToLatest(db);
    } finally {
      await db.destroy();
    }
    await ensureTestAppRole(server.url);
  }
  project.provide('postgresAdminUrl', server?.url ?? '');
  project.provide('postgresTemplate', template);

  return async () => {
    if (server) {
      await dropDatabase(server.url, template);
      await server.stop();
    }
    await rm(dir, { recursive: true, force: true });
  };
}
