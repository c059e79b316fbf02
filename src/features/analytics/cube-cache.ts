import { createHash } from 'node:crypto';

/*
 * The protected cubes of the last few requests, by what they were computed from. A dashboard
 * load asks for several groupings of one filter, and an export reads the same counts as the zone
 * distribution: each is one cube, computed once (seconds for a large municipality) and reused
 * while the counts stay the same. The key is a hash of the counted rows themselves, so a write
 * that changes any count makes a new cube; nothing has to be invalidated.
 */

/** Two: a dashboard's zone and transition cubes (a large one holds ~100 MB of items). */
const MAX_ENTRIES = 2;
const entries = new Map<string, Promise<unknown>>();

/** The cube of `rows` (of one kind), from the cache or computed by `build`. */
export function cachedCube<T>(kind: string, rows: readonly object[], build: () => Promise<T>) {
  // In any order: the groupings of one filter read the same rows in different orders.
  const lines = rows.map((row) => JSON.stringify(row)).sort();
  const key = createHash('sha256')
    .update(kind)
    .update('\n')
    .update(lines.join('\n'))
    .digest('base64url');
  const hit = entries.get(key) as Promise<T> | undefined;
  if (hit) {
    // Most recently used last.
    entries.delete(key);
    entries.set(key, hit);
    return hit;
  }
  const computed = build();
  entries.set(key, computed);
  // A failed computation is not kept.
  computed.catch(() => entries.delete(key));
  while (entries.size > MAX_ENTRIES) {
    const oldest = entries.keys().next().value as string;
    entries.delete(oldest);
  }
  return computed;
}
