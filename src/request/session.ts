import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { AccessPolicy } from '../access/policy.js';
import type { AuditEntry } from '../audit/audit.js';
import type { Principal } from '../auth/principal.js';
import { localDate } from '../domain/dates.js';

declare module 'fastify' {
  interface FastifyRequest {
    /** Built once at authentication on every route that names a permission. */
    session: Session | null;
  }
}

/**
 * What a service reports to the audit log: which child and row it used, or the criteria of a
 * search. The route declares the action and the kind of data (`config.audit`); the runner writes
 * the entries, in one statement, before the transaction commits.
 */
export type AuditSubject = Omit<AuditEntry, 'action' | 'resource'>;

/**
 * One request's view of the world, built once when the caller is authenticated and handed to
 * every service explicitly: who is calling, the request's clock (one `now` for the whole
 * request, and `today` in Copenhagen), the municipality it acts in, its access policy, and the
 * audit subjects the service reports.
 */
export class Session {
  readonly today: string;
  readonly access: AccessPolicy;
  readonly #audited: AuditSubject[] = [];
  readonly #memo = new Map<string, Promise<unknown>>();
  #ran = false;

  constructor(
    readonly principal: Principal,
    readonly now: Date,
    /** Key of the HMAC CPR numbers are stored as (a deployment secret). */
    readonly cprSecret: string,
  ) {
    this.today = localDate(now);
    this.access = new AccessPolicy(principal, this.today);
  }

  /** The municipality the caller acts in: 403 for platform administrators. */
  get municipalityId(): string {
    return this.access.municipalityId;
  }

  get requestId(): string {
    return this.principal.requestId;
  }

  /** Records uses of child data; written by the runner with the route's action and resource. */
  audit(...subjects: AuditSubject[]): void {
    this.#audited.push(...subjects);
  }

  /**
   * Forgets the subjects reported so far: a read run again on the primary after the replica
   * failed under it reports them again (Runner, routes with `readReplica`).
   */
  resetAudit(): void {
    this.#audited.length = 0;
  }

  get audited(): readonly AuditSubject[] {
    return this.#audited;
  }

  /**
   * A value read once per request: the items of a bulk request (a class in a round, all on one
   * ruler and in one unit) share the reads that would be the same for each. Only for what is
   * the same for the whole request: immutable rows (ruler and guide versions) and rows a
   * request reads as of its start (the unit). A failed read is not kept.
   */
  memo<T>(key: string, load: () => Promise<T>): Promise<T> {
    const hit = this.#memo.get(key) as Promise<T> | undefined;
    if (hit) return hit;
    const loading = load();
    this.#memo.set(key, loading);
    loading.catch(() => this.#memo.delete(key));
    return loading;
  }

  /** Marks the session as run by the Runner (once: a request runs one service). */
  markRun(): void {
    if (this.#ran) throw new Error('a request runs through the Runner once');
    this.#ran = true;
  }

  get ran(): boolean {
    return this.#ran;
  }
}

/** The session of a route that declares a permission. */
export function sessionOf(request: FastifyRequest): Session {
  if (!request.session) throw new Error('sessionOf() on a route without a permission');
  return request.session;
}

/**
 * Builds the session of every authenticated request, right after authentication (register
 * after the auth plugin: root hooks run in registration order).
 */
export const sessionPlugin = fp(
  async (app: FastifyInstance, opts: { now: () => Date; cprSecret: string }) => {
    app.decorateRequest('session', null);
    app.addHook('onRequest', async (request) => {
      if (request.principal) {
        request.session = new Session(request.principal, opts.now(), opts.cprSecret);
      }
    });
    // Every successful answer of a route that names a permission went through the Runner: the
    // one place where the scope, the Idempotency-Key and the audit entries are handled.
    app.addHook('onSend', async (request, reply, payload) => {
      if (request.session && reply.statusCode < 400 && !request.session.ran) {
        throw new Error(`${request.method} ${request.routeOptions.url} did not use the Runner`);
      }
      return payload;
    });
  },
  { name: 'lineal-session', dependencies: ['lineal-auth'] },
);
