import pg from 'pg';

/** Someone interested in a notification channel (LISTEN/NOTIFY). */
export interface ChannelListener {
  /** A notification's payload. */
  onNotify(payload: string): void;
  /**
   * Whether notifications on the channel are being received: false until LISTEN is done and
   * whenever the listening connection is lost (a notification sent meanwhile is lost too).
   */
  onState(listening: boolean): void;
}

/** Channel names are identifiers written into LISTEN. */
const CHANNEL = /^[a-z_][a-z0-9_]{0,62}$/;

export function assertChannel(channel: string): void {
  if (!CHANNEL.test(channel)) throw new Error(`not a channel name: ${channel}`);
}

/** The listeners of each channel, and which channels are being listened to now. */
export class ChannelRegistry {
  readonly #listeners = new Map<string, Set<ChannelListener>>();
  readonly #listening = new Set<string>();

  get channels(): string[] {
    return [...this.#listeners.keys()];
  }
  isListening(channel: string): boolean {
    return this.#listening.has(channel);
  }
  /** Adds the listener; true when its channel is new. */
  add(channel: string, listener: ChannelListener): boolean {
    assertChannel(channel);
    let set = this.#listeners.get(channel);
    const added = !set;
    if (!set) {
      set = new Set();
      this.#listeners.set(channel, set);
    }
    set.add(listener);
    if (this.#listening.has(channel)) listener.onState(true);
    return added;
  }
  remove(channel: string, listener: ChannelListener): void {
    this.#listeners.get(channel)?.delete(listener);
  }
  notify(channel: string, payload: string): void {
    for (const listener of this.#listeners.get(channel) ?? []) listener.onNotify(payload);
  }
  setListening(channel: string, listening: boolean): void {
    if (listening) this.#listening.add(channel);
    else this.#listening.delete(channel);
    for (const listener of this.#listeners.get(channel) ?? []) listener.onState(listening);
  }
  /** Every channel lost at once (the connection went). */
  lostAll(): void {
    for (const channel of [...this.#listening]) this.setListening(channel, false);
  }
}

/** How the listening connection shows in pg_stat_activity. */
export const LISTENER_APPLICATION_NAME = 'lineal-listener';

export interface PostgresListenerOptions {
  url: string;
  /** Reconnection waits double from the first to the longest. */
  retryMs?: { first: number; longest: number };
  /** A listening connection that does not answer a heartbeat within this time is given up. */
  heartbeatMs?: number;
  /** The listening connection was lost (reported once per loss, not per retry). */
  onLost?: (error: Error) => void;
  connectTimeoutMs?: number;
}

/**
 * One dedicated PostgreSQL connection (not from the pool) that LISTENs on every channel asked
 * for. When it is lost (the server restarted, the backend terminated, a heartbeat unanswered),
 * every channel is reported as not listening at once, and it reconnects by itself, waiting
 * longer after each failure up to a bound, until it is closed.
 */
export class PostgresListener {
  readonly #options: Required<Omit<PostgresListenerOptions, 'onLost'>> &
    Pick<PostgresListenerOptions, 'onLost'>;
  readonly #registry = new ChannelRegistry();
  #client: pg.Client | undefined;
  #failures = 0;
  #retry: NodeJS.Timeout | undefined;
  #heartbeat: NodeJS.Timeout | undefined;
  #closed = false;

  constructor(options: PostgresListenerOptions) {
    this.#options = {
      retryMs: { first: 100, longest: 5_000 },
      heartbeatMs: 10_000,
      connectTimeoutMs: 5_000,
      ...options,
    };
  }

  listen(channel: string, listener: ChannelListener): () => void {
    if (this.#closed) throw new Error('the listener is closed');
    const added = this.#registry.add(channel, listener);
    if (!this.#client && !this.#retry) void this.#connect();
    // A channel added while connected: LISTEN on it too (a lost connection LISTENs on every
    // channel again when it reconnects).
    else if (added && this.#client) this.#listenOn(this.#client, [channel]).catch(() => {});
    return () => this.#registry.remove(channel, listener);
  }

  /** The backend process id of the listening connection, when connected (tests end it). */
  get backendPid(): number | undefined {
    return (this.#client as (pg.Client & { processID?: number }) | undefined)?.processID;
  }

  async #connect(): Promise<void> {
    this.#retry = undefined;
    if (this.#closed) return;
    const client = new pg.Client({
      connectionString: this.#options.url,
      application_name: LISTENER_APPLICATION_NAME,
      connectionTimeoutMillis: this.#options.connectTimeoutMs,
      keepAlive: true,
      keepAliveInitialDelayMillis: 10_000,
    });
    this.#client = client;
    client.on('error', (error) => this.#lost(client, error));
    client.on('end', () => this.#lost(client, new Error('the listening connection ended')));
    client.on('notification', (message) => {
      if (client === this.#client) this.#registry.notify(message.channel, message.payload ?? '');
    });
    try {
      await client.connect();
      await this.#listenOn(client, this.#registry.channels);
    } catch (error) {
      this.#lost(client, error instanceof Error ? error : new Error(String(error)));
      return;
    }
    if (client !== this.#client) return;
    this.#failures = 0;
    this.#startHeartbeat(client);
  }

  async #listenOn(client: pg.Client, channels: string[]): Promise<void> {
    for (const channel of channels) {
      assertChannel(channel);
      await client.query(`LISTEN ${channel}`);
      if (client === this.#client) this.#registry.setListening(channel, true);
    }
  }

  #startHeartbeat(client: pg.Client): void {
    clearInterval(this.#heartbeat);
    this.#heartbeat = setInterval(() => {
      if (client !== this.#client) return;
      const timeout = setTimeout(
        () => this.#lost(client, new Error('the listening connection did not answer')),
        this.#options.heartbeatMs,
      );
      client.query('SELECT 1').then(
        () => clearTimeout(timeout),
        () => clearTimeout(timeout),
      );
    }, this.#options.heartbeatMs);
    this.#heartbeat.unref();
  }

  #lost(client: pg.Client, error: Error): void {
    if (client !== this.#client) return;
    this.#client = undefined;
    clearInterval(this.#heartbeat);
    const wasListening = this.#registry.channels.some((c) => this.#registry.isListening(c));
    this.#registry.lostAll();
    client.removeAllListeners('notification');
    client.on('error', () => {});
    client.end().catch(() => {});
    if (wasListening) this.#options.onLost?.(error);
    if (this.#closed) return;
    const { first, longest } = this.#options.retryMs;
    const wait = Math.min(longest, first * 2 ** Math.min(this.#failures, 16));
    this.#failures += 1;
    this.#retry = setTimeout(() => void this.#connect(), wait);
    this.#retry.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#retry);
    this.#retry = undefined;
    clearInterval(this.#heartbeat);
    const client = this.#client;
    this.#client = undefined;
    this.#registry.lostAll();
    if (client) {
      client.removeAllListeners('notification');
      client.on('error', () => {});
      await client.end().catch(() => {});
    }
  }
}
