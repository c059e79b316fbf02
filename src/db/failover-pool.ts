import pg from 'pg';
import {
  type ConnectionString,
  type HostPort,
  parseConnectionString,
  urlForHost,
} from '../connection-string.js';

/** pg.Pool's options but where to connect, which the URL says. */
export type PgPoolOptions = Omit<pg.PoolConfig, 'connectionString' | 'Client'>;

/** A server that is up but does not accept writes, refused for target_session_attrs=read-write. */
export class ReadOnlyServerError extends Error {
  /** read_only_sql_transaction: what writing to it would have answered (a 503, src/db/errors). */
  readonly code = '25006';
  constructor(host: HostPort) {
    super(`${host.host}:${host.port} is read-only (transaction_read_only is on)`);
    this.name = 'ReadOnlyServerError';
  }
}

/** Every host of the URL was tried once for one connection, and none could be used. */
export class NoUsableServerError extends AggregateError {
  readonly code: string | undefined;
  constructor(errors: unknown[], cs: ConnectionString) {
    super(
      errors,
      `no host of the database URL accepted a ${cs.targetSessionAttrs} session: ${errors
        .map((error) => (error instanceof Error ? error.message : String(error)))
        .join('; ')}`,
    );
    this.name = 'NoUsableServerError';
    const last = errors.at(-1) as { code?: unknown } | undefined;
    this.code = typeof last?.code === 'string' ? last.code : undefined;
  }
}

/**
 * A pool for `url`. One host and no target_session_attrs (or `any`): node-postgres' own pool on
 * the URL, exactly as before. Several hosts or target_session_attrs=read-write: a pool whose
 * connections go to the first usable host, as libpq's (see failoverPool).
 */
export function createPgPool(url: string, options: PgPoolOptions): pg.Pool {
  const cs = parseConnectionString(url);
  if (cs.hosts.length < 2 && cs.targetSessionAttrs === 'any') {
    return new pg.Pool({ ...options, connectionString: url });
  }
  return failoverPool(cs, options);
}

/**
 * SQLSTATE read_only_sql_transaction on a connection that was accepted as read-write: its
 * server was demoted (a switchover), and the connection must not go back to the pool.
 */
const DEMOTED_SQLSTATE = '25006';

/**
 * Every new connection starts at the host that last worked and moves to the next one of the
 * list when the host cannot be reached or, for read-write, when `SHOW transaction_read_only` is
 * not off (what libpq checks: a promoted standby can be out of recovery and still read-only).
 * One `connect()` tries each host once; when none is usable it fails (a 503 for a request).
 * A connection that later meets a read-only server (SQLSTATE 25006) is closed when released,
 * so the pool reconnects to the new primary; a connection the server closed (a shutdown,
 * 57P01) is dropped by pg-pool itself.
 */
function failoverPool(cs: ConnectionString, options: PgPoolOptions): pg.Pool {
  const hosts = cs.hosts;
  const urls = hosts.map((host) => urlForHost(cs, host));
  const readWrite = cs.targetSessionAttrs === 'read-write';
  let current = 0;
  /** Errors that mean "this host is not usable now": connect() tries the next one. */
  const hostFailures = new WeakSet<object>();
  const hostFailed = (index: number, error: unknown): unknown => {
    if (current === index) current = (index + 1) % hosts.length;
    if (typeof error === 'object' && error !== null) hostFailures.add(error);
    return error;
  };
  const isHostFailure = (error: unknown): boolean =>
    typeof error === 'object' &&
    error !== null &&
    (hostFailures.has(error) ||
      (typeof (error as { cause?: unknown }).cause === 'object' &&
        hostFailures.has((error as { cause: object }).cause)));

  type Release = (err?: unknown) => void;

  class HostClient extends pg.Client {
    readonly #index: number;
    /** The server answered 25006: it is not the primary any more. */
    #demoted = false;
    #release: Release | undefined;

    constructor(config?: pg.ClientConfig) {
      const index = current;
      super({ ...config, connectionString: urls[index] as string });
      this.#index = index;
    }

    override connect(): Promise<pg.Client>;
    override connect(
      callback: ((err: Error) => void) | ((err: null, client: pg.Client) => void),
    ): void;
    override connect(
      callback?: ((err: Error) => void) | ((err: null, client: pg.Client) => void),
    ): Promise<pg.Client> | undefined {
      const connected = this.#connectToUsableServer().then(() => this);
      if (!callback) return connected;
      const done = callback as (err: Error | null, client?: pg.Client) => void;
      connected.then((client) => done(null, client), done);
      return undefined;
    }

    async #connectToUsableServer(): Promise<void> {
      // pg-pool listens for this client's errors only once connect() has settled; until then
      // (the check, the close of a refused server) an error event, e.g. the server terminating
      // the session, must not go unheard: it would end the process.
      let broken: unknown;
      const onError = (error: unknown) => {
        broken ??= error;
      };
      this.on('error', onError);
      const refuse = async (error: unknown): Promise<never> => {
        await this.end().catch(() => {});
        // The client is closed and the pool drops it: later errors are of no interest.
        throw hostFailed(this.#index, error);
      };
      try {
        await super.connect();
      } catch (error) {
        throw hostFailed(this.#index, error);
      }
      if (readWrite) {
        let readOnly: boolean;
        try {
          const { rows } = await super.query<{ transaction_read_only: string }>(
            'SHOW transaction_read_only',
          );
          readOnly = rows[0]?.transaction_read_only !== 'off';
        } catch (error) {
          return refuse(error);
        }
        if (readOnly) return refuse(new ReadOnlyServerError(hosts[this.#index] as HostPort));
      }
      if (broken !== undefined) return refuse(broken);
      this.removeListener('error', onError);
    }

    // biome-ignore lint/suspicious/noExplicitAny: pg's query has many overloads; all pass through
    override query(...args: any[]): any {
      const last = args.at(-1);
      if (typeof last === 'function') {
        args[args.length - 1] = (error: unknown, result: unknown) => {
          this.#noteError(error);
          last(error, result);
        };
      }
      const result = (pg.Client.prototype.query as (...a: unknown[]) => unknown).apply(this, args);
      if (result instanceof Promise) result.catch((error: unknown) => this.#noteError(error));
      return result;
    }

    #noteError(error: unknown): void {
      if (readWrite && (error as { code?: unknown } | null)?.code === DEMOTED_SQLSTATE) {
        this.#demoted = true;
        hostFailed(this.#index, undefined);
      }
    }

    // pg-pool hands each checkout a `release` by assigning it to the client: released from a
    // demoted server, the connection is given an error, so the pool closes it.
    get release(): Release | undefined {
      return this.#release;
    }

    set release(release: Release | undefined) {
      this.#release =
        release &&
        ((err?: unknown) =>
          release(err || (this.#demoted ? new Error('the server became read-only') : err)));
    }
  }

  class FailoverPool extends pg.Pool {
    override connect(): Promise<pg.PoolClient>;
    override connect(
      callback: (
        err: Error | undefined,
        client: pg.PoolClient | undefined,
        done: (release?: unknown) => void,
      ) => void,
    ): void;
    override connect(
      callback?: (
        err: Error | undefined,
        client: pg.PoolClient | undefined,
        done: (release?: unknown) => void,
      ) => void,
    ): Promise<pg.PoolClient> | undefined {
      const attempt = async (): Promise<pg.PoolClient> => {
        const errors: unknown[] = [];
        for (let i = 0; i < hosts.length; i++) {
          try {
            return await super.connect();
          } catch (error) {
            if (!isHostFailure(error)) throw error;
            errors.push(error);
          }
        }
        throw hosts.length === 1 ? errors[0] : new NoUsableServerError(errors, cs);
      };
      if (!callback) return attempt();
      attempt().then(
        (client) => callback(undefined, client, client.release as (release?: unknown) => void),
        (error: Error) => callback(error, undefined, () => {}),
      );
      return undefined;
    }
  }

  return new FailoverPool({ ...options, Client: HostClient });
}
