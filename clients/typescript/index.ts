/**
 * A typed client of the lineal API: openapi-fetch over the types openapi-typescript generates
 * from openapi/openapi.json (schema.d.ts; `npm run client:generate`). Every path, parameter,
 * body and response is typed; a problem answer becomes a LinealProblemError carrying the RFC
 * 9457 problem; 429 and 503 are retried after their Retry-After.
 *
 *   const lineal = createLinealClient({ baseUrl: 'https://lineal.example.dk', apiKey });
 *   const unit = unwrap(await lineal.POST('/v1/units', { body: { name: 'Solsikken', kind: 'kindergarten' } }));
 *   for await (const child of items((cursor) => lineal.GET('/v1/children', { params: { query: { cursor } } })))
 */
import createClient, { type Client } from 'openapi-fetch';
import type { components, paths } from './schema.js';

export type { components, operations, paths } from './schema.js';

export type Schemas = components['schemas'];
export type Problem = Schemas['Problem'];
export type LinealClient = Client<paths>;

export interface LinealClientOptions {
  /** The deployment, e.g. `https://lineal.example.dk` (no `/v1`). */
  baseUrl: string;
  /** An API key, `lnl_<id>_<secret>`. */
  apiKey: string;
  /** The fetch to use (default: the global one). */
  fetch?: typeof fetch;
  /** How often a 429 or 503 is retried after its Retry-After (default 3; 0: never). */
  retries?: number;
  /** The longest wait for one retry, in milliseconds (default 30 s). */
  maxRetryDelayMs?: number;
}

/** A problem answer (4xx/5xx) of the API, or a failure to reach it. */
export class LinealProblemError extends Error {
  readonly problem: Problem;
  readonly status: number;

  constructor(problem: Problem) {
    super(`${problem.title}: ${problem.detail}`);
    this.name = 'LinealProblemError';
    this.problem = problem;
    this.status = problem.status;
  }
}

function isProblem(value: unknown): value is Problem {
  if (typeof value !== 'object' || value === null) return false;
  const p = value as Record<string, unknown>;
  return typeof p.title === 'string' && typeof p.status === 'number';
}

/** The problem of a failed response (a synthetic one when the body is not a problem). */
export function problemOf(error: unknown, response: Response): Problem {
  if (isProblem(error)) return error;
  return {
    type: 'about:blank',
    title: response.statusText || `HTTP ${response.status}`,
    status: response.status,
    detail: typeof error === 'string' ? error.slice(0, 500) : 'The answer was not a problem.',
    instance: new URL(response.url || 'http://unknown/').pathname,
    requestId: response.headers.get('x-request-id') ?? '',
  };
}

/** The data of a successful answer; a problem answer is thrown as a LinealProblemError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (!result.response.ok || result.data === undefined) {
    throw new LinealProblemError(problemOf(result.error, result.response));
  }
  return result.data;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

const IDEMPOTENT = new Set(['GET', 'HEAD', 'PUT', 'DELETE', 'OPTIONS']);

/**
 * A fetch that retries 429 and 503 answers after their Retry-After (a rate-limit window, a
 * database restart or failover), up to `retries` times. A 429 was refused before any work, so
 * any request is sent again; after a 503 only a request that is safe to repeat (GET, PUT,
 * DELETE, or one with an Idempotency-Key) is, since a 503 can come after the work was done.
 * Bodies are kept to be sent again: not for large streamed uploads (use plain fetch there).
 */
export function retryingFetch(
  inner: typeof fetch,
  { retries = 3, maxRetryDelayMs = 30_000 }: { retries?: number; maxRetryDelayMs?: number } = {},
): typeof fetch {
  return async (input, init) => {
    const template = new Request(input, init);
    const repeatable = IDEMPOTENT.has(template.method) || template.headers.has('idempotency-key');
    for (let attempt = 0; ; attempt++) {
      const response = await inner(template.clone());
      const retry = response.status === 429 || (response.status === 503 && repeatable);
      if (!retry || attempt >= retries) return response;
      const seconds = Number(response.headers.get('retry-after'));
      const delay = Math.min(
        maxRetryDelayMs,
        Number.isFinite(seconds) && seconds > 0 ? seconds * 1000 : 1000 * 2 ** attempt,
      );
      await response.body?.cancel();
      await sleep(delay);
    }
  };
}

/** A client of one deployment, authenticated with one API key. */
export function createLinealClient(options: LinealClientOptions): LinealClient {
  const inner = options.fetch ?? globalThis.fetch;
  return createClient<paths>({
    baseUrl: options.baseUrl.replace(/\/+$/, ''),
    headers: { authorization: `Bearer ${options.apiKey}` },
    fetch: retryingFetch(inner, {
      ...(options.retries !== undefined ? { retries: options.retries } : {}),
      ...(options.maxRetryDelayMs !== undefined
        ? { maxRetryDelayMs: options.maxRetryDelayMs }
        : {}),
    }),
  });
}

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Every item of a cursor-paginated list, page by page: `fetchPage` gets the cursor (undefined
 * for the first page) and answers the openapi-fetch result.
 */
export async function* items<T>(
  fetchPage: (
    cursor: string | undefined,
  ) => Promise<{ data?: Page<T>; error?: unknown; response: Response }>,
): AsyncGenerator<T> {
  let cursor: string | undefined;
  do {
    const page = unwrap(await fetchPage(cursor));
    yield* page.items;
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
}
