import { createHash } from 'node:crypto';
import { CompiledQuery, type Driver, Kysely, type KyselyConfig, sql } from 'kysely';
import pg from 'pg';
import { BeginWithScopeDriver } from './begin-with-scope.js';
import { type Database, scopedTransaction, typeParsers } from './database.js';
import { createPgPool } from './failover-pool.js';
import { LinealPostgresDialect } from './query-compiler.js';
import type { DB } from './schema.js';

export interface PostgresOptions {
  url: string;
  poolMax?: number;
  /** Allow an application role that bypasses row-level security (superuser, owner). */
  allowRlsBypass?: boolean;
  /**
   * A connection failed: an idle one (the pool drops it) or one a request holds (its query fails
   * and the connection is dropped when released). Without a listener, pg's 'error' event on a
   * checked-out client would end the process (issue 12).
   */
  onConnectionError?: (error: Error) => void;
  /**
   * Named prepared statements per connection (prepareStatements), on by default. Off behind a
   * pooler in transaction mode (DATABASE_POOLER=transaction): PgBouncer before 1.21 hands the
   * next transaction another server connection, where the statement does not exist.
   */
  preparedStatements?: boolean;
  /** Kysely's query log hook (the benchmark records a request's statements); off by default. */
  log?: KyselyConfig['log'];
  /** How long a connection attempt may take (CONNECT_TIMEOUT_MS unless given). */
  connectTimeoutMs?: number;
  /**
   * Whether opening checks the role at once (RlsBypassError), which needs the server to answer;
   * false for the read replica, whose check runs when it is first reached (src/db/replica.ts).
   */
  checkRoleAtOpen?: boolean;
}

const pgTypes = {
  getTypeParser(oid: number, format?: 'text' | 'binary') {
    const parser = typeParsers[oid];
    // biome-ignore lint/suspicious/noExplicitAny: pg's own typing of getTypeParser is overloaded
    return parser && format !== 'binary' ? parser : pg.types.getTypeParser(oid, format as any);
  },
} as pg.CustomTypesConfig;

/** Distinct statements prepared per connection at most; any further one is planned per call. */
export const PREPARED_PER_CONNECTION = 256;

/**
 * A LIMIT or OFFSET given as a parameter: a generic plan cannot know it, assumes a tenth of the
 * rows and may sort everything where the custom plan walks an index and stops (a worklist page
 * took four times the database time). Such statements stay planned per call.
 */
const PARAMETERISED_LIMIT = /\b(limit|offset)\s+\$\d/i;

/**
 * Runs each connection's parameterised statements as named prepared statements (parsed once per
 * connection; PostgreSQL then keeps a plan for them — a generic one when it is estimated no
 * worse than planning each call). Planning was most of PostgreSQL's time for a timeline read
 * (0.41 of 0.50 ms for its main query, with the row-level-security policies). Bounded per
 * connection so that ad-hoc statements cannot fill the server's memory; statements without
 * parameters (BEGIN, COMMIT) stay simple queries, and so do paged ones (PARAMETERISED_LIMIT).
 */
export function prepareStatements(client: pg.PoolClient): void {
  const names = new Map<string, string>();
  const query = client.query.bind(client) as (...args: unknown[]) => unknown;
  const prepared = (text: unknown, ...rest: unknown[]) => {
    const values = rest[0];
    if (typeof text === 'string' && Array.isArray(values) && values.length > 0) {
      // '' marks a statement seen and left unprepared.
      let name = names.get(text);
      if (name === undefined && names.size < PREPARED_PER_CONNECTION) {
        name = PARAMETERISED_LIMIT.test(text)
          ? ''
          : `lineal_${createHash('sha256').update(text).digest('hex').slice(0, 32)}`;
        names.set(text, name);
      }
      if (name) return query({ name, text, values }, ...rest.slice(1));
    }
    return query(text, ...rest);
  };
  client.query = prepared as typeof client.query;
}

/** How long a request waits for a connection before it gets a 503 rather than hanging. */
export const CONNECT_TIMEOUT_MS = 5_000;

/**
 * The service's pool. A multi-host URL (`h1:p1,h2:p2`, target_session_attrs=read-write) gets
 * connections to the host that is usable now (src/db/failover-pool.ts).
 */
export function createPool(url: string, max = 10, connectTimeoutMs = CONNECT_TIMEOUT_MS): pg.Pool {
  return createPgPool(url, {
    max,
    types: pgTypes,
    connectionTimeoutMillis: connectTimeoutMs,
    // A server that vanished without closing its sockets (a host down, a network partition)
    // is noticed by TCP keep-alive instead of leaving connections waiting for ever.
    keepAlive: true,
    keepAliveInitialDelayMillis: 10_000,
  });
}

export class RlsBypassError extends Error {
  constructor(role: string, reasons: string[]) {
    super(
      `The database role "${role}" bypasses row-level security (${reasons.join(', ')}). ` +
        'Connect the service as a role that is a member of lineal_app and owns no tables ' +
        '(see README, "Running on PostgreSQL"), or set DATABASE_ALLOW_RLS_BYPASS=true to accept ' +
        'the risk.',
    );
    this.name = 'RlsBypassError';
  }
}

/** Why the connected role would not be subject to row-level security, if it would not. */
export async function rlsBypassReasons(
  db: Kysely<DB>,
): Promise<{ role: string; reasons: string[] }> {
  const { rows } = await sql<{
    role: string;
    superuser: boolean;
    bypassrls: boolean;
    owns_tables: boolean;
  }>`
    SELECT r.rolname AS role, r.rolsuper AS superuser, r.rolbypassrls AS bypassrls,
           EXISTS (
             SELECT 1 FROM pg_tables t
             WHERE t.schemaname = current_schema()
               AND t.tablename IN ('municipalities', 'api_keys')
               AND pg_has_role(current_user, t.tableowner, 'USAGE')
           ) AS owns_tables
    FROM pg_roles r WHERE r.rolname = current_user
  `.execute(db);
  const row = rows[0];
  if (!row) return { role: 'unknown', reasons: ['role not found'] };
  const reasons: string[] = [];
  if (row.superuser) reasons.push('superuser');
  if (row.bypassrls) reasons.push('BYPASSRLS');
  if (row.owns_tables) reasons.push('owns the tables');
  return { role: row.role, reasons };
}

/** Throws RlsBypassError when the connected role bypasses row-level security (unless allowed). */
export async function checkRole(db: Kysely<DB>, allowRlsBypass = false): Promise<void> {
  const { role, reasons } = await rlsBypassReasons(db);
  if (reasons.length > 0 && !allowRlsBypass) throw new RlsBypassError(role, reasons);
}

/**
 * The dialect with transactions that begin with their first statement (BeginWithScopeDriver):
 * BEGIN and the scope go out as one simple-protocol script. pg's own commit and rollback end
 * the transaction (and discard a connection whose rollback failed).
 */
class ScopedPostgresDialect extends LinealPostgresDialect {
  override createDriver(): Driver {
    return new BeginWithScopeDriver(super.createDriver(), {
      innerEndsTransactions: true,
      run: (script, execute) => execute(CompiledQuery.raw(script)),
    });
  }
}

/** Opens PostgreSQL through a pool. Migrations are not run here (`npm run migrate`). */
export async function openPostgresDatabase(options: PostgresOptions): Promise<Database> {
  const pool = createPool(options.url, options.poolMax, options.connectTimeoutMs);
  const onError = (error: Error) => options.onConnectionError?.(error);
  const prepared = options.preparedStatements ?? true;
  pool.on('connect', (client) => {
    if (prepared) prepareStatements(client);
    // Stays for the connection's life: covers the time a request holds it, when the pool's own
    // idle listener is detached. The failed query rejects as well; the request answers 503.
    client.on('error', onError);
  });
  // An idle connection's error reaches the pool too; the listener above has reported it.
  pool.on('error', () => {});
  const db = new Kysely<DB>({
    dialect: new ScopedPostgresDialect({ pool }),
    ...(options.log ? { log: options.log } : {}),
  });
  if (options.checkRoleAtOpen !== false) {
    try {
      await checkRole(db, options.allowRlsBypass);
    } catch (error) {
      await db.destroy();
      throw error;
    }
  }
  let closed = false;
  return {
    engine: 'postgres',
    db,
    transaction: scopedTransaction(db),
    poolStats: () => ({ total: pool.totalCount, idle: pool.idleCount, waiting: pool.waitingCount }),
    async close() {
      if (closed) return;
      closed = true;
      await db.destroy();
    },
  };
}
