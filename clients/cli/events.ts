import { type LinealClient, LinealProblemError, problemOf } from '../typescript/index.js';
import { type Output, pause } from './common.js';

export interface EventsOptions {
  after?: string;
  follow?: boolean;
  limit?: number;
  /** Milliseconds between two polls once the feed is read to its end (default 2 s). */
  pollMs?: number;
  /** The longest wait after a failure (default 60 s). */
  maxBackoffMs?: number;
  /** Stops following (SIGINT). */
  signal?: AbortSignal;
}

/**
 * `lineal events`: the event feed from `--after` (or the start), one event per line (NDJSON)
 * on stdout. Without --follow it stops at the end of the feed; with it, it keeps polling, and
 * after a failure (the service restarting, the network) waits longer each time (up to a minute)
 * and goes on from the last event printed, so nothing is skipped or printed twice. On SIGINT it
 * stops and prints, on stderr, the cursor to resume from.
 */
export async function followEvents(
  client: LinealClient,
  options: EventsOptions,
  out: Output,
): Promise<number> {
  let cursor = options.after;
  let failures = 0;
  const limit = options.limit ?? 500;
  for (;;) {
    if (options.signal?.aborted) break;
    let page: Awaited<ReturnType<typeof read>>;
    try {
      page = await read(client, cursor, limit);
      failures = 0;
    } catch (error) {
      // A refusal (a bad cursor, a revoked key) will not change by waiting.
      if (!options.follow || isRefusal(error)) throw error;
      failures += 1;
      const wait = Math.min(options.maxBackoffMs ?? 60_000, 1000 * 2 ** (failures - 1));
      out.info(`events: ${describe(error)}; retrying in ${Math.round(wait / 1000)} s`);
      await pause(wait, options.signal);
      continue;
    }
    for (const event of page.items) await out.write(`${JSON.stringify(event)}\n`);
    if (page.nextCursor) cursor = page.nextCursor;
    if (page.hasMore) continue;
    if (!options.follow) break;
    await pause(options.pollMs ?? 2000, options.signal);
  }
  if (cursor) out.info(`Resume with --after ${cursor}`);
  return 0;
}

async function read(client: LinealClient, cursor: string | undefined, limit: number) {
  const result = await client.GET('/v1/events', {
    params: { query: { limit, ...(cursor ? { after: cursor } : {}) } },
  });
  if (!result.data) throw new LinealProblemError(problemOf(result.error, result.response));
  return result.data;
}

function isRefusal(error: unknown): boolean {
  return (
    error instanceof LinealProblemError &&
    error.status >= 400 &&
    error.status < 500 &&
    error.status !== 408 &&
    error.status !== 429
  );
}

function describe(error: unknown): string {
  if (error instanceof LinealProblemError) return error.message;
  const cause = (error as { cause?: { code?: string } }).cause?.code;
  return cause ?? (error instanceof Error ? error.message : String(error));
}
