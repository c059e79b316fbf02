import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { type AuditEntry, audit } from '../audit/audit.js';
import type { ApiKeyCache } from '../auth/api-key-cache.js';
import {
  type Database,
  isRevokedKeyError,
  municipalityScope,
  platformScope,
  type Scope,
} from '../db/database.js';
import type { DB } from '../db/schema.js';
import { UnauthorizedError } from '../errors.js';
import { etagOf } from '../http/etag.js';
import {
  type EachContext,
  type EachItem,
  type EachOptions,
  type EachOutcome,
  runEach,
} from './bulk.js';
import {
  type Created,
  claim,
  idempotencyKeyOf,
  type KeyValues,
  requestFingerprint,
  storeResponse,
} from './idempotency.js';
import { type Session, sessionOf } from './session.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * Whose rows the route's transaction may touch: `caller` (the default) the caller's
     * municipality (the platform's rows for platform administrators), `platform` the platform's
     * own rows, `path` the municipality named by the `municipalityId` path parameter (404 for a
     * caller of another municipality).
     */
    scope?: 'caller' | 'platform' | 'path';
    /**
     * The route's service only reads and tolerates a few seconds of staleness (aggregates,
     * exports): with a read replica (DATABASE_REPLICA_URL) it runs there, and its audit entries
     * are then written on the primary before the answer (see `Runner.run`).
     */
    readReplica?: boolean;
  }
}

/**
 * The one shape of a service: the request's session, the request's transaction (already in
 * the session's row-level-security scope), and the validated input. It reports what it used of
 * child data with `session.audit(…)`, and throws ProblemErrors (src/errors.ts) for 4xx.
 */
export type Service<I, O> = (session: Session, trx: Transaction<DB>, input: I) => Promise<O>;

/**
 * Runs `work` in a new short transaction in the request's scope (see `Runner.runThen`). Each
 * call is its own transaction: nothing is held between two calls.
 */
export type ReadOn = <R>(work: (trx: Transaction<DB>) => Promise<R>) => Promise<R>;

export interface CreateOptions<O> {
  /** The Location of what was created. */
  location?: (created: O) => string;
  /** 201 unless given. */
  status?: number;
  /** Answer the created resource's ETag (src/http/etag.ts), the same a GET of it answers. */
  etag?: boolean;
}

/**
 * Runs every `/v1` request the same way: one transaction in the session's scope; with an
 * Idempotency-Key, the key claimed in it; the service called; the audit entries it reported
 * written in one statement with the route's declared action and resource; the response stored
 * under the key; then commit. A database that cannot be reached fails the transaction, which the
 * error handler answers 503. `run` answers what the service returns, `create` a created resource,
 * and `runThen` an answer read on after commit in short transactions of the same scope (a
 * streamed export, page by page; a dossier that lists its own read's audit entry).
 */
export class Runner {
  constructor(
    private readonly database: Database,
    /** Key of the request fingerprint HMAC (the deployment secret). */
    private readonly secret: string,
    /** The instance's verified API keys: a key the database refuses as revoked is dropped. */
    private readonly apiKeys: ApiKeyCache,
  ) {}

  /**
   * One transaction in `scope`. The scope names the caller's API key, which the database
   * checks as it enters the scope: a key revoked since it was verified (by any instance) is
   * answered 401 and dropped from the cache.
   */
  async #transaction<T>(
    scope: Scope,
    fn: (trx: Transaction<DB>) => Promise<T>,
    replica = false,
  ): Promise<T> {
    const { database } = this;
    try {
      return await (replica && database.readTransaction
        ? database.readTransaction(scope, fn)
        : database.transaction(scope, fn));
    } catch (error) {
      if (scope.kind === 'parent' && isRevokedKeyError(error)) {
        throw new UnauthorizedError('The parent session has ended.', 'invalid_token');
      }
      if (scope.apiKeyId === undefined || !isRevokedKeyError(error)) throw error;
      this.apiKeys.forget(scope.apiKeyId);
      throw new UnauthorizedError('The API key is revoked.', 'invalid_token');
    }
  }

  /**
   * A read of a `readReplica` route: on the replica when there is one that is up and current
   * enough (src/db/replica.ts), else on the primary. A revoked key the replica has not seen yet
   * is still refused: the audit transaction on the primary enters the same scope.
   */
  #read<T>(scope: Scope, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> {
    return this.#transaction(scope, fn, true);
  }

  /**
   * Runs a reading (or changing, non-creating) request; the route answers the result. A
   * `readReplica` route with a replica configured reads there, then writes its audit entries on
   * the primary in a transaction of the same scope (which checks the key there too) before
   * answering: when they cannot be written, the data is not answered (503 when the primary
   * cannot be reached).
   */
  run<I, O>(request: FastifyRequest, service: Service<I, O>, input: I): Promise<O> {
    const session = sessionOf(request);
    session.markRun();
    const scope = scopeOf(request, session);
    if (this.#readsReplica(request)) {
      return (async () => {
        const output = await this.#read(scope, (trx) => {
          session.resetAudit();
          return service(session, trx, input);
        });
        await this.#transaction(scope, (trx) => writeAudit(trx, request, session));
        return output;
      })();
    }
    return this.#transaction(scope, async (trx) => {
      const output = await service(session, trx, input);
      await writeAudit(trx, request, session);
      return output;
    });
  }

  /**
   * Runs a request whose answer is read on after its transaction has committed: the service
   * runs as in `run` (its checks, the audit entries it reported written before commit) and
   * returns a continuation, which the runner then calls with `read`; `read(work)` runs `work` in
   * a new short transaction in the same scope. Two uses:
   * - a streamed export: the continuation returns the body stream, and each further page is read
   *   in its own transaction when the client wants it, so no transaction, pooled connection or
   *   snapshot is held while a (slow) client reads, and PGlite's one connection stays free for
   *   other requests between pages (a transaction held open for the whole stream would block
   *   them); a client that goes away stops the reads at the next page;
   * - an answer that must show what the request's own transaction wrote: a dossier lists every
   *   audit entry about the child, the entry of its own read included.
   */
  async runThen<I, O>(
    request: FastifyRequest,
    service: Service<I, (read: ReadOn) => O>,
    input: I,
  ): Promise<O> {
    const scope = scopeOf(request, sessionOf(request));
    const then = await this.run(request, service, input);
    if (this.#readsReplica(request)) return then((work) => this.#read(scope, work));
    return then((work) => this.#transaction(scope, work));
  }

  #readsReplica(request: FastifyRequest): boolean {
    return (
      request.routeOptions.config.readReplica === true &&
      this.database.readTransaction !== undefined
    );
  }

  /**
   * Runs a creating request: 201 with a Location; with an Idempotency-Key, a retry replays the
   * first response without doing the work again (see idempotency.ts).
   */
  async create<I, O>(
    request: FastifyRequest,
    reply: FastifyReply,
    service: Service<I, O>,
    input: I,
    options: CreateOptions<O> = {},
  ): Promise<FastifyReply> {
    const session = sessionOf(request);
    session.markRun();
    const key = idempotencyKeyOf(request);
    const scope = scopeOf(request, session);
    const outcome = await this.#transaction(scope, async (trx) => {
      let values: KeyValues | undefined;
      if (key !== undefined) {
        values = {
          municipalityId: scope.kind === 'platform' ? null : scope.municipalityId,
          principalId: session.principal.id,
          key,
          hash: requestFingerprint(request, this.secret),
        };
        const stored = await claim(trx, values, session.now);
        if (stored) {
          await auditReplay(trx, request, session, stored.response_body);
          const replayed: Created<unknown> = {
            status: stored.response_status ?? 200,
            body: stored.response_body,
            ...(stored.response_location ? { location: stored.response_location } : {}),
          };
          return { created: replayed, replayed: true };
        }
      }
      const body = await service(session, trx, input);
      await writeAudit(trx, request, session);
      const created: Created<unknown> = {
        status: options.status ?? 201,
        body,
        ...(options.location ? { location: options.location(body) } : {}),
      };
      if (values) await storeResponse(trx, values, created, session.now);
      return { created, replayed: false };
    });
    const { created, replayed } = outcome;
    if (created.location) reply.header('location', created.location);
    if (replayed) reply.header('idempotency-replayed', 'true');
    if (options.etag) reply.header('etag', etagOf(created.body));
    return reply.status(created.status).send(created.body);
  }

  /**
   * Runs a bulk creating request: each item as `create` would run it alone (its own
   * idempotency key, work, audit entries and stored response), in transactions of a few dozen
   * items with a savepoint per item, so a refused item is answered with its own problem and
   * rolls back only itself (see bulk.ts).
   */
  createEach<I, O>(
    request: FastifyRequest,
    service: Service<I, O>,
    items: readonly EachItem<I>[],
    options: EachOptions<O>,
  ): Promise<EachOutcome<O>[]> {
    const session = sessionOf(request);
    session.markRun();
    const scope = scopeOf(request, session);
    const context: EachContext = {
      session,
      secret: this.secret,
      municipalityId: scope.kind === 'platform' ? null : scope.municipalityId,
      headerKey: idempotencyKeyOf(request),
      audit: request.routeOptions.config.audit,
      transaction: (fn) => this.#transaction(scope, fn),
      auditedEntries: () => auditedEntries(request, session),
      replayEntry: (stored) => replayEntry(request, stored),
    };
    return runEach(context, service, items, options);
  }
}

function scopeOf(request: FastifyRequest, session: Session): Scope {
  const { principal } = session;
  // A parent reaches only the parent view's routes; its scope is always its session's.
  if (principal.kind === 'parent') {
    if (!principal.municipalityId) throw new Error('a parent session without a municipality');
    return { kind: 'parent', municipalityId: principal.municipalityId, sessionId: principal.id };
  }
  const key = principal.kind === 'api_key' ? { apiKeyId: principal.id } : {};
  switch (request.routeOptions.config.scope ?? 'caller') {
    case 'platform':
      return { ...platformScope, ...key };
    case 'path': {
      const { municipalityId } = request.params as { municipalityId: string };
      return { ...municipalityScope(session.access.requireMunicipality(municipalityId)), ...key };
    }
    default: {
      const { municipalityId } = principal;
      return { ...(municipalityId ? municipalityScope(municipalityId) : platformScope), ...key };
    }
  }
}

/** The audit entries the service reported, with the route's action and resource. */
function auditedEntries(request: FastifyRequest, session: Session): AuditEntry[] {
  const spec = request.routeOptions.config.audit;
  const route = `${request.method} ${request.routeOptions.url}`;
  if (!spec) {
    if (session.audited.length > 0) {
      throw new Error(`${route} reports audit entries but declares no config.audit`);
    }
    return [];
  }
  if (session.audited.length === 0) {
    throw new Error(`${route} declares config.audit but its service reported no entry`);
  }
  return session.audited.map((subject) => ({
    action: spec.action,
    resource: spec.resource,
    ...subject,
  }));
}

/** Writes the audit entries the service reported, with the route's action and resource. */
async function writeAudit(
  trx: Transaction<DB>,
  request: FastifyRequest,
  session: Session,
): Promise<void> {
  const entries = auditedEntries(request, session);
  if (entries.length > 0) await audit(trx, session.principal, ...entries);
}

/** A replay hands out the stored response again: for child data, that is a read. */
function replayEntry(request: FastifyRequest, stored: unknown): AuditEntry | undefined {
  const spec = request.routeOptions.config.audit;
  if (!spec) return undefined;
  const body = (stored ?? {}) as { id?: unknown; childId?: unknown };
  const id = typeof body.id === 'string' ? body.id : null;
  const childId = typeof body.childId === 'string' ? body.childId : null;
  return {
    action: 'read',
    resource: spec.resource,
    resourceId: id,
    childId: spec.resource === 'child' ? id : childId,
    criteria: { idempotentReplay: true },
  };
}

async function auditReplay(
  trx: Transaction<DB>,
  request: FastifyRequest,
  session: Session,
  stored: unknown,
): Promise<void> {
  const entry = replayEntry(request, stored);
  if (entry) await audit(trx, session.principal, entry);
}
