/**
 * The app's access to the lineal API: the typed client (clients/typescript) with the session's
 * bearer token, and `load`, which keeps the last answer of each screen in IndexedDB and serves
 * it when the service cannot be reached (no connection, or 502/503/504).
 */
import {
  createLinealClient,
  type LinealClient,
  LinealProblemError,
} from '../../../clients/typescript/index.js';
import { cacheGet, cachePut } from './storage.js';

export type { Problem, Schemas } from '../../../clients/typescript/index.js';
export { LinealProblemError, unwrap } from '../../../clients/typescript/index.js';

export function apiClient(token: string): LinealClient {
  return createLinealClient({
    baseUrl: location.origin,
    apiKey: token,
    retries: 1,
    maxRetryDelayMs: 3_000,
  });
}

export interface Loaded<T> {
  data: T;
  /** True when the service could not be reached and this is the copy stored at `storedAt`. */
  offline: boolean;
  storedAt?: string;
}

/** No answer from the service and nothing stored for this screen. */
export class OfflineError extends Error {
  constructor() {
    super('offline');
    this.name = 'OfflineError';
  }
}

/** Whether an error means "the service could not be reached" rather than "it said no". */
export function isUnreachable(error: unknown): boolean {
  if (error instanceof LinealProblemError) return [502, 503, 504].includes(error.status);
  return error instanceof TypeError || error instanceof OfflineError;
}

/** Sent when the service no longer accepts the session (an expired sign-in, a revoked key). */
export const SESSION_ENDED = 'lineal:session-ended';

export async function load<T>(key: string, fetcher: () => Promise<T>): Promise<Loaded<T>> {
  try {
    const data = await fetcher();
    await cachePut(key, data);
    return { data, offline: false };
  } catch (error) {
    if (error instanceof LinealProblemError && error.status === 401) {
      window.dispatchEvent(new CustomEvent(SESSION_ENDED, { detail: error.problem.detail }));
    }
    if (!isUnreachable(error)) throw error;
    const stored = await cacheGet<T>(key);
    if (!stored) throw new OfflineError();
    return { data: stored.data, offline: true, storedAt: stored.storedAt };
  }
}
