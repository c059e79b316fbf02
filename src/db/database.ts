import { type Kysely, sql, type Transaction } from 'kysely';
import type { DB } from './schema.js';

export type Engine = 'pglite' | 'postgres';

/** Anything a repository function can run a query on. */
export type Executor = Kysely<DB> | Transaction<DB>;

/**
 * Whose data a transaction may touch. Row-level security reads it from the transaction's scope,
 * so a query that forgets its tenant filter still sees only this scope's rows. The platform scope
 * sees the municipalities and the rows that belong to no municipality (platform keys, presets),
 * never a municipality's own rows: work across municipalities enters each one's scope in turn.
 */
export type Scope = (
  | { kind: 'municipality'; municipalityId: string }
  | { kind: 'platform' }
  /**
   * A parent session's (issue 18): the municipality of the session's child, and only that
   * child's rows; the database finds both from the session, and refuses a revoked one (LK401).
   * The transaction runs as the role `lineal_parent`, which reads only what the parent view
   * shows (migrations/20261215_090000_parent_view.ts).
   */
  | { kind: 'parent'; municipalityId: string; sessionId: string }
) & {
  /**
   * The API key a request runs for: the database refuses the scope (SQLSTATE LK401,
   * REVOKED_KEY) when the key no longer exists or is revoked, whichever instance revoked it
   * (migrations/20261207_090000_scope_checks_api_key.ts).
   */
  apiKeyId?: string;
};

export const platformScope: Scope = { kind: 'platform' };
export const municipalityScope = (municipalityId: string): Scope => ({
  kind: 'municipality',
  municipalityId,
});

/** The SQLSTATE of a scope refused because its API key no longer exists or is revoked. */
export const REVOKED_KEY = 'LK401';

/** Whether `error` is the database refusing a scope for its revoked (or deleted) API key. */
export function isRevokedKeyError(error: unknown): boolean {
  return (error as { code?: unknown } | null)?.code === REVOKED_KEY;
}

export interface Database {
  readonly engine: Engine;
  /** The raw handle, for health checks and the authentication functions only. */
  readonly db: Kysely<DB>;
  /** Runs `fn` in one transaction whose row-level-security scope is `scope`. */
  transaction<T>(scope: Scope, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
  /** The connection pool's counts, for the metrics (PostgreSQL; PGlite has one connection). */
  readonly poolStats?: () => { total: number; idle: number; waiting: number };
  /**
   * Runs a read that tolerates a few seconds of staleness on the read replica
   * (DATABASE_REPLICA_URL) when it is up and within its lag bound, else on the primary
   * (src/db/replica.ts). `fn` must only read: it may run twice (on the replica, which failed,
   * then on the primary). Absent without a replica: such reads use `transaction`.
   */
  readTransaction?<T>(scope: Scope, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  /** The read replica's state, for the metrics; absent without a replica. */
  readonly replicaStatus?: () => ReplicaStatus;
}

/** What the service knows of its read replica (src/db/replica.ts). */
export interface ReplicaStatus {
  /** The last check reached the replica (and it is a standby, or a server in recovery). */
  up: boolean;
  /** How far its data is behind the primary's, in seconds, at the last check; null: unknown. */
  lagSeconds: number | null;
  /** Whether reads are sent to it now (up, and lagging no more than the bound). */
  inUse: boolean;
  /** Reads sent to it and reads that went to the primary instead, since start. */
  reads: { replica: number; primary: number };
}

/**
 * Enters the transaction's row-level-security scope. The database records it where the service's
 * role cannot write and refuses a second scope in the same transaction, so SQL run later in the
 * transaction cannot widen it (migrations/20261204_120000_unforgeable_scope.ts).
 */
export async function applyScope(trx: Transaction<DB>, scope: Scope): Promise<void> {
  const key = scope.apiKeyId;
  if (scope.kind === 'parent') {
    await sql`SELECT lineal_enter_parent_scope(${scope.sessionId}::uuid)`.execute(trx);
    await sql`SET LOCAL ROLE lineal_parent`.execute(trx);
  } else if (scope.kind === 'municipality') {
    await (key === undefined
      ? sql`SELECT lineal_enter_scope(${scope.municipalityId}::uuid)`
      : sql`SELECT lineal_enter_scope(${scope.municipalityId}::uuid, ${key}::uuid)`
    ).execute(trx);
  } else {
    await (key === undefined
      ? sql`SELECT lineal_enter_platform_scope()`
      : sql`SELECT lineal_enter_platform_scope(${key}::uuid)`
    ).execute(trx);
  }
}

const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

/**
 * BEGIN and the scope as one script (src/db/begin-with-scope.ts sends it as the transaction's
 * BEGIN, in one round trip). The municipality and key ids are written into the text, so they
 * must be well-formed uuids: anything else gets no script (undefined), and the scope is then
 * entered with the ids as parameters, which the database rejects as before.
 */
export function beginWithScope(scope: Scope): string | undefined {
  const key = scope.apiKeyId;
  if (key !== undefined && !UUID.test(key)) return undefined;
  const keyArgument = key === undefined ? '' : `'${key}'::uuid`;
  if (scope.kind === 'platform') return `BEGIN; SELECT lineal_enter_platform_scope(${keyArgument})`;
  if (scope.kind === 'parent') {
    return UUID.test(scope.sessionId)
      ? `BEGIN; SELECT lineal_enter_parent_scope('${scope.sessionId}'::uuid); SET LOCAL ROLE lineal_parent`
      : undefined;
  }
  if (!UUID.test(scope.municipalityId)) return undefined;
  const args = [`'${scope.municipalityId}'::uuid`, ...(key === undefined ? [] : [keyArgument])];
  return `BEGIN; SELECT lineal_enter_scope(${args.join(', ')})`;
}

/**
 * `Database.transaction` on a Kysely whose driver is a BeginWithScopeDriver: the transaction's
 * first statement, BEGIN with the scope, is one round trip.
 */
export function scopedTransaction(db: Kysely<DB>) {
  return <T>(scope: Scope, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> =>
    db.transaction().execute(async (trx) => {
      const script = beginWithScope(scope);
      if (script) await sql.raw(script).execute(trx);
      else await applyScope(trx, scope);
      return fn(trx);
    });
}

/** Postgres type OIDs whose default JavaScript mapping differs between pg and PGlite. */
export const PG_TYPES = { INT8: 20, DATE: 1082, NUMERIC: 1700 } as const;

/**
 * One mapping for both engines: `date` stays a 'YYYY-MM-DD' string (never shifted by the
 * process time zone), `int8` (count(*)) becomes a number.
 */
export const typeParsers: Record<number, (value: string) => unknown> = {
  [PG_TYPES.INT8]: (value) => Number(value),
  [PG_TYPES.DATE]: (value) => value,
};
