import { Kysely, PostgresDialect } from 'kysely';
import type { Config } from '../config.js';
import { describeConnectionString, parseConnectionString } from '../connection-string.js';
import type { Database } from './database.js';
import { migrateToLatest } from './migrations.js';
import { openEmbeddedDatabase } from './pglite.js';
import { createPool, openPostgresDatabase, type PostgresOptions } from './postgres.js';
import { type ReplicaSettings, withReplica } from './replica.js';
import type { DB } from './schema.js';

export interface OpenHooks {
  onMigrated?: (applied: string[]) => void;
  onConnectionError?: (error: Error) => void;
  /** The read replica went down, came back, crossed its lag bound or was refused. */
  onReplicaChange?: ReplicaSettings['onChange'];
}

/**
 * The engine the configuration names: PostgreSQL when DATABASE_URL is set (with its read
 * replica when DATABASE_REPLICA_URL is), else embedded.
 */
export async function openDatabase(
  config: Config['database'],
  hooks: OpenHooks = {},
): Promise<Database> {
  if (config.engine === 'postgres') {
    const options: PostgresOptions = {
      url: config.url,
      poolMax: config.poolMax,
      allowRlsBypass: config.allowRlsBypass,
      preparedStatements: config.pooler !== 'transaction',
      ...(hooks.onConnectionError ? { onConnectionError: hooks.onConnectionError } : {}),
    };
    const primary = await openPostgresDatabase(options);
    if (!config.replica) return primary;
    try {
      return await withReplica(
        primary,
        { ...options, url: config.replica.url },
        {
          maxLagSeconds: config.replica.maxLagSeconds,
          ...(hooks.onReplicaChange ? { onChange: hooks.onReplicaChange } : {}),
        },
      );
    } catch (error) {
      await primary.close();
      throw error;
    }
  }
  return openEmbeddedDatabase({
    dataDir: config.dataDir,
    ...(hooks.onMigrated ? { onMigrated: hooks.onMigrated } : {}),
  });
}

/** Applies pending migrations: on PostgreSQL as the migration (owner) role. */
export async function runMigrations(config: Config['database']): Promise<string[]> {
  if (config.engine === 'pglite') {
    let applied: string[] = [];
    const database = await openEmbeddedDatabase({
      dataDir: config.dataDir,
      onMigrated: (names) => {
        applied = names;
      },
    });
    await database.close();
    return applied;
  }
  return migratePostgres(config.migrationUrl);
}

/** Applies pending migrations to the PostgreSQL database at `url` (the owner role). */
export async function migratePostgres(url: string): Promise<string[]> {
  const db = new Kysely<DB>({ dialect: new PostgresDialect({ pool: createPool(url, 1) }) });
  try {
    return await migrateToLatest(db);
  } finally {
    await db.destroy();
  }
}

/** Where a migration goes, for the command's output: never the password. */
export function describeTarget(config: Config['database'] | { migrationUrl: string }): string {
  if ('engine' in config && config.engine === 'pglite') {
    return `the embedded database in ${config.dataDir}`;
  }
  const url = (config as { migrationUrl: string }).migrationUrl;
  const cs = parseConnectionString(url);
  if (cs.hosts.length > 1) return describeConnectionString(cs);
  const single = new URL(url);
  return `PostgreSQL database ${single.pathname.slice(1) || '(default)'} on ${single.host} as ${decodeURIComponent(single.username) || '(default user)'}`;
}
