import { readFile } from 'node:fs/promises';
import type { FastifyBaseLogger, FastifyInstance, LightMyRequestResponse } from 'fastify';
import { Kysely, PostgresDialect, sql } from 'kysely';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { OidcConfig } from '../../src/config.js';
import type { Database, Engine } from '../../src/db/database.js';
import { openEmbeddedDatabase } from '../../src/db/pglite.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { syncPresetGuides } from '../../src/features/guides/service.js';
import { syncPresetRulers } from '../../src/features/rulers/service.js';
import {
  cloneTemplate,
  dropDatabase,
  TEST_APP_PASSWORD,
  TEST_APP_ROLE,
  withCredentials,
  withDatabase,
} from './postgres-admin.js';

/** The CPR key of every test app. */
export const TEST_CPR_SECRET = 'test-cpr-secret-0123456789abcdef0123456789';

export class TestClock {
  #now: Date;
  constructor(start = new Date('2026-11-22T09:00:00.000Z')) {
    this.#now = start;
  }
  now = (): Date => new Date(this.#now);
  set(date: Date | string): void {
    this.#now = new Date(date);
  }
  advance(ms: number): void {
    this.#now = new Date(this.#now.getTime() + ms);
  }
}

type Method = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE' | 'HEAD' | 'OPTIONS';

export interface EngineContext {
  engine: Engine;
  database: Database;
  app: FastifyInstance;
  clock: TestClock;
  /** Runs `fn` as the database owner (migrations, tampering a test needs); not the app role. */
  // biome-ignore lint/suspicious/noExplicitAny: the owner works on any schema
  asOwner<T>(fn: (db: Kysely<any>) => Promise<T>): Promise<T>;
  /** A platform administrator key, created directly in this file's database. */
  platformToken: string;
  /** `app.inject` with a bearer token and a JSON body. */
  call(
    method: Method,
    url: string,
    options?: { token?: string | null; body?: unknown; headers?: Record<string, string> },
  ): Promise<LightMyRequestResponse>;
}

/** Engines available to this run: PGlite always, PostgreSQL when globalSetup found a server. */
export function availableEngines(): Engine[] {
  return inject('postgresAdminUrl') ? ['pglite', 'postgres'] : ['pglite'];
}

/** A fresh database for one test file (a copy of the migrated template) and its teardown. */
export async function openTestDatabase(engine: Engine): Promise<{
  database: Database;
  drop: () => Promise<void>;
  asOwner: EngineContext['asOwner'];
}> {
  if (engine === 'pglite') {
    const dump = await readFile(inject('pgliteTemplateFile'));
    const database = await openEmbeddedDatabase({ loadDataDir: new Blob([dump]) });
    await syncPresetRulers(database);
    await syncPresetGuides(database);
    await syncPresetGuides(database);
    return {
      database,
      drop: () => database.close(),
      // One connection: switch it to the owner and back.
      asOwner: async (fn) => {
        await sql`RESET ROLE`.execute(database.db);
        try {
          return await fn(database.db);
        } finally {
          await sql`SET ROLE lineal_app`.execute(database.db);
        }
      },
    };
  }
  const adminUrl = inject('postgresAdminUrl');
  const name = await cloneTemplate(adminUrl, inject('postgresTemplate'));
  const url = withCredentials(withDatabase(adminUrl, name), TEST_APP_ROLE, TEST_APP_PASSWORD);
  const database = await openPostgresDatabase({ url, poolMax: 5 });
  await syncPresetRulers(database);
  await syncPresetGuides(database);
  return {
    database,
    drop: async () => {
      await database.close();
      await dropDatabase(adminUrl, name);
    },
    asOwner: async (fn) => {
      const owner = new Kysely<unknown>({
        dialect: new PostgresDialect({
          pool: new pg.Pool({ connectionString: withDatabase(adminUrl, name), max: 1 }),
        }),
      });
      try {
        return await fn(owner);
      } finally {
        await owner.destroy();
      }
    },
  };
}

/**
 * Declares the suite once per available engine, each with its own fresh database and app.
 * The context is filled in `beforeAll`; use it inside tests and hooks only. `options.oidc` is
 * read when the app is built (after the file's own top-level `beforeAll`); `options.logger`
 * gives the apps a logger (they are silent without one).
 */
export function describeEngines(
  name: string,
  body: (t: EngineContext) => void,
  options: { oidc?: () => OidcConfig; logger?: FastifyBaseLogger } = {},
): void {
  for (const engine of availableEngines()) {
    describe(`${name} [${engine}]`, () => {
      const t = { engine } as EngineContext;
      let drop: (() => Promise<void>) | undefined;
      beforeAll(async () => {
        const opened = await openTestDatabase(engine);
        drop = opened.drop;
        t.asOwner = opened.asOwner;
        t.database = opened.database;
        t.clock = new TestClock();
        t.app = await buildApp({
          // A rate limit no test file reaches (tests/http/hardening.test.ts tests a small one).
          config: {
            bodyLimitBytes: 64 * 1024,
            trustProxy: false,
            rateLimit: { max: 1_000_000, windowMs: 60_000 },
          },
          cprSecret: TEST_CPR_SECRET,
          database: t.database,
          now: t.clock.now,
          oidc: options.oidc?.(),
          ...(options.logger ? { logger: options.logger } : {}),
        });
        t.platformToken = (await createPlatformAdminKey(t.database, 'test platform admin')).token;
        t.call = (method, url, options = {}) => {
          const token = options.token === undefined ? t.platformToken : options.token;
          return t.app.inject({
            method,
            url,
            headers: {
              ...(token ? { authorization: `Bearer ${token}` } : {}),
              ...options.headers,
            },
            ...(options.body !== undefined ? { payload: options.body as object } : {}),
          });
        };
      });
      afterAll(async () => {
        await t.app?.close();
        await drop?.();
      });
      body(t);
    });
  }
}
