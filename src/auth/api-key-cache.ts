import { setImmediate as afterPendingIo } from 'node:timers/promises';
import { sql } from 'kysely';
import type { Database } from '../db/database.js';

/** The channel the database announces changed keys on (migrations/20261206_100000_api_key_notify.ts). */
export const API_KEYS_CHANNEL = 'lineal_api_keys';

/** Keys kept per process; the least recently used goes first. */
export const API_KEY_CACHE_SIZE = 4096;

/** A key as `lineal_find_api_key` returns it. */
export interface ApiKeyRow {
  id: string;
  key_hash: Uint8Array;
  municipality_id: string | null;
  role: string;
  unit_ids: string[];
  expires_at: Date | null;
  revoked_at: Date | null;
  last_used_at: Date | null;
}

/**
 * The API keys this process verified, by key id, so that a request need not look its key up
 * again. The caller still compares the token's hash and the expiry with the row on every
 * request. A key's row is dropped as soon as the database announces a change to it (revoked,
 * role, units, expiry, municipality, deleted: a trigger NOTIFYs `lineal_api_keys`), whichever
 * instance made the change.
 *
 * A missed announcement must never let a revoked key through, so the cache is used only while
 * the announcements are being received: before LISTEN is done, and from the moment the
 * listening connection is known lost until it listens again (it reconnects by itself), every
 * request looks its key up and nothing is kept; on losing it every kept key is dropped. A look-up
 * that was under way when an announcement (any) arrived or the connection was lost is not kept,
 * since it may have read the row from before the change.
 *
 * One per Database (`apiKeyCache`); it starts listening on its first use.
 */
export class ApiKeyCache {
  readonly #database: Database;
  readonly #size: number;
  /** key id → row, in order of last use (Map keeps insertion order). */
  readonly #rows = new Map<string, ApiKeyRow>();
  /** row id (the announced payload) → key id. */
  readonly #keyIds = new Map<string, string>();
  #listening = false;
  /** Advances with every announcement and change of listening state. */
  #epoch = 0;
  /** Look-ups that went to the database, and answers from the cache (for tests and metrics). */
  lookups = 0;
  hits = 0;

  constructor(database: Database, size = API_KEY_CACHE_SIZE) {
    this.#database = database;
    this.#size = size;
    database.listen(API_KEYS_CHANNEL, {
      onNotify: (payload) => this.#forget(payload),
      onState: (listening) => {
        this.#listening = listening;
        this.#clear();
      },
    });
  }

  /** Whether the cache is in use (announcements are being received). */
  get listening(): boolean {
    return this.#listening;
  }

  get size(): number {
    return this.#rows.size;
  }

  /** The key with this key id, from the cache when it may be, else from the database. */
  async find(keyId: string): Promise<ApiKeyRow | undefined> {
    if (this.#listening && this.#rows.has(keyId)) {
      // Announcements that have reached this process are read first: a request can follow the
      // revoking request's answer before the event loop has read the socket the announcement
      // came in on (it is sent at the revoking commit, before that request could answer).
      await afterPendingIo();
      const cached = this.#listening ? this.#rows.get(keyId) : undefined;
      if (cached) {
        this.#rows.delete(keyId);
        this.#rows.set(keyId, cached);
        this.hits += 1;
        return cached;
      }
    }
    const epoch = this.#epoch;
    this.lookups += 1;
    const { rows } = await sql<ApiKeyRow>`SELECT * FROM lineal_find_api_key(${keyId})`.execute(
      this.#database.db,
    );
    const row = rows[0];
    if (row && this.#listening && epoch === this.#epoch) this.#keep(keyId, row);
    return row;
  }

  #keep(keyId: string, row: ApiKeyRow): void {
    this.#rows.delete(keyId);
    this.#rows.set(keyId, row);
    this.#keyIds.set(row.id, keyId);
    while (this.#rows.size > this.#size) {
      const [oldest, oldestRow] = this.#rows.entries().next().value as [string, ApiKeyRow];
      this.#rows.delete(oldest);
      this.#keyIds.delete(oldestRow.id);
    }
  }

  #forget(id: string): void {
    this.#epoch += 1;
    if (id === '*') {
      this.#clear();
      return;
    }
    const keyId = this.#keyIds.get(id);
    this.#keyIds.delete(id);
    if (keyId !== undefined) this.#rows.delete(keyId);
  }

  #clear(): void {
    this.#epoch += 1;
    this.#rows.clear();
    this.#keyIds.clear();
  }
}

const caches = new WeakMap<Database, ApiKeyCache>();

/** The database's key cache, made (and listening begun) on first use. */
export function apiKeyCache(database: Database): ApiKeyCache {
  let cache = caches.get(database);
  if (!cache) {
    cache = new ApiKeyCache(database);
    caches.set(database, cache);
  }
  return cache;
}

/** The key with this key id (see ApiKeyCache). */
export function findApiKey(database: Database, keyId: string): Promise<ApiKeyRow | undefined> {
  return apiKeyCache(database).find(keyId);
}

/**
 * Records the key's use (`last_used_at`, which the caller writes at most once a minute); the
 * cached row learns it too, so the next requests do not write it again.
 */
export async function touchApiKey(database: Database, row: ApiKeyRow, at: Date): Promise<void> {
  await sql`SELECT lineal_touch_api_key(${row.id}, ${at})`.execute(database.db);
  row.last_used_at = at;
}
