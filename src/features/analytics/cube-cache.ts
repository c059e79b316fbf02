import type { Executor } from '../../db/database.js';
import type { AnalyticsFilter } from './schemas.js';

/*
 * The protected cubes and the answers made from them, cached by the municipality's analytics
 * version (migration 20261211_090000): a set of random tokens the database renews whenever the
 * counts, units or rounds the cubes are computed from change. A dashboard load asks for several
 * groupings of one filter, and an export reads the same counts as the zone distribution: each
 * cube is computed once (seconds for a large municipality) while the version stays, and an
 * answer asked again costs one small read. Nothing has to be invalidated: a change makes a new
 * version, and old entries fall out of the LRU.
 */

/** Least recently used first; at most `max` entries. */
class Lru<V> {
  readonly #entries = new Map<string, V>();
  constructor(private readonly max: number) {}

  get(key: string): V | undefined {
    const hit = this.#entries.get(key);
    if (hit !== undefined) {
      this.#entries.delete(key);
      this.#entries.set(key, hit);
    }
    return hit;
  }

  set(key: string, value: V): void {
    this.#entries.delete(key);
    this.#entries.set(key, value);
    while (this.#entries.size > this.max) {
      this.#entries.delete(this.#entries.keys().next().value as string);
    }
  }

  delete(key: string, value: V): void {
    if (this.#entries.get(key) === value) this.#entries.delete(key);
  }
}

/** Two: a dashboard's zone and transition cubes (a large one holds ~100 MB of items). */
const cubes = new Lru<Promise<unknown>>(2);
/** Answers are small (a row per group): a few dashboards' worth. */
const answers = new Lru<unknown>(64);

/** The municipality's analytics version: its tokens, in slot order ('' before any change). */
export async function analyticsVersion(db: Executor, municipalityId: string): Promise<string> {
  const slots = await db
    .selectFrom('analytics_versions')
    .select(['slot', 'token'])
    .where('municipality_id', '=', municipalityId)
    .orderBy('slot')
    .execute();
  return slots.map((s) => `${s.slot}:${s.token}`).join(',');
}

/**
 * Reads `read` after the version `before` was read, and the version again: `version` is
 * `before` when the two reads agree (nothing committed in between, so the rows are what that
 * version stands for), else undefined (the rows are answered, not cached).
 */
export async function readAtVersion<T>(
  db: Executor,
  municipalityId: string,
  before: string,
  read: () => Promise<T>,
): Promise<{ rows: T; version: string | undefined }> {
  const rows = await read();
  const after = await analyticsVersion(db, municipalityId);
  return { rows, version: after === before ? before : undefined };
}

/** A filter as a key: arrays as sets (sorted, without repeats), empty ones and order ignored. */
export function filterKey(filter: AnalyticsFilter): string {
  const entries = Object.entries(filter)
    .filter(([, value]) => value !== undefined && !(Array.isArray(value) && value.length === 0))
    .map(([name, value]) => [name, Array.isArray(value) ? [...new Set(value)].sort() : value])
    .sort(([a], [b]) => String(a).localeCompare(String(b)));
  return JSON.stringify(entries);
}

/** The cache key of `parts` at `version` (undefined when there is no version to key by). */
export function cacheKey(version: string | undefined, ...parts: unknown[]): string | undefined {
  return version === undefined ? undefined : JSON.stringify([version, ...parts]);
}

/** The cube under `key`, from the cache or computed by `build` (and kept when there is a key). */
export function cachedCube<T>(key: string | undefined, build: () => Promise<T>): Promise<T> {
  if (key === undefined) return build();
  const hit = cubes.get(key) as Promise<T> | undefined;
  if (hit) return hit;
  const computed = build();
  cubes.set(key, computed);
  // A failed computation is not kept.
  computed.catch(() => cubes.delete(key, computed));
  return computed;
}

/**
 * When an answer is asked again after a change, and its cube took long the last time (at least
 * `minRows` counted rows: seconds to compute for a large municipality, and a change comes with
 * every assessment written during a round), the last answer (no older than `maxAgeMs`) is
 * answered at once and the new one computed in the background for the next request. Smaller
 * cubes are always answered as they are now. Settable for tests.
 */
export const staleAnswers = { minRows: 2_000, maxAgeMs: 10 * 60_000 };

/** The last answer to a question, whatever version it was computed at. */
interface Kept {
  answer: unknown;
  rows: number;
  at: number;
}
const latest = new Lru<Kept>(64);
/** Questions whose answer is being computed in the background. */
const refreshing = new Set<string>();

/** Reads in a new short transaction of the request's scope (Runner.runThen's `read`). */
type ReadOn = <R>(work: (trx: Executor) => Promise<R>) => Promise<R>;

/**
 * Answers an aggregate from its protected cube through the caches above, run with
 * `Runner.runThen`: the version is read in the request's transaction (and the rows, unless an
 * answer is kept); the cube and the answer are made after it. `question` names the aggregate,
 * the municipality and everything asked (filter, groupings); `readRows` reads the finest counts;
 * `answerOf` makes the answer of rows read at `version` (undefined: not to be cached).
 */
export async function cachedAggregate<Row, T>(
  trx: Executor,
  municipalityId: string,
  question: string,
  readRows: (db: Executor) => Promise<Row[]>,
  answerOf: (rows: Row[], version: string | undefined) => Promise<T>,
): Promise<(read: ReadOn) => Promise<T>> {
  const at = (version: string) => JSON.stringify([version, question]);
  const keep = (version: string | undefined, answer: T, rows: number) => {
    if (version === undefined) return;
    answers.set(at(version), answer);
    latest.set(question, { answer, rows, at: Date.now() });
  };
  const readAt = async (db: Executor) => {
    const before = await analyticsVersion(db, municipalityId);
    return readAtVersion(db, municipalityId, before, () => readRows(db));
  };
  const before = await analyticsVersion(trx, municipalityId);
  const exact = answers.get(at(before)) as T | undefined;
  if (exact !== undefined) return async () => exact;
  const kept = latest.get(question);
  if (
    kept !== undefined &&
    kept.rows >= staleAnswers.minRows &&
    Date.now() - kept.at <= staleAnswers.maxAgeMs
  ) {
    return async (read) => {
      if (!refreshing.has(question)) {
        refreshing.add(question);
        // In the background: a failure leaves the kept answer (and the next request retries).
        read(readAt)
          .then(async ({ rows, version }) =>
            keep(version, await answerOf(rows, version), rows.length),
          )
          .catch(() => {})
          .finally(() => refreshing.delete(question));
      }
      return kept.answer as T;
    };
  }
  const { rows, version } = await readAtVersion(trx, municipalityId, before, () => readRows(trx));
  return async () => {
    const answer = await answerOf(rows, version);
    keep(version, answer, rows.length);
    return answer;
  };
}
