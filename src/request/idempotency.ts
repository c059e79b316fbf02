import { createHmac, randomUUID } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { type Database, municipalityScope, platformScope } from '../db/database.js';
import { municipalityIds } from '../db/municipality-ids.js';
import type { DB } from '../db/schema.js';
import { BadRequestError, ConflictError, ProblemError } from '../errors.js';
import { problemResponse } from '../http/problem.js';

/**
 * Idempotent creating POSTs, after the IETF httpapi Idempotency-Key draft: a retry with the
 * same key and request replays the first response without writing again; the same key with a
 * different request is 422; a retry while the first is still running is 409. Keys are scoped to
 * the calling principal and kept 24 hours. The key is claimed, the work done and the response
 * stored in one transaction, so a replay never disagrees with what was written and a claim never
 * outlives the request that made it (a crash included).
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;

export const IdempotencyHeadersSchema = z.looseObject({
  'idempotency-key': z
    .string()
    .min(1)
    .max(255)
    .regex(/^[\x21-\x7e]+$/, 'must be 1-255 visible ASCII characters')
    .optional()
    .describe(
      'Makes the request safe to retry: a retry with the same key and body replays the first ' +
        'response (header idempotency-replayed: true). Kept 24 hours.',
    ),
});

/** What 409 and 422 mean on an operation that takes an Idempotency-Key. */
const IDEMPOTENCY_PROBLEMS = {
  409:
    'The request conflicts with the current state, or (`urn:lineal:problem:idempotency-in-progress`) ' +
    'a request with the same Idempotency-Key is still running: retry shortly with the same key. ' +
    'A request that failed or whose process died holds no key.',
  422:
    'The request is well-formed but breaks a rule, or (`urn:lineal:problem:idempotency-key-reused`) ' +
    'its Idempotency-Key was already used for a different request (method, path or body): use a ' +
    'new key.',
} as const;

/**
 * Documents the Idempotency-Key problems on every operation that accepts the header (its
 * `headers` schema is IdempotencyHeadersSchema), in one place rather than per route.
 */
export const idempotencyDocsPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      if (route.schema?.headers !== IdempotencyHeadersSchema) return;
      const response = (route.schema.response ?? {}) as Record<number, unknown>;
      for (const [status, description] of Object.entries(IDEMPOTENCY_PROBLEMS)) {
        response[Number(status)] = { ...problemResponse(Number(status)), description };
      }
      route.schema.response = response;
    });
  },
  { name: 'lineal-idempotency-docs' },
);

export interface Created<T> {
  status: number;
  body: T;
  location?: string;
}

function canonical(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonical).join(',')}]`;
  if (value && typeof value === 'object') {
    const entries = Object.entries(value as Record<string, unknown>)
      .filter(([, v]) => v !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
    return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonical(v)}`).join(',')}}`;
  }
  return JSON.stringify(value) ?? 'null';
}

/**
 * Identifies a request by method, path and body. Keyed (HMAC with the deployment secret): a
 * plain hash of a body holding a CPR number could be reversed by trying the 10⁴ serials.
 */
export function requestFingerprint(request: FastifyRequest, secret: string): string {
  const path = (request.raw.url ?? request.url).split('?')[0] ?? '';
  return fingerprint(secret, request.method, path, request.body ?? null);
}

/**
 * The fingerprint of a request given by its parts: one item of a bulk request is fingerprinted
 * as the single request it stands for (src/request/bulk.ts).
 */
export function fingerprint(secret: string, method: string, path: string, body: unknown): string {
  return createHmac('sha256', secret)
    .update(`idempotency\n${method} ${path}\n${canonical(body)}`)
    .digest('hex');
}

/**
 * Deletes expired keys (and the responses stored with them); returns how many. In the platform's
 * scope (its own keys) and then in each municipality's: no scope sees another's records.
 */
export async function purgeExpiredIdempotencyKeys(
  database: Database,
  now: Date,
  batchSize = 5000,
): Promise<number> {
  let total = 0;
  const scopes = [platformScope, ...(await municipalityIds(database)).map(municipalityScope)];
  for (const scope of scopes) {
    for (;;) {
      const deleted = await database.transaction(scope, async (trx) => {
        const result = await trx
          .deleteFrom('idempotency_keys')
          .where(
            'id',
            'in',
            trx
              .selectFrom('idempotency_keys')
              .select('id')
              .where('expires_at', '<=', now)
              .limit(batchSize),
          )
          .executeTakeFirst();
        return Number(result.numDeletedRows);
      });
      total += deleted;
      if (deleted < batchSize) break;
    }
  }
  return total;
}

export interface StoredKey {
  id: string;
  request_hash: string;
  state: string;
  response_status: number | null;
  response_body: unknown;
  response_location: string | null;
}

export interface KeyValues {
  municipalityId: string | null;
  principalId: string;
  key: string;
  hash: string;
}

const lockName = (principalId: string, key: string) => `idempotency\n${principalId}\n${key}`;

/**
 * Takes the keys' transaction-scoped advisory locks (principal and key, hashed to 64 bits),
 * without waiting; answers the keys another transaction holds (their requests are in
 * progress). A lock ends with the transaction however that ends: commit, rollback, a lost
 * connection, a killed process; no claim is ever stored, so none can outlive its request.
 */
export async function lockKeys(
  trx: Transaction<DB>,
  principalId: string,
  keys: readonly string[],
): Promise<Set<string>> {
  const { rows } = await sql<{ key: string; claimed: boolean }>`
    SELECT k.key, pg_try_advisory_xact_lock(hashtextextended(k.lock, 0)) AS claimed
    FROM unnest(${[...keys]}::text[], ${keys.map((key) => lockName(principalId, key))}::text[])
      AS k(key, lock)
  `.execute(trx);
  return new Set(rows.filter((r) => !r.claimed).map((r) => r.key));
}

/**
 * The stored keys among `keys`, after deleting the principal's expired ones (so a key may be
 * reused after 24 hours).
 */
export async function storedKeys(
  trx: Transaction<DB>,
  principalId: string,
  keys: readonly string[],
  now: Date,
): Promise<Map<string, StoredKey>> {
  await trx
    .deleteFrom('idempotency_keys')
    .where('principal_id', '=', principalId)
    .where('expires_at', '<=', now)
    .execute();
  const rows = await trx
    .selectFrom('idempotency_keys')
    .select([
      'id',
      'key',
      'request_hash',
      'state',
      'response_status',
      'response_body',
      'response_location',
    ])
    .where('principal_id', '=', principalId)
    .where('key', 'in', [...keys])
    .execute();
  return new Map(rows.map(({ key, ...row }) => [key, row]));
}

/**
 * What a claimed key's stored row means for the request: its response to replay (completed),
 * nothing (no row, or an abandoned claim of an earlier version of lineal, deleted here), or
 * 422 when the key was used for a different request.
 */
export async function judgeStored(
  trx: Transaction<DB>,
  row: StoredKey | undefined,
  values: KeyValues,
): Promise<StoredKey | undefined> {
  if (!row) return undefined;
  if (row.request_hash !== values.hash) {
    throw new ProblemError(
      422,
      'idempotency-key-reused',
      'Unprocessable Content',
      'This Idempotency-Key was already used for a different request. Use a new key.',
    );
  }
  if (row.state === 'completed') return row;
  // A claim stored by an earlier version of lineal, whose request is gone (this transaction
  // holds the key's lock): abandoned, so this request does the work.
  await trx.deleteFrom('idempotency_keys').where('id', '=', row.id).execute();
  return undefined;
}

/**
 * Claims the key for this transaction (lockKeys), or finds the response stored under it. A key
 * whose lock another transaction holds is in progress (409); once that transaction has
 * committed, its stored response is visible to the next statement here.
 */
export async function claim(
  trx: Transaction<DB>,
  values: KeyValues,
  now: Date,
): Promise<StoredKey | undefined> {
  const busy = await lockKeys(trx, values.principalId, [values.key]);
  if (busy.size > 0) throw inProgress();
  const stored = await storedKeys(trx, values.principalId, [values.key], now);
  return judgeStored(trx, stored.get(values.key), values);
}

/** 409: a request with the key is still running. */
export function inProgress(): ConflictError {
  return new ConflictError(
    'A request with this Idempotency-Key is still being processed. Retry shortly.',
    'idempotency-in-progress',
  );
}

/**
 * Stores the response of the work done under a claimed key, in the same transaction: it is
 * stored exactly when the work is.
 */
export async function storeResponse(
  trx: Transaction<DB>,
  values: KeyValues,
  created: Created<unknown>,
  now: Date,
): Promise<void> {
  await storeResponses(trx, [{ values, created }], now);
}

/** Stores several responses (a bulk request's chunk) in one INSERT. */
export async function storeResponses(
  trx: Transaction<DB>,
  responses: readonly { values: KeyValues; created: Created<unknown> }[],
  now: Date,
): Promise<void> {
  if (responses.length === 0) return;
  const expires = new Date(now.getTime() + IDEMPOTENCY_TTL_MS);
  await trx
    .insertInto('idempotency_keys')
    .values(
      responses.map(({ values, created }) => ({
        municipality_id: values.municipalityId,
        principal_id: values.principalId,
        key: values.key,
        request_hash: values.hash,
        state: 'completed',
        claim_token: randomUUID(),
        response_status: created.status,
        response_body: sql`${JSON.stringify(created.body)}::jsonb`,
        response_location: created.location ?? null,
        created_at: now,
        expires_at: expires,
      })),
    )
    .execute();
}

/** The Idempotency-Key of a request, if it sent one (400 for several). */
export function idempotencyKeyOf(request: FastifyRequest): string | undefined {
  const header = request.headers['idempotency-key'];
  if (header === undefined || typeof header === 'string') return header;
  throw new BadRequestError('Send one Idempotency-Key header.', [
    { path: 'header.idempotency-key', message: 'must be a single value', code: 'invalid' },
  ]);
}
