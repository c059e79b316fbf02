import { createHash } from 'node:crypto';
import { sql } from 'kysely';
import type { Database } from '../db/database.js';

/** How often an instance adds its counts to the shared table (RATE_LIMIT_SYNC_MS). */
export const DEFAULT_RATE_LIMIT_SYNC_MS = 250;

interface Count {
  bucket: string;
  windowMs: number;
  windowStart: number;
  /** The count across every instance as of the last sync, this instance's synced hits included. */
  known: number;
  /** This instance's hits not yet added to the shared table. */
  pending: number;
  /** The limit of the last hit (a count nearing it is refreshed at every sync). */
  max: number;
}

/** The state @fastify/rate-limit expects from a store. */
export interface StoreResult {
  current: number;
  ttl: number;
}

type Callback = (error: Error | null, result?: StoreResult) => void;

/**
 * Request counts shared by every instance on one database, for one rate limit across them
 * (issue 14). Counting stays in memory, so a request costs no database round trip: every
 * `syncMs` the instance adds its new hits to `lineal_rate_limit_counts` and learns the total of
 * every instance in the same statement. A request is judged on that total plus this instance's
 * hits since. Windows are fixed and aligned to the epoch, so every instance agrees on them.
 *
 * What that allows: between two syncs, each other instance's hits are not yet seen, so a
 * client spreading requests over N instances can exceed the limit by what it sends to the
 * other N − 1 in one sync interval (at 250 ms, a few requests), never by N ×. When the database
 * cannot be reached the counts stay local (each instance limits on its own) and are added once
 * it is back: the limit never makes a request fail.
 */
export class SharedRateCounts {
  readonly #counts = new Map<string, Count>();
  readonly #timer: NodeJS.Timeout;
  #syncing: Promise<void> | undefined;
  /** Syncs that failed (the database unreachable): the counts stayed local meanwhile. */
  failedSyncs = 0;

  constructor(
    private readonly database: Database,
    readonly syncMs = DEFAULT_RATE_LIMIT_SYNC_MS,
    private readonly now: () => number = Date.now,
  ) {
    this.#timer = setInterval(() => void this.sync(), syncMs);
    this.#timer.unref();
  }

  /**
   * Counts a hit on `key` in the current window of `windowMs` under a limit of `max`, and
   * reports the total. `weight`: how many requests the hit counts as (a bulk request's items).
   */
  hit(key: string, windowMs: number, max: number, weight = 1): StoreResult {
    const count = this.#current(key, windowMs);
    count.pending += weight;
    count.max = max;
    return { current: count.known + count.pending, ttl: count.windowStart + windowMs - this.now() };
  }

  /** The total for `key` in the current window, without counting a hit. */
  peek(key: string, windowMs: number): StoreResult {
    const now = this.now();
    const count = this.#counts.get(`${windowMs}:${key}`);
    if (!count || count.windowStart + windowMs <= now) return { current: 0, ttl: 0 };
    return { current: count.known + count.pending, ttl: count.windowStart + windowMs - now };
  }

  /**
   * Adds the pending hits to the shared table and learns every instance's totals — of the keys
   * hit since the last sync, and of those at half their limit or more, where other instances'
   * hits can change the answer; forgets windows that ended. One statement; a sync already under
   * way is awaited instead.
   */
  sync(): Promise<void> {
    this.#syncing ??= this.#sync().finally(() => {
      this.#syncing = undefined;
    });
    return this.#syncing;
  }

  async #sync(): Promise<void> {
    const now = this.now();
    const sent: Array<[Count, number]> = [];
    for (const [id, count] of this.#counts) {
      if (count.windowStart + count.windowMs <= now) {
        this.#counts.delete(id);
      } else if (count.pending > 0 || count.known * 2 >= count.max) {
        sent.push([count, count.pending]);
      }
    }
    if (sent.length === 0) return;
    const column = <T>(pick: (count: Count, pending: number) => T) =>
      sent.map(([count, pending]) => pick(count, pending));
    try {
      const { rows } = await sql<{
        bucket: string;
        window_ms: number;
        window_start: number;
        count: number;
      }>`SELECT * FROM lineal_rate_limit_add(
          ${column((c) => c.bucket)}::text[], ${column((c) => c.windowMs)}::bigint[],
          ${column((c) => c.windowStart)}::bigint[], ${column((_, pending) => pending)}::bigint[],
          ${now}::bigint)`.execute(this.database.db);
      const totals = new Map(
        rows.map((row) => [`${row.window_ms}:${row.window_start}:${row.bucket}`, row.count]),
      );
      for (const [count, pending] of sent) {
        count.pending -= pending;
        const total = totals.get(`${count.windowMs}:${count.windowStart}:${count.bucket}`);
        // The shared total includes what this instance just added.
        count.known = total ?? count.known + pending;
      }
    } catch {
      // Unreachable database: the hits stay pending (still counted here) and go with the next
      // sync that succeeds.
      this.failedSyncs += 1;
    }
  }

  #current(key: string, windowMs: number): Count {
    const now = this.now();
    const id = `${windowMs}:${key}`;
    const windowStart = Math.floor(now / windowMs) * windowMs;
    let count = this.#counts.get(id);
    if (!count || count.windowStart !== windowStart) {
      count = {
        bucket: createHash('sha256').update(key).digest('hex'),
        windowMs,
        windowStart,
        known: 0,
        pending: 0,
        max: Number.POSITIVE_INFINITY,
      };
      this.#counts.set(id, count);
    }
    return count;
  }

  /** Stops syncing, after a last sync of what is pending. */
  async close(): Promise<void> {
    clearInterval(this.#timer);
    await this.sync();
  }
}

/**
 * A store for @fastify/rate-limit (its `store` option is a class it constructs itself) over
 * `counts`; every limiter of the app (the general one, the CPR lookup one) shares them.
 */
export function sharedRateLimitStore(counts: SharedRateCounts) {
  return class SharedRateLimitStore {
    incr(key: string, callback: Callback, timeWindow: number, max: number): void {
      callback(null, counts.hit(key, timeWindow, max));
    }

    read(key: string, callback: Callback, timeWindow: number): void {
      callback(null, counts.peek(key, timeWindow));
    }

    child(): SharedRateLimitStore {
      return this;
    }
  };
}
