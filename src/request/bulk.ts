import { createHash } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import {
  type AuditAction,
  type AuditEntry,
  type AuditResource,
  audit,
  auditFailedParts,
} from '../audit/audit.js';
import type { DB } from '../db/schema.js';
import { ConflictError, ProblemError } from '../errors.js';
import { childSubjectIn } from './audit-failures.js';
import type { Created } from './idempotency.js';
import {
  fingerprint,
  inProgress,
  judgeStored,
  type KeyValues,
  lockKeys,
  type StoredKey,
  storedKeys,
  storeResponses,
} from './idempotency.js';
import type { Service } from './runner.js';
import type { Session } from './session.js';

/**
 * Bulk requests: many items of one kind in one request (a class's assessments in a round), each
 * done exactly as the single request it stands for would do it (the same service, checks,
 * writes, events and audit entries), each with its own answer. Items run in order, in
 * transactions of BULK_CHUNK_SIZE items (one round trip to BEGIN and COMMIT per chunk, not per
 * item), each item inside its own savepoint: a refused item (a ProblemError: invalid, not
 * found, not admissible, a conflict) rolls back only itself and is answered with its problem.
 * Anything else (the database unavailable, a bug) fails the whole request: the chunk under way
 * is rolled back and nothing is answered, so nothing uncommitted is ever acknowledged; chunks
 * committed before it are replayed, not repeated, when the request is retried with the same
 * keys.
 *
 * Idempotency per item: an item is keyed by the request's Idempotency-Key (if any) and its own
 * `key` (else its position), see `itemIdempotencyKey`, and fingerprinted as its single request;
 * the key is claimed, the work done and the response stored in the item's savepoint, with the
 * storage and rules of src/request/idempotency.ts.
 */

/**
 * Items per transaction: long enough to save most BEGIN/COMMIT round trips, short enough that
 * row locks are held briefly and under PostgreSQL's 64 cached subtransactions per transaction
 * (each item's savepoint that writes takes one; past 64, every other session's visibility checks
 * must read pg_subtrans, a known cliff).
 */
export const BULK_CHUNK_SIZE = 50;

/** One item of a bulk request, as the route prepared it. */
export type EachItem<I> = {
  /** The item's own key (its `key` field), if it sent one. */
  key?: string | undefined;
  /** The child the item names (when it is a well-formed id), for the audit of a refused item. */
  childId?: string | null | undefined;
} & ({ input: I } | { problem: ProblemError });

/** What became of one item. */
export type EachOutcome<O> =
  | { outcome: 'created'; status: 201; body: O; location?: string }
  | { outcome: 'replayed'; status: 200; body: O; location?: string }
  | { outcome: 'failed'; status: number; problem: ProblemError };

export interface EachOptions<O> {
  /** The single request each item stands for: its fingerprint is that request's. */
  as: { method: string; path: string };
  /** The Location of what an item created. */
  location?: (created: O) => string;
  chunkSize?: number;
}

/** What the Runner hands over: the request's session, scope and audit, bound to the request. */
export interface EachContext {
  session: Session;
  /** Key of the fingerprint HMAC. */
  secret: string;
  /** The municipality the keys are stored for (null: the platform). */
  municipalityId: string | null;
  /** The request's Idempotency-Key header, if any. */
  headerKey: string | undefined;
  /** The route's `config.audit`: how refused items are recorded. */
  audit: { resource: AuditResource; action: AuditAction } | undefined;
  /** A new transaction in the request's scope. */
  transaction: <T>(fn: (trx: Transaction<DB>) => Promise<T>) => Promise<T>;
  /** The audit entries the service reported (as the Runner writes them for one request). */
  auditedEntries: () => AuditEntry[];
  /** The entry recording a replayed response as a read (as the Runner writes for one request). */
  replayEntry: (stored: unknown) => AuditEntry | undefined;
}

/**
 * The idempotency key an item is stored under: the request's Idempotency-Key and the item's own
 * key (or, without one, its position), so that a key is scoped to the caller (as every key) and
 * to the header it came with; none when neither is given. Stored keys are at most 255
 * characters: a longer combination is stored as its SHA-256.
 */
export function itemIdempotencyKey(
  header: string | undefined,
  key: string | undefined,
  index: number,
): string | undefined {
  if (header === undefined && key === undefined) return undefined;
  const text = `bulk ${JSON.stringify([header ?? null, key ?? index])}`;
  return text.length <= 255
    ? text
    : `bulk sha256:${createHash('sha256').update(text).digest('hex')}`;
}

/** Runs every item, in chunks of one transaction each; returns their outcomes in order. */
export async function runEach<I, O>(
  ctx: EachContext,
  service: Service<I, O>,
  items: readonly EachItem<I>[],
  options: EachOptions<O>,
): Promise<EachOutcome<O>[]> {
  const size = options.chunkSize ?? BULK_CHUNK_SIZE;
  const outcomes: EachOutcome<O>[] = [];
  for (let start = 0; start < items.length; start += size) {
    const chunk = items.slice(start, start + size);
    const done = await ctx.transaction(async (trx) => {
      const results: EachOutcome<O>[] = [];
      const refused: { entry: AuditEntry; status: number }[] = [];
      const savepoint = { open: false };
      const state = await claimChunk(ctx, trx, chunk, start, options);
      for (const [offset, item] of chunk.entries()) {
        const result = await runItem(ctx, trx, savepoint, service, item, start + offset, state);
        results.push(result);
        if (result.outcome === 'failed' && ctx.audit && ctx.municipalityId) {
          const subject = await childSubjectIn(trx, ctx.municipalityId, item.childId ?? null);
          refused.push({
            entry: {
              ...ctx.audit,
              resourceId: subject.childTombstone,
              ...subject,
              criteria: null,
            },
            status: result.status,
          });
        }
      }
      // What the items did, written once for the chunk: their stored responses and audit entries.
      await storeResponses(trx, state.stores, ctx.session.now);
      if (state.audit.length > 0) await audit(trx, ctx.session.principal, ...state.audit);
      if (refused.length > 0) await auditFailedParts(trx, ctx.session.principal, refused);
      return results;
    });
    outcomes.push(...done);
  }
  ctx.session.resetAudit();
  return outcomes;
}

/**
 * A chunk's idempotency and audit, done once for the chunk rather than per item: the keys'
 * locks taken and their stored responses read before the first item, the new responses and
 * the audit entries written after the last (in the same transaction, so exactly when the work
 * is committed). `stored` also gets the responses of the chunk's own items, for a later item
 * with the same key.
 */
interface ChunkState<O> {
  options: EachOptions<O>;
  keys: Map<number, KeyValues>;
  busy: Set<string>;
  stored: Map<string, StoredKey>;
  stores: { values: KeyValues; created: Created<unknown> }[];
  audit: AuditEntry[];
}

async function claimChunk<I, O>(
  ctx: EachContext,
  trx: Transaction<DB>,
  chunk: readonly EachItem<I>[],
  start: number,
  options: EachOptions<O>,
): Promise<ChunkState<O>> {
  const state: ChunkState<O> = {
    keys: new Map<number, KeyValues>(),
    busy: new Set<string>(),
    stored: new Map<string, StoredKey>(),
    stores: [],
    audit: [],
    options,
  };
  const principalId = ctx.session.principal.id;
  for (const [offset, item] of chunk.entries()) {
    if ('problem' in item) continue;
    const key = itemIdempotencyKey(ctx.headerKey, item.key, start + offset);
    if (key === undefined) continue;
    state.keys.set(start + offset, {
      municipalityId: ctx.municipalityId,
      principalId,
      key,
      hash: fingerprint(ctx.secret, options.as.method, options.as.path, item.input ?? null),
    });
  }
  if (state.keys.size === 0) return state;
  const keys = [...new Set([...state.keys.values()].map((v) => v.key))];
  state.busy = await lockKeys(trx, principalId, keys);
  state.stored = await storedKeys(trx, principalId, keys, ctx.session.now);
  return state;
}

/**
 * One savepoint at a time: an item releases the previous item's savepoint and sets its own in
 * one round trip; the chunk's COMMIT releases the last. A refused item rolls back to its
 * savepoint (which stays set until the next item releases it).
 */
const SAVEPOINT = sql`SAVEPOINT lineal_bulk_item`;
const NEXT_SAVEPOINT = sql`RELEASE SAVEPOINT lineal_bulk_item; SAVEPOINT lineal_bulk_item`;
const ROLLBACK = sql`ROLLBACK TO SAVEPOINT lineal_bulk_item`;

async function runItem<I, O>(
  ctx: EachContext,
  trx: Transaction<DB>,
  savepoint: { open: boolean },
  service: Service<I, O>,
  item: EachItem<I>,
  index: number,
  state: ChunkState<O>,
): Promise<EachOutcome<O>> {
  if ('problem' in item) {
    return { outcome: 'failed', status: item.problem.status, problem: item.problem };
  }
  const { session } = ctx;
  session.resetAudit();
  await (savepoint.open ? NEXT_SAVEPOINT : SAVEPOINT).execute(trx);
  savepoint.open = true;
  try {
    return await doItem(ctx, trx, service, item, index, state);
  } catch (error) {
    session.resetAudit();
    const problem = itemProblem(error);
    if (!problem) throw error;
    await ROLLBACK.execute(trx);
    return { outcome: 'failed', status: problem.status, problem };
  }
}

async function doItem<I, O>(
  ctx: EachContext,
  trx: Transaction<DB>,
  service: Service<I, O>,
  item: { key?: string | undefined; input: I },
  index: number,
  state: ChunkState<O>,
): Promise<EachOutcome<O>> {
  const { session } = ctx;
  const values = state.keys.get(index);
  if (values) {
    if (state.busy.has(values.key)) throw inProgress();
    const stored = await judgeStored(trx, state.stored.get(values.key), values);
    if (stored) {
      const entry = ctx.replayEntry(stored.response_body);
      if (entry) state.audit.push(entry);
      return {
        outcome: 'replayed',
        status: 200,
        body: stored.response_body as O,
        ...(stored.response_location ? { location: stored.response_location } : {}),
      };
    }
  }
  const body = await service(session, trx, item.input);
  const entries = ctx.auditedEntries();
  const location = state.options.location?.(body);
  const created = { status: 201 as const, body, ...(location ? { location } : {}) };
  state.audit.push(...entries);
  if (values) {
    state.stores.push({ values, created });
    // A later item of the chunk with the same key replays this one.
    state.stored.set(values.key, {
      id: '',
      request_hash: values.hash,
      state: 'completed',
      response_status: created.status,
      response_body: JSON.parse(JSON.stringify(body)),
      response_location: created.location ?? null,
    });
  }
  return { outcome: 'created', ...created };
}

/** SQLSTATEs of a write that lost to a concurrent one: deadlock, serialization failure. */
const LOST_TO_CONCURRENT_WRITE = new Set(['40P01', '40001']);

/** The problem a refused item is answered with; undefined: the whole request fails. */
function itemProblem(error: unknown): ProblemError | undefined {
  if (error instanceof ProblemError) return error;
  const code = (error as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && LOST_TO_CONCURRENT_WRITE.has(code)) {
    return new ConflictError(
      'A concurrent request changed the same data; retry the item (with the same key).',
      'concurrent-write',
    );
  }
  return undefined;
}
