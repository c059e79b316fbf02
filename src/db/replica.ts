import { sql, type Transaction } from 'kysely';
import { type Database, isRevokedKeyError, type ReplicaStatus, type Scope } from './database.js';
import { isDatabaseUnavailable } from './errors.js';
import {
  checkRole,
  openPostgresDatabase,
  type PostgresOptions,
  RlsBypassError,
} from './postgres.js';
import type { DB } from './schema.js';

/*
 * The read replica (DATABASE_REPLICA_URL): reads that tolerate a few seconds of staleness
 * (analytics, exports, the dashboard's data) run on a streaming replica while it is up and its
 * lag is within DATABASE_REPLICA_MAX_LAG_SECONDS, and on the primary otherwise. Row-level
 * security holds there as on the primary: the same scope functions keep the scope in a MAC'd
 * transaction-local setting on a standby (migrations/20261208_090000_standby_scope.ts).
 */

export interface ReplicaSettings {
  /** Reads go to the primary while the replica's data is more than this behind. */
  maxLagSeconds: number;
  /** How often the replica's lag is measured, and a replica found down tried again. */
  checkIntervalMs?: number;
  /** After a failed read or check, reads stay on the primary at least this long. */
  downForMs?: number;
  /** The replica went down or came back, its lag crossed the bound, or it was refused. */
  onChange?: (status: ReplicaStatus, error?: unknown) => void;
}

export const DEFAULT_CHECK_INTERVAL_MS = 1_000;
export const DEFAULT_DOWN_FOR_MS = 3_000;
/** The replica's connection attempts give up sooner than the primary's (5 s): reads fall back. */
export const REPLICA_CONNECT_TIMEOUT_MS = 2_000;
/** A check that takes longer counts as failed. */
const CHECK_TIMEOUT_MS = 2_000;

/**
 * Seconds the replica's data is behind: 0 when it has replayed all it received and its WAL
 * receiver is connected (or it is not in recovery at all); otherwise the age of the last
 * transaction it replayed (an upper bound: the primary may have been idle since), NULL when it
 * has replayed none since it started.
 */
const LAG_QUERY = sql<{ lag: number | null }>`
  SELECT CASE
    WHEN NOT pg_is_in_recovery() THEN 0::float8
    WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()
      AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver) THEN 0::float8
    ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp())::float8
  END AS lag`;

/**
 * Errors of a read on the replica that the primary may not have: the replica is unreachable,
 * a hot-standby conflict cancelled the query (40001, 40P01), or the API key is not (yet) there
 * (LK401: a key made on the primary moments ago). The read then runs on the primary.
 */
function retryOnPrimary(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return (
    isDatabaseUnavailable(error) || code === '40001' || code === '40P01' || isRevokedKeyError(error)
  );
}

class ReplicaRouter {
  #up = false;
  #lagSeconds: number | null = null;
  #downUntil = 0;
  #roleChecked = false;
  /** Set when its role bypasses row-level security: never used then. */
  refusal: RlsBypassError | undefined;
  #checking = false;
  #timer: NodeJS.Timeout | undefined;
  #lastInUse = false;
  #stopped = false;
  readonly #reads = { replica: 0, primary: 0 };

  constructor(
    readonly replica: Database,
    readonly settings: ReplicaSettings,
    readonly allowRlsBypass: boolean,
  ) {}

  get inUse(): boolean {
    return (
      this.refusal === undefined &&
      this.#up &&
      this.#lagSeconds !== null &&
      this.#lagSeconds <= this.settings.maxLagSeconds &&
      Date.now() >= this.#downUntil
    );
  }

  status(): ReplicaStatus {
    return {
      up: this.#up,
      lagSeconds: this.#lagSeconds,
      inUse: this.inUse,
      reads: { ...this.#reads },
    };
  }

  #changed(error?: unknown): void {
    const inUse = this.inUse;
    if (inUse === this.#lastInUse && error === undefined) return;
    this.#lastInUse = inUse;
    this.settings.onChange?.(this.status(), error);
  }

  #markDown(error: unknown): void {
    const wasUp = this.#up;
    this.#up = false;
    this.#lagSeconds = null;
    this.#downUntil = Date.now() + (this.settings.downForMs ?? DEFAULT_DOWN_FOR_MS);
    if (wasUp || this.#lastInUse) this.#changed(error);
  }

  /** Measures the lag (and checks the role once); a failure marks the replica down. */
  async check(): Promise<void> {
    if (this.#checking || this.refusal || this.#stopped) return;
    this.#checking = true;
    let timer: NodeJS.Timeout | undefined;
    try {
      const timeout = new Promise<never>((_, reject) => {
        timer = setTimeout(
          () => reject(new Error('timeout exceeded when trying to connect')),
          CHECK_TIMEOUT_MS,
        );
      });
      const lag = await Promise.race([this.#measure(), timeout]);
      if (this.#stopped) return;
      this.#up = true;
      this.#lagSeconds = lag;
      this.#changed();
    } catch (error) {
      if (this.#stopped) return;
      if (error instanceof RlsBypassError) {
        this.refusal = error;
        this.#up = false;
        this.#changed(error);
      } else {
        this.#markDown(error);
      }
    } finally {
      clearTimeout(timer);
      this.#checking = false;
    }
  }

  async #measure(): Promise<number | null> {
    if (!this.#roleChecked) {
      await checkRole(this.replica.db, this.allowRlsBypass);
      this.#roleChecked = true;
    }
    const { rows } = await LAG_QUERY.execute(this.replica.db);
    const lag = rows[0]?.lag;
    return lag === null || lag === undefined ? null : Math.max(0, Number(lag));
  }

  start(): void {
    this.#timer = setInterval(
      () => void this.check(),
      this.settings.checkIntervalMs ?? DEFAULT_CHECK_INTERVAL_MS,
    );
    this.#timer.unref();
  }

  stop(): void {
    this.#stopped = true;
    clearInterval(this.#timer);
  }

  async read<T>(
    primary: Database,
    scope: Scope,
    fn: (trx: Transaction<DB>) => Promise<T>,
  ): Promise<T> {
    if (this.inUse) {
      try {
        const value = await this.replica.transaction(scope, fn);
        this.#reads.replica += 1;
        return value;
      } catch (error) {
        if (!retryOnPrimary(error)) throw error;
        if (isDatabaseUnavailable(error)) this.#markDown(error);
      }
    }
    this.#reads.primary += 1;
    return primary.transaction(scope, fn);
  }
}

/**
 * `primary` with a read replica: `readTransaction` runs on the replica at `options.url` when it
 * is up and its lag is within the bound, on the primary otherwise. A replica that cannot be
 * reached at start-up is tried again every check interval; one whose role bypasses row-level
 * security is refused (RlsBypassError at start-up, or reads stay on the primary when it is
 * first reached later).
 */
export async function withReplica(
  primary: Database,
  options: PostgresOptions,
  settings: ReplicaSettings,
): Promise<Database> {
  const replica = await openPostgresDatabase({
    ...options,
    connectTimeoutMs: REPLICA_CONNECT_TIMEOUT_MS,
    checkRoleAtOpen: false,
  });
  const router = new ReplicaRouter(replica, settings, options.allowRlsBypass ?? false);
  await router.check();
  if (router.refusal) {
    // Reached at start-up and refused for its role: a configuration error, as for the primary.
    await replica.close();
    throw router.refusal;
  }
  router.start();
  const database: Database = {
    engine: primary.engine,
    db: primary.db,
    transaction: (scope, fn) => primary.transaction(scope, fn),
    readTransaction: (scope, fn) => router.read(primary, scope, fn),
    replicaStatus: () => router.status(),
    async close() {
      router.stop();
      await Promise.all([replica.close(), primary.close()]);
    },
  };
  const { poolStats } = primary;
  return poolStats ? { ...database, poolStats } : database;
}
