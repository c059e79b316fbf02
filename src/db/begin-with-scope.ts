import {
  type AbortableOperationOptions,
  AbortedTransactionError,
  CompiledQuery,
  type DatabaseConnection,
  type Driver,
  type QueryCompiler,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';

const UUID_LITERAL =
  "'[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}'::uuid";

/**
 * `BEGIN; SELECT lineal_enter_scope('<uuid>'::uuid[, '<key uuid>'::uuid])` or `BEGIN; SELECT
 * lineal_enter_platform_scope(['<key uuid>'::uuid])`: the statement a scoped transaction starts
 * with (src/db/database.ts). Only this exact text, with well-formed uuids, is sent as a script.
 */
export const BEGIN_WITH_SCOPE = new RegExp(
  `^BEGIN; SELECT lineal_enter_(?:scope\\(${UUID_LITERAL}(?:, ${UUID_LITERAL})?\\)|platform_scope\\((?:${UUID_LITERAL})?\\))$`,
);

/** The statements that begin and end transactions, as this driver sends them. */
const TRANSACTION_CONTROL = /^(?:begin|commit|rollback|start transaction(?: [a-z ]+)?)$/;

type Execute = (query: CompiledQuery) => Promise<QueryResult<unknown>>;

export interface EngineScripts {
  /**
   * Runs a parameterless script (BEGIN_WITH_SCOPE: two statements, or one transaction-control
   * statement) in one round trip, given the connection's own executeQuery. Its result is the last
   * statement's; for COMMIT and ROLLBACK its one row is `{ command }` (the completion tag: an
   * aborted transaction's COMMIT completes as ROLLBACK).
   */
  run(script: string, execute: Execute): Promise<QueryResult<unknown>>;
  /**
   * Whether the wrapped driver's commit and rollback send COMMIT and ROLLBACK on the connection
   * (pg: it also discards a connection whose rollback failed). PGlite's does not (it ends the
   * transaction it began with PGlite's own `transaction()`, which this driver never uses).
   */
  innerEndsTransactions: boolean;
}

interface State {
  /** BEGIN is owed: it is sent with the transaction's first statement. */
  pending: boolean;
  /** The statement that carried BEGIN failed: the transaction never reliably began. */
  beginFailed: boolean;
}

/**
 * A driver whose transactions begin with their first statement: `beginTransaction` sends
 * nothing, and the first statement goes out as `BEGIN; <statement>` in one round trip when it is
 * the scope statement (BEGIN_WITH_SCOPE), after a plain `BEGIN` otherwise. A scoped transaction
 * so costs one round trip less (BEGIN, then the scope, were two). A transaction that runs no
 * statement sends nothing at all.
 *
 * Errors behave as when BEGIN had its own round trip: when the statement carrying BEGIN fails
 * (a lost connection, a failing scope), the rollback Kysely then asks for is attempted and its
 * own failure ignored, so the caller sees the first error; a connection whose rollback failed is
 * discarded (the wrapped driver marks it).
 */
export class BeginWithScopeDriver implements Driver {
  readonly #states = new WeakMap<DatabaseConnection, State>();

  constructor(
    readonly inner: Driver,
    readonly scripts: EngineScripts,
  ) {}

  init(options?: AbortableOperationOptions) {
    return this.inner.init(options);
  }

  async acquireConnection(options?: AbortableOperationOptions): Promise<DatabaseConnection> {
    const connection = await this.inner.acquireConnection(options);
    if (!this.#states.has(connection)) {
      this.#states.set(connection, { pending: false, beginFailed: false });
      this.#intercept(connection);
    }
    return connection;
  }

  /**
   * Wraps the connection's own executeQuery (Kysely's query log, when configured, wraps it again
   * from outside, so every round trip, BEGIN included, is one logged query).
   */
  #intercept(connection: DatabaseConnection): void {
    const execute = connection.executeQuery.bind(connection);
    const state = this.#state(connection);
    const run = (script: string) => this.scripts.run(script, (query) => execute(query));
    connection.executeQuery = async <R>(
      query: CompiledQuery,
      options?: AbortableOperationOptions,
    ) => {
      const parameterless = query.parameters.length === 0;
      if (state.pending) {
        state.pending = false;
        try {
          if (parameterless && BEGIN_WITH_SCOPE.test(query.sql)) {
            return (await run(query.sql)) as QueryResult<R>;
          }
          // Through the (logged) connection: this BEGIN is a round trip of its own.
          await connection.executeQuery(CompiledQuery.raw('begin'));
        } catch (error) {
          state.beginFailed = true;
          throw error;
        }
      }
      if (parameterless && TRANSACTION_CONTROL.test(query.sql)) {
        return (await run(query.sql)) as QueryResult<R>;
      }
      return execute<R>(query, options);
    };
  }

  #state(connection: DatabaseConnection): State {
    const state = this.#states.get(connection);
    if (!state) throw new Error('BeginWithScopeDriver: a connection it did not acquire');
    return state;
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    const state = this.#state(connection);
    state.beginFailed = false;
    if (settings.isolationLevel || settings.accessMode) {
      // As Kysely's PostgreSQL driver words it, sent at once.
      let statement = 'start transaction';
      if (settings.isolationLevel) statement += ` isolation level ${settings.isolationLevel}`;
      if (settings.accessMode) statement += ` ${settings.accessMode}`;
      await connection.executeQuery(CompiledQuery.raw(statement));
      return;
    }
    state.pending = true;
  }

  async commitTransaction(connection: DatabaseConnection) {
    const state = this.#state(connection);
    if (state.pending) {
      state.pending = false;
      return;
    }
    if (this.scripts.innerEndsTransactions) return this.inner.commitTransaction(connection);
    const { rows } = await connection.executeQuery<{ command?: string }>(
      CompiledQuery.raw('commit'),
    );
    // PostgreSQL completes COMMIT with a ROLLBACK tag if an earlier statement error left the
    // transaction aborted.
    if (rows[0]?.command === 'ROLLBACK') throw new AbortedTransactionError();
  }

  async rollbackTransaction(connection: DatabaseConnection) {
    const state = this.#state(connection);
    if (state.pending) {
      state.pending = false;
      return;
    }
    try {
      if (this.scripts.innerEndsTransactions) await this.inner.rollbackTransaction(connection);
      else await connection.executeQuery(CompiledQuery.raw('rollback'));
    } catch (error) {
      if (!state.beginFailed) throw error;
    } finally {
      state.beginFailed = false;
    }
  }

  savepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.savepoint) throw new Error('savepoints are not supported');
    return this.inner.savepoint(connection, name, compile);
  }

  rollbackToSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.rollbackToSavepoint) throw new Error('savepoints are not supported');
    return this.inner.rollbackToSavepoint(connection, name, compile);
  }

  releaseSavepoint(
    connection: DatabaseConnection,
    name: string,
    compile: QueryCompiler['compileQuery'],
  ): Promise<void> {
    if (!this.inner.releaseSavepoint) throw new Error('savepoints are not supported');
    return this.inner.releaseSavepoint(connection, name, compile);
  }

  async releaseConnection(connection: DatabaseConnection, options?: AbortableOperationOptions) {
    const state = this.#states.get(connection);
    if (state) {
      state.pending = false;
      state.beginFailed = false;
    }
    await this.inner.releaseConnection(connection, options);
  }

  destroy(options?: AbortableOperationOptions) {
    return this.inner.destroy(options);
  }
}
