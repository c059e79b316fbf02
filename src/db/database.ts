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
export type Scope = { kind: 'municipality'; municipalityId: string } | { kind: 'platform' };

export const platformScope: Scope = { kind: 'platform' };
export const municipalityScope = (municipalityId: string): Scope => ({
  kind: 'municipality',
  municipalityId,
});

export interface Database {
  readonly engine: Engine;
  /** The raw handle, for health checks and the authentication functions only. */
  readonly db: Kysely<DB>;
  /** Runs `fn` in one transaction whose row-level-security scope is `scope`. */
  transaction<T>(scope: Scope, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

/**
 * Enters the transaction's row-level-security scope. The database records it where the service's
 * role cannot write and refuses a second scope in the same transaction, so SQL run later in the
 * transaction cannot widen it (migrations/20261204_120000_unforgeable_scope.ts).
 */
export async function applyScope(trx: Transaction<DB>, scope: Scope): Promise<void> {
  if (scope.kind === 'municipality') {
    await sql`SELECT lineal_enter_scope(${scope.municipalityId}::uuid)`.execute(trx);
  } else {
    await sql`SELECT lineal_enter_platform_scope()`.execute(trx);
  }
}

export function scopedTransaction(db: Kysely<DB>) {
  return <T>(scope: Scope, fn: (trx: Transaction<DB>) => Promise<T>): Promise<T> =>
    db.transaction().execute(async (trx) => {
      await applyScope(trx, scope);
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
