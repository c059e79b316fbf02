import { createRequire } from 'node:module';
import { type PGlite, parse, protocol } from '@electric-sql/pglite';
import {
  type CompiledQuery,
  type DatabaseConnection,
  type Driver,
  CompiledQuery as Query,
  type QueryResult,
  type TransactionSettings,
} from 'kysely';
import type { EngineScripts } from './begin-with-scope.js';

/** node-postgres's own parameter encoding, so both engines receive the same parameter text. */
const { prepareValue } = createRequire(import.meta.url)('pg/lib/utils') as {
  prepareValue(value: unknown): string | Uint8Array | null;
};

/** Distinct statements prepared at most (as PREPARED_PER_CONNECTION); any further one is parsed per call. */
export const PGLITE_PREPARED_MAX = 256;

/** As src/db/postgres.ts: a parameterised LIMIT or OFFSET stays planned per call. */
const PARAMETERISED_LIMIT = /\b(limit|offset)\s+\$\d/i;

type BackendMessage = Parameters<typeof parse.parseResults>[0][number];

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/**
 * PGlite's `query()` makes six calls into the engine per statement (parse, describe, bind,
 * describe, execute, sync), each with its JavaScript framing, and parses and plans the statement
 * every time. This connection sends a statement as ONE protocol message (bind, describe,
 * execute, sync), its parameters encoded as node-postgres encodes them, and parses a
 * parameterised statement once under a name — as the PostgreSQL pool does per connection
 * (src/db/postgres.ts): PostgreSQL keeps its plan (a generic one when no worse). A statement
 * without parameters (BEGIN, COMMIT, a script) is one simple-protocol message.
 */
export class PreparedPGliteConnection implements DatabaseConnection {
  readonly #pglite: PGlite;
  readonly #names = new Map<string, string>();
  #named = 0;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  async executeQuery<R>(query: CompiledQuery): Promise<QueryResult<R>> {
    const parameters = query.parameters;
    if (parameters.length === 0) {
      return toResult<R>(
        this.#results(await this.#run(protocol.serialize.query(query.sql), query.sql)),
      );
    }
    const values = parameters.map((v) => (v === undefined ? null : prepareValue(v)));
    const parts: Uint8Array[] = [];
    let name = this.#names.get(query.sql);
    let naming: string | undefined;
    if (name === undefined) {
      if (this.#names.size < PGLITE_PREPARED_MAX && !PARAMETERISED_LIMIT.test(query.sql)) {
        naming = `lineal_${++this.#named}`;
        parts.push(protocol.serialize.parse({ name: naming, text: query.sql }));
      } else {
        parts.push(protocol.serialize.parse({ text: query.sql }));
      }
    }
    name ??= naming ?? '';
    parts.push(
      protocol.serialize.bind({ statement: name, values: values as string[] }),
      protocol.serialize.describe({ type: 'P' }),
      protocol.serialize.execute({}),
      protocol.serialize.sync(),
    );
    const messages = await this.#run(concat(parts), query.sql, (received) => {
      // Named once the server has parsed it, even when binding or executing then failed.
      if (naming && received.some((m) => m.name === 'parseComplete')) {
        this.#names.set(query.sql, naming);
      }
    });
    return toResult<R>(this.#results(messages));
  }

  /**
   * A parameterless script (BEGIN with the scope, COMMIT, ROLLBACK) as one simple-protocol
   * message, as EngineScripts.run asks (src/db/begin-with-scope.ts): the last statement's rows,
   * or for COMMIT and ROLLBACK `{ command }`, the completion tag (an aborted transaction's COMMIT
   * completes as ROLLBACK).
   */
  async runScript(script: string): Promise<QueryResult<unknown>> {
    const last = this.#results(await this.#run(protocol.serialize.query(script), script)).at(-1);
    if (last?.command === 'COMMIT' || last?.command === 'ROLLBACK') {
      return { rows: [{ command: last.command }] };
    }
    return { rows: last?.rows ?? [] };
  }

  async #run(
    message: Uint8Array,
    sql: string,
    onMessages?: (messages: BackendMessage[]) => void,
  ): Promise<BackendMessage[]> {
    try {
      const { messages } = await this.#pglite.execProtocol(message, {
        syncToFs: false,
        throwOnError: false,
      });
      onMessages?.(messages);
      const error = messages.find((m) => m.name === 'error');
      if (error) throw Object.assign(error, { query: sql });
      return messages;
    } finally {
      if (!this.#pglite.isInTransaction()) await this.#pglite.syncToFs();
    }
  }

  #results(messages: BackendMessage[]) {
    return parse.parseResults(messages, this.#pglite.parsers, { rowMode: 'object' });
  }

  // biome-ignore lint/correctness/useYield: PGlite cannot stream
  async *streamQuery<R>(): AsyncIterableIterator<QueryResult<R>> {
    throw new Error('Streaming is not supported by PGlite.');
  }
}

function toResult<R>(results: ReturnType<typeof parse.parseResults>): QueryResult<R> {
  const last = results.at(-1);
  return {
    numAffectedRows:
      last?.affectedRows !== undefined && last.affectedRows !== null
        ? BigInt(last.affectedRows)
        : undefined,
    rows: (last?.rows ?? []) as R[],
  };
}

/**
 * Kysely's driver on one PGlite instance and its one connection (PreparedPGliteConnection):
 * transactions as plain statements on that connection, never PGlite's own `transaction()`. It hands the connection to every caller at once: src/db/pglite.ts serialises
 * them, and begins transactions with their scope (BeginWithScopeDriver, through `scripts`).
 */
export class PreparedPGliteDriver implements Driver {
  readonly #pglite: PGlite;
  #connection: PreparedPGliteConnection | undefined;

  constructor(pglite: PGlite) {
    this.#pglite = pglite;
  }

  /** BEGIN with the scope, COMMIT and ROLLBACK, each one message on the connection. */
  readonly scripts: EngineScripts = {
    innerEndsTransactions: false,
    run: (script) => this.#connected().runScript(script),
  };

  async init(): Promise<void> {
    await this.#pglite.waitReady;
    if (this.#pglite.closed) throw new Error('the PGlite instance is closed');
    this.#connection = new PreparedPGliteConnection(this.#pglite);
  }

  #connected(): PreparedPGliteConnection {
    if (!this.#connection) throw new Error('the driver is not initialised');
    return this.#connection;
  }

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.#connected();
  }

  async beginTransaction(connection: DatabaseConnection, settings: TransactionSettings) {
    let begin = 'begin';
    if (settings.isolationLevel) begin += ` isolation level ${settings.isolationLevel}`;
    if (settings.accessMode) begin += ` ${settings.accessMode}`;
    await connection.executeQuery(Query.raw(begin));
  }

  async commitTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(Query.raw('commit'));
  }

  async rollbackTransaction(connection: DatabaseConnection) {
    await connection.executeQuery(Query.raw('rollback'));
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {
    if (!this.#pglite.closed) await this.#pglite.close();
  }
}
