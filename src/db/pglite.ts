import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PGliteDialect, sql } from 'kysely';
import { acquireDataDirLock } from './data-dir-lock.js';
import { type Database, scopedTransaction, typeParsers } from './database.js';
import { migrateToLatest } from './migrations.js';
import type { DB } from './schema.js';

export interface EmbeddedOptions {
  /** Directory for the data files; `undefined` keeps the database in memory (tests). */
  dataDir?: string;
  /** A dump made by `dumpDataDir()`, to start from a copy (tests clone a migrated template). */
  loadDataDir?: Blob;
  /** Called with the names of the migrations applied while opening. */
  onMigrated?: (applied: string[]) => void;
}

/**
 * Opens the embedded engine: PGlite in one process, one connection. Kysely's PGlite dialect
 * serialises every query and transaction through a mutex. Migrations run on open, as the
 * database owner; afterwards the session switches to the non-owner role `lineal_app`, so
 * row-level security applies exactly as it does on PostgreSQL.
 */
export async function openEmbeddedDatabase(options: EmbeddedOptions = {}): Promise<Database> {
  const lock = options.dataDir ? acquireDataDirLock(options.dataDir) : undefined;
  let pglite: PGlite | undefined;
  try {
    pglite = await PGlite.create(
      options.dataDir ? path.join(path.resolve(options.dataDir), 'pgdata') : undefined,
      {
        parsers: typeParsers,
        ...(options.loadDataDir ? { loadDataDir: options.loadDataDir } : {}),
      },
    );
    const db = new Kysely<DB>({ dialect: new PGliteDialect({ pglite }) });
    await sql`RESET ROLE`.execute(db);
    const applied = await migrateToLatest(db);
    options.onMigrated?.(applied);
    await sql`SET ROLE lineal_app`.execute(db);
    let closed = false;
    return {
      engine: 'pglite',
      db,
      transaction: scopedTransaction(db),
      async close() {
        if (closed) return;
        closed = true;
        try {
          await db.destroy();
        } finally {
          lock?.release();
        }
      },
    };
  } catch (error) {
    await pglite?.close().catch(() => {});
    lock?.release();
    throw error;
  }
}
