import path from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import {
  type AbortableOperationOptions,
  type DatabaseConnection,
  type Driver,
  Kysely,
  type KyselyConfig,
  PGliteDialect,
  type QueryCompiler,
  sql,
  type TransactionSettings,
} from 'kysely';
import { BeginWithScopeDriver } from './begin-with-scope.js';
import { acquireDataDirLock } from './data-dir-lock.js';
import { type Database, scopedTransaction, typeParsers } from './database.js';
import { migrateToLatest } from './migrations.js';
import { PreparedPGliteDriver } from './pglite-driver.js';
import { LinealQueryCompiler } from './query-compiler.js';
import type { DB } from './schema.js';

/**
 * The PGlite driver (src/db/pglite-driver.ts) hands its one connection to every caller at once:
 * a query of another request issued while a transaction is open would run INSIDE that
 * transaction (and two transactions begun together would share statements). This driver
 * wrapper gives the connection to one holder at a time, in arrival order, for a whole
 * transaction or a single query, as a pool of one would.
 */
class SerialDriver implements Driver {
  #queue: Promise<void> = Promise.resolve();
  #release: (() => void) | undefined;

  constructor(readonly inner: Driver) {}

  init(options?: AbortableOperationOptions) {
    return this.inner.init(options);
  }
  async acquireConnection(options?: AbortableOperationOptions): Promise<DatabaseConnection> {
    let release!: () => void;
    const turn = new Promise<void>((resolve) => {
      release = resolve;
    });
    const previous = this.#queue;
    this.#queue = previous.then(() => turn);
    await previous;
    this.#release = release;
    try {
      return await this.inner.acquireConnection(options);
    } catch (error) {
      this.#release = undefined;
      release();
      throw error;
    }
  }
  beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    return this.inner.beginTransaction(connection, settings);
  }
  commitTransaction(connection: DatabaseConnection) {
    return this.inner.commitTransaction(connection);
  }
  rollbackTransaction(connection: DatabaseConnection) {
    return this.inner.rollbackTransaction(connection);
  }
  async releaseConnection(connection: DatabaseConnection, options?: AbortableOperationOptions) {
    try {
      await this.inner.releaseConnection(connection, options);
    } finally {
      const release = this.#release;
      this.#release = undefined;
      release?.();
    }
  }
  destroy(options?: AbortableOperationOptions) {
    return this.inner.destroy(options);
  }
}

class SerialPGliteDialect extends PGliteDialect {
  readonly #pglite: PGlite;
  constructor(config: { pglite: PGlite }) {
    super(config);
    this.#pglite = config.pglite;
  }

  /**
   * One holder at a time (SerialDriver); transactions that begin with their first statement
   * (BeginWithScopeDriver); each statement one call into the engine, parsed once
   * (PreparedPGliteDriver).
   */
  override createDriver(): Driver {
    const driver = new PreparedPGliteDriver(this.#pglite);
    return new SerialDriver(new BeginWithScopeDriver(driver, driver.scripts));
  }

  /** Empty `IN` lists allowed (src/db/query-compiler.ts), as on PostgreSQL. */
  override createQueryCompiler(): QueryCompiler {
    return new LinealQueryCompiler();
  }
}

export interface EmbeddedOptions {
  /** Directory for the data files; `undefined` keeps the database in memory (tests). */
  dataDir?: string;
  /** A dump made by `dumpDataDir()`, to start from a copy (tests clone a migrated template). */
  loadDataDir?: Blob;
  /** Called with the names of the migrations applied while opening. */
  onMigrated?: (applied: string[]) => void;
  /** Kysely's query log hook (tests count a request's statements); off by default. */
  log?: KyselyConfig['log'];
}

/**
 * Opens the embedded engine: PGlite in one process, one connection, handed to one query or
 * transaction at a time (SerialDriver). Migrations run on open, as the
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
    const db = new Kysely<DB>({
      dialect: new SerialPGliteDialect({ pglite }),
      ...(options.log ? { log: options.log } : {}),
    });
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
