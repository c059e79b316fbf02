import { sql } from 'kysely';
import type { Database } from '../db/database.js';

/** Keys kept per service instance; the least recently used goes first. */
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
 * The API keys this service instance found, by their public key id, so that a request need not
 * look its key up again. What a key may do (its hash, municipality, role, units, expiry) never
 * changes after it is made; what can change is its revocation, and a revoked key must stop at
 * once on every instance. That is the database's check, not the cache's: every request's
 * transaction names its key when it enters its scope, in the same round trip as BEGIN, and the
 * database refuses a revoked or deleted key (src/db/database.ts `Scope.apiKeyId`); the runner
 * then answers 401 and drops the key here (`forget`). The caller still compares the token's
 * hash and the expiry with the row on every request.
 */
export class ApiKeyCache {
  /** key id → row, in order of last use (a Map keeps insertion order). */
  readonly #rows = new Map<string, ApiKeyRow>();
  /** Look-ups that went to the database, and answers from the cache (for tests). */
  lookups = 0;
  hits = 0;

  constructor(readonly size = API_KEY_CACHE_SIZE) {}

  /** The key with this key id: from the cache when kept, else from the database. */
  async find(database: Database, keyId: string): Promise<ApiKeyRow | undefined> {
    const cached = this.#rows.get(keyId);
    if (cached) {
      this.#rows.delete(keyId);
      this.#rows.set(keyId, cached);
      this.hits += 1;
      return cached;
    }
    this.lookups += 1;
    const { rows } = await sql<ApiKeyRow>`SELECT * FROM lineal_find_api_key(${keyId})`.execute(
      database.db,
    );
    const row = rows[0];
    // A revoked key stays revoked: keeping it answers its next requests without a look-up too.
    if (row) this.#keep(keyId, row);
    return row;
  }

  /** Drops the key with this row id (uuid), after the database refused it as revoked. */
  forget(id: string): void {
    for (const [keyId, row] of this.#rows) {
      if (row.id === id) {
        this.#rows.delete(keyId);
        return;
      }
    }
  }

  /**
   * Records the key's use (`last_used_at`, which the caller writes at most once a minute); the
   * kept row learns it too, so the next requests do not write it again.
   */
  async touch(database: Database, row: ApiKeyRow, at: Date): Promise<void> {
    await sql`SELECT lineal_touch_api_key(${row.id}, ${at})`.execute(database.db);
    row.last_used_at = at;
  }

  #keep(keyId: string, row: ApiKeyRow): void {
    this.#rows.delete(keyId);
    this.#rows.set(keyId, row);
    if (this.#rows.size > this.size) {
      const oldest = this.#rows.keys().next().value;
      if (oldest !== undefined) this.#rows.delete(oldest);
    }
  }
}
