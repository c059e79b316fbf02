import { createHmac, randomUUID } from 'node:crypto';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { audit } from '../audit/audit.js';
import { principalOf } from '../auth/plugin.js';
import { municipalityOf, type Principal } from '../auth/principal.js';
import { type Database, municipalityScope, platformScope, type Scope } from '../db/database.js';
import { municipalityIds } from '../db/municipality-ids.js';
import type { DB } from '../db/schema.js';
import { BadRequestError, ConflictError, ProblemError } from './errors.js';
import type { RouteDeps } from './route-context.js';

/**
 * Idempotent creating POSTs, after the IETF httpapi Idempotency-Key draft: a retry with the
 * same key and request replays the first response without writing again; the same key with a
 * different request is 422; a retry while the first is still running is 409. Keys are scoped to
 * the calling principal and kept 24 hours. The response is stored in the same transaction as
 * the write, so a replay never disagrees with what was written.
 */
export const IDEMPOTENCY_TTL_MS = 24 * 60 * 60 * 1000;
/** An in-progress claim older than this belongs to a request that died; it may be taken over. */
const STALE_CLAIM_MS = 2 * 60 * 1000;

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
  const path = (request.raw.url ?? request.url).split('?')[0];
  return createHmac('sha256', secret)
    .update(`idempotency\n${request.method} ${path}\n${canonical(request.body ?? null)}`)
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

interface StoredKey {
  id: string;
  request_hash: string;
  state: string;
  response_status: number | null;
  response_body: unknown;
  response_location: string | null;
  created_at: Date;
}

type Claim = { kind: 'claimed'; id: string; token: string } | { kind: 'replay'; row: StoredKey };

async function claim(
  trx: Transaction<DB>,
  values: { municipalityId: string | null; principalId: string; key: string; hash: string },
  now: Date,
): Promise<Claim> {
  // Expired keys of this principal go first, so a key may be reused after 24 hours.
  const token = randomUUID();
  await trx
    .deleteFrom('idempotency_keys')
    .where('principal_id', '=', values.principalId)
    .where('expires_at', '<=', now)
    .execute();
  const inserted = await trx
    .insertInto('idempotency_keys')
    .values({
      municipality_id: values.municipalityId,
      principal_id: values.principalId,
      key: values.key,
      request_hash: values.hash,
      state: 'in_progress',
      claim_token: token,
      created_at: now,
      expires_at: new Date(now.getTime() + IDEMPOTENCY_TTL_MS),
    })
    .onConflict((oc) => oc.columns(['principal_id', 'key']).doNothing())
    .returning('id')
    .executeTakeFirst();
  if (inserted) return { kind: 'claimed', id: inserted.id, token };

  const row = await trx
    .selectFrom('idempotency_keys')
    .select([
      'id',
      'request_hash',
      'state',
      'response_status',
      'response_body',
      'response_location',
      'created_at',
    ])
    .where('principal_id', '=', values.principalId)
    .where('key', '=', values.key)
    .forUpdate()
    .executeTakeFirstOrThrow();
  if (row.request_hash !== values.hash) {
    throw new ProblemError(
      422,
      'idempotency-key-reused',
      'Unprocessable Content',
      'This Idempotency-Key was already used for a different request. Use a new key.',
    );
  }
  if (row.state === 'completed') return { kind: 'replay', row };
  if (now.getTime() - row.created_at.getTime() < STALE_CLAIM_MS) {
    throw new ConflictError(
      'A request with this Idempotency-Key is still being processed. Retry shortly.',
      'idempotency-in-progress',
    );
  }
  // Taken over: a new token, so the stale request can neither complete nor release it.
  await trx
    .updateTable('idempotency_keys')
    .set({ created_at: now, claim_token: token })
    .where('id', '=', row.id)
    .execute();
  return { kind: 'claimed', id: row.id, token };
}

function send<T>(reply: FastifyReply, created: Created<T>, replayed: boolean): FastifyReply {
  if (created.location) reply.header('location', created.location);
  if (replayed) reply.header('idempotency-replayed', 'true');
  return reply.status(created.status).send(created.body);
}

/**
 * Runs a creating request's work in one transaction in `scope`; with an Idempotency-Key header
 * the key is claimed first and the response stored with the work.
 */
export async function createIdempotently<T>(
  deps: RouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: Scope,
  work: (trx: Transaction<DB>) => Promise<Created<T>>,
): Promise<FastifyReply> {
  const header = request.headers['idempotency-key'];
  if (header === undefined) {
    return send(reply, await deps.database.transaction(scope, work), false);
  }
  if (typeof header !== 'string') {
    throw new BadRequestError('Send one Idempotency-Key header.', [
      { path: 'header.idempotency-key', message: 'must be a single value', code: 'invalid' },
    ]);
  }
  const principal = principalOf(request);
  const values = {
    municipalityId: scope.kind === 'municipality' ? scope.municipalityId : null,
    principalId: principal.id,
    key: header,
    hash: requestFingerprint(request, deps.cprSecret),
  };
  const claimed = await deps.database.transaction(scope, (trx) => claim(trx, values, deps.now()));
  if (claimed.kind === 'replay') {
    const { row } = claimed;
    // A replay hands out the stored response again: for child data, that is a read.
    const spec = request.routeOptions.config.audit;
    if (spec) {
      const body = (row.response_body ?? {}) as { id?: unknown; childId?: unknown };
      const id = typeof body.id === 'string' ? body.id : null;
      const childId = typeof body.childId === 'string' ? body.childId : null;
      await deps.database.transaction(scope, (trx) =>
        audit(trx, principal, {
          action: 'read',
          resource: spec.resource,
          resourceId: id,
          childId: spec.resource === 'child' ? id : childId,
          criteria: { idempotentReplay: true },
        }),
      );
    }
    return send(
      reply,
      {
        status: row.response_status ?? 200,
        body: row.response_body as T,
        ...(row.response_location ? { location: row.response_location } : {}),
      },
      true,
    );
  }
  try {
    const created = await deps.database.transaction(scope, async (trx) => {
      const result = await work(trx);
      const completed = await trx
        .updateTable('idempotency_keys')
        .set({
          state: 'completed',
          response_status: result.status,
          response_body: sql`${JSON.stringify(result.body)}::jsonb`,
          response_location: result.location ?? null,
        })
        .where('id', '=', claimed.id)
        .where('claim_token', '=', claimed.token)
        .where('state', '=', 'in_progress')
        .executeTakeFirst();
      if (Number(completed.numUpdatedRows) !== 1) {
        // Another request took the claim over while this one ran too long: write nothing.
        throw new ConflictError(
          'This request took too long and a retry with the same Idempotency-Key took over.',
          'idempotency-in-progress',
        );
      }
      return result;
    });
    return send(reply, created, false);
  } catch (error) {
    // The work failed and wrote nothing: release the key so the client may retry.
    await deps.database
      .transaction(scope, (trx) =>
        trx
          .deleteFrom('idempotency_keys')
          .where('id', '=', claimed.id)
          .where('claim_token', '=', claimed.token)
          .where('state', '=', 'in_progress')
          .execute(),
      )
      .catch((releaseError: unknown) =>
        request.log.error({ err: releaseError }, 'could not release an idempotency key'),
      );
    throw error;
  }
}

/**
 * The usual creating POST: 201 with a Location, in one transaction scoped to the caller's
 * municipality, idempotent when the request carries an Idempotency-Key.
 */
export function createInMunicipality<T>(
  deps: RouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (trx: Transaction<DB>, principal: Principal) => Promise<T>,
  location: (created: T) => string,
): Promise<FastifyReply> {
  const principal = principalOf(request);
  return createIdempotently(
    deps,
    request,
    reply,
    municipalityScope(municipalityOf(principal)),
    async (trx) => {
      const body = await work(trx, principal);
      return { status: 201, body, location: location(body) };
    },
  );
}
