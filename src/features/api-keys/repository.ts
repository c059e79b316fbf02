import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';

const columns = [
  'id',
  'key_id',
  'name',
  'role',
  'municipality_id',
  'unit_ids',
  'created_at',
  sql<string>`created_at::text`.as('created_at_key'),
  'created_by',
  'expires_at',
  'revoked_at',
  'revoked_by',
  'last_used_at',
] as const;

/** `created_at_key`: created_at as PostgreSQL prints it, microseconds included (the exact pagination key). */
export type ApiKeyRow = NonNullable<Awaited<ReturnType<typeof findApiKey>>>;

export interface NewApiKey {
  key_id: string;
  key_hash: Uint8Array;
  municipality_id: string | null;
  name: string;
  role: string;
  unit_ids: string[];
  created_by: string | null;
  expires_at: Date | null;
}

export function insertApiKey(db: Executor, values: NewApiKey) {
  return db
    .insertInto('api_keys')
    .values({ ...values, key_hash: Buffer.from(values.key_hash) })
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export function findApiKey(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('api_keys')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export type KeyState = 'active' | 'revoked' | 'expired' | 'all';

/** Newest first, keyset-paginated on (created_at, id); fetches `limit + 1` rows. */
export function listApiKeys(
  db: Executor,
  municipalityId: string,
  filter: { state: KeyState; now: Date; after?: { createdAt: string; id: string }; limit: number },
) {
  let query = db
    .selectFrom('api_keys')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(filter.limit + 1);
  const now = filter.now;
  if (filter.state === 'revoked') query = query.where('revoked_at', 'is not', null);
  if (filter.state === 'active') {
    query = query
      .where('revoked_at', 'is', null)
      .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', now)]));
  }
  if (filter.state === 'expired') {
    query = query.where('revoked_at', 'is', null).where('expires_at', '<=', now);
  }
  if (filter.after) {
    const { createdAt, id } = filter.after;
    query = query.where(sql<boolean>`(created_at, id) < (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query.execute();
}

/** Revokes an active key; undefined when it does not exist or is already revoked. */
export function revokeApiKey(
  db: Executor,
  municipalityId: string,
  id: string,
  by: string,
  at: Date,
) {
  return db
    .updateTable('api_keys')
    .set({ revoked_at: at, revoked_by: by })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .where('revoked_at', 'is', null)
    .returning(columns)
    .executeTakeFirst();
}

export async function countApiKeys(db: Executor): Promise<number> {
  const row = await db
    .selectFrom('api_keys')
    .select(sql<number>`count(*)::int`.as('count'))
    .executeTakeFirstOrThrow();
  return row.count;
}
