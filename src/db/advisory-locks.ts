import { sql, type Transaction } from 'kysely';
import { createPgPool } from './failover-pool.js';
import type { DB } from './schema.js';

/**
 * PostgreSQL advisory locks that keep several instances of the service on one database from
 * doing the same work at once. Their keys are (LOCK_CLASS, job) pairs: the two-key space is
 * separate from the one-key (bigint) space the Idempotency-Key claims use.
 */
const LOCK_CLASS = 0x6c6e6c; // "lnl"

export const LockedJob = {
  /** Storing the preset rulers and action guides at start-up. */
  presets: 1,
  /** The housekeeping sweep: expired idempotency keys, not-assessed flags. */
  housekeeping: 2,
  /** The retention job. */
  retention: 3,
} as const;
export type LockedJob = keyof typeof LockedJob;

/**
 * Waits for `job`'s lock for the rest of the transaction: a second instance doing the same
 * waits until the first has committed, and then sees what it stored.
 */
export async function lockForTransaction(trx: Transaction<DB>, job: LockedJob): Promise<void> {
  await sql`SELECT pg_advisory_xact_lock(${LOCK_CLASS}::int, ${LockedJob[job]}::int)`.execute(trx);
}

/** Runs background jobs on one instance at a time. */
export interface JobLock {
  /** Runs `fn` unless `job` is running already (here or on another instance); says which. */
  runExclusive<T>(
    job: LockedJob,
    fn: () => Promise<T>,
  ): Promise<{ ran: true; value: T } | { ran: false }>;
  close(): Promise<void>;
}

/**
 * On PostgreSQL: a transaction-level advisory lock, taken without waiting, in a transaction held
 * open for the job's run on a connection of its own (not the service's pool, which the job itself
 * needs). Transaction-scoped rather than session-scoped so that it also holds behind a pooler in
 * transaction mode (PgBouncer), which keeps one server connection for a transaction but may hand
 * the next statement outside one to another: a session lock could stay on a server connection
 * other clients then use, and its unlock go elsewhere. The lock ends with the transaction: at
 * COMMIT, or when the connection (or the pooler's client) dies, so an instance that dies mid-job
 * frees it at once. The open transaction only took the lock (no snapshot kept between statements
 * under READ COMMITTED, no transaction id): it does not hold back VACUUM. SET LOCAL keeps a
 * server's idle_in_transaction_session_timeout from ending it during a long job.
 */
export function postgresJobLock(url: string, onError: (error: Error) => void): JobLock {
  // On a multi-host URL the lock is taken on the primary, where the jobs write.
  const pool = createPgPool(url, { max: 1, connectionTimeoutMillis: 5_000 });
  pool.on('connect', (client) => client.on('error', onError));
  pool.on('error', () => {});
  const running = new Set<LockedJob>();
  return {
    async runExclusive(job, fn) {
      if (running.has(job)) return { ran: false };
      running.add(job);
      try {
        const client = await pool.connect();
        let broken = false;
        const query = (text: string, values?: unknown[]) =>
          client.query<{ locked: boolean }>(text, values).catch((error: unknown) => {
            broken = true;
            throw error;
          });
        try {
          await query('BEGIN');
          await query('SET LOCAL idle_in_transaction_session_timeout = 0');
          const { rows } = await query(
            'SELECT pg_try_advisory_xact_lock($1::int, $2::int) AS locked',
            [LOCK_CLASS, LockedJob[job]],
          );
          if (!rows[0]?.locked) {
            await query('COMMIT');
            return { ran: false };
          }
          try {
            return { ran: true, value: await fn() };
          } finally {
            // Ends the transaction and with it the lock; a failure closes the connection below.
            await query('COMMIT').catch(() => {});
          }
        } finally {
          // A connection in an unknown state (a transaction possibly open) is closed, and the
          // lock ends with it.
          client.release(broken);
        }
      } finally {
        running.delete(job);
      }
    },
    close: () => pool.end(),
  };
}

/**
 * The embedded engine: one process per data directory (its lock), so only the runs of one
 * process can overlap, e.g. a slow sweep and the next tick.
 */
export function localJobLock(): JobLock {
  const running = new Set<LockedJob>();
  return {
    async runExclusive(job, fn) {
      if (running.has(job)) return { ran: false };
      running.add(job);
      try {
        return { ran: true, value: await fn() };
      } finally {
        running.delete(job);
      }
    },
    close: async () => {},
  };
}
