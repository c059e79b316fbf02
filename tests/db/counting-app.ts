import { readFile } from 'node:fs/promises';
import type { FastifyInstance } from 'fastify';
import { Kysely, type LogEvent, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { Database, Engine } from '../../src/db/database.js';
import { openEmbeddedDatabase } from '../../src/db/pglite.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { syncPresetGuides } from '../../src/features/guides/service.js';
import { syncPresetRulers } from '../../src/features/rulers/service.js';
import { type EngineContext, TEST_CPR_SECRET, TestClock } from '../support/engines.js';
import {
  cloneTemplate,
  dropDatabase,
  TEST_APP_PASSWORD,
  TEST_APP_ROLE,
  withCredentials,
  withDatabase,
} from '../support/postgres-admin.js';

/** The statements (Kysely's query log: one per round trip) a database sent, in order. */
export class StatementLog {
  statements: string[] = [];
  /** The last statements with their parameters. */
  queries: { sql: string; parameters: readonly unknown[] }[] = [];
  readonly hook = (event: LogEvent) => {
    this.statements.push(event.query.sql);
    this.queries.push({ sql: event.query.sql, parameters: event.query.parameters });
    if (this.queries.length > 200) this.queries.shift();
  };
  clear(): void {
    this.statements = [];
    this.queries = [];
  }
  /** The statements `fn` sent. */
  async during(fn: () => Promise<unknown>): Promise<string[]> {
    this.clear();
    await fn();
    const seen = this.statements;
    this.clear();
    return seen;
  }
}

export interface CountingContext extends EngineContext {
  log: StatementLog;
  /** PostgreSQL: the database's URL as the app role, to open a second instance on it. */
  appUrl?: string;
  /** PostgreSQL: the database's URL as the owner (superuser). */
  ownerUrl?: string;
  close(): Promise<void>;
}

export async function buildTestApp(database: Database, clock: TestClock): Promise<FastifyInstance> {
  return buildApp({
    config: {
      bodyLimitBytes: 64 * 1024,
      trustProxy: false,
      // Shared counts sync rarely: a sync in the middle of a counted request would be counted.
      rateLimit: { max: 1_000_000, windowMs: 60_000, syncMs: 60_000 },
    },
    cprSecret: TEST_CPR_SECRET,
    database,
    now: clock.now,
  });
}

/**
 * What describeEngines gives a test (a fresh database from the template and an app on it), with
 * Kysely's query log on, so that a test can count the statements a request sends.
 */
export async function openCountingContext(engine: Engine): Promise<CountingContext> {
  const log = new StatementLog();
  const clock = new TestClock();
  let database: Database;
  let asOwner: EngineContext['asOwner'];
  let drop: () => Promise<void>;
  let appUrl: string | undefined;
  let ownerUrl: string | undefined;
  if (engine === 'pglite') {
    const dump = await readFile(inject('pgliteTemplateFile'));
    const embedded = await openEmbeddedDatabase({ loadDataDir: new Blob([dump]), log: log.hook });
    database = embedded;
    asOwner = async (fn) => {
      await sql`RESET ROLE`.execute(embedded.db);
      try {
        return await fn(embedded.db);
      } finally {
        await sql`SET ROLE lineal_app`.execute(embedded.db);
      }
    };
    drop = () => embedded.close();
  } else {
    const adminUrl = inject('postgresAdminUrl');
    const name = await cloneTemplate(adminUrl, inject('postgresTemplate'));
    appUrl = withCredentials(withDatabase(adminUrl, name), TEST_APP_ROLE, TEST_APP_PASSWORD);
    ownerUrl = withDatabase(adminUrl, name);
    const opened = await openPostgresDatabase({ url: appUrl, poolMax: 5, log: log.hook });
    database = opened;
    const url = ownerUrl;
    asOwner = async (fn) => {
      const owner = new Kysely<unknown>({
        dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: url, max: 1 }) }),
      });
      try {
        return await fn(owner);
      } finally {
        await owner.destroy();
      }
    };
    drop = async () => {
      await opened.close();
      await dropDatabase(adminUrl, name);
    };
  }
  await syncPresetRulers(database);
  await syncPresetGuides(database);
  const app = await buildTestApp(database, clock);
  const platformToken = (await createPlatformAdminKey(database, 'test platform admin')).token;
  const context: CountingContext = {
    engine,
    database,
    app,
    clock,
    asOwner,
    platformToken,
    log,
    ...(appUrl ? { appUrl } : {}),
    ...(ownerUrl ? { ownerUrl } : {}),
    call: (method, url, options = {}) => {
      const token = options.token === undefined ? platformToken : options.token;
      return app.inject({
        method,
        url,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...options.headers,
        },
        ...(options.body !== undefined ? { payload: options.body as object } : {}),
      });
    },
    async close() {
      await app.close();
      await drop();
    },
  };
  return context;
}
