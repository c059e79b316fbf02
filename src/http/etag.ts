import { createHash } from 'node:crypto';
import { PreconditionFailedError } from '../errors.js';

/**
 * Entity tags (RFC 9110 §8.8.3) and the two preconditions that use them (§13.1.1 If-Match,
 * §13.1.2 If-None-Match). Pure: no Fastify, no database.
 */
export interface EntityTag {
  weak: boolean;
  /** The tag between its double quotes. */
  opaque: string;
}

/** `*` or the tags of a list header; `null` for a value that is neither (answered 400). */
export type EntityTagList = '*' | EntityTag[];

// [W/] DQUOTE *etagc DQUOTE, with etagc = %x21 / %x23-7E / obs-text; then OWS and a comma or
// the end. Sticky: each match starts where the previous one ended.
const element = /[ \t]*(?:(W\/)?"([\x21\x23-\x7e\x80-\xff]*)")?[ \t]*(,|$)/y;

/**
 * Parses an If-Match / If-None-Match value: `*`, or a comma-separated list of entity tags
 * (empty list elements ignored, as RFC 9110 §5.6.1 asks). At least one tag; anything else
 * (an unquoted tag, a lower-case `w/`, a quote inside a tag) is `null`.
 */
export function parseEntityTags(value: string): EntityTagList | null {
  if (value.trim() === '*') return '*';
  const tags: EntityTag[] = [];
  element.lastIndex = 0;
  for (;;) {
    const match = element.exec(value);
    // Something other than a tag, OWS or a comma: not a list of entity tags.
    if (!match) return null;
    if (match[2] !== undefined) tags.push({ weak: match[1] !== undefined, opaque: match[2] });
    if (match[3] === '') break;
  }
  return tags.length > 0 ? tags : null;
}

export const formatEntityTag = (tag: EntityTag): string => `${tag.weak ? 'W/' : ''}"${tag.opaque}"`;

/** Strong comparison (§8.8.3.2): both strong and the same opaque tag. */
export const strongMatch = (a: EntityTag, b: EntityTag): boolean =>
  !a.weak && !b.weak && a.opaque === b.opaque;

/** Weak comparison: the same opaque tag, weak or not. */
export const weakMatch = (a: EntityTag, b: EntityTag): boolean => a.opaque === b.opaque;

/**
 * Whether If-Match holds for the resource's current tag (`null`: there is no current
 * resource): `*` matches any existing resource; a list holds when one of its tags matches the
 * current one by strong comparison (a weak tag never does).
 */
export function ifMatchHolds(condition: EntityTagList, current: EntityTag | null): boolean {
  if (current === null) return false;
  if (condition === '*') return true;
  return condition.some((tag) => strongMatch(tag, current));
}

/**
 * Whether If-None-Match holds (the request goes on; false means 304 for a GET): `*` fails for
 * any existing resource; a list fails when one of its tags matches by weak comparison.
 */
export function ifNoneMatchHolds(condition: EntityTagList, current: EntityTag | null): boolean {
  if (current === null) return true;
  if (condition === '*') return false;
  return !condition.some((tag) => weakMatch(tag, current));
}

/** JSON with every object's keys sorted: the same value gives the same text in any key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

/**
 * The strong entity tag of a representation: the first 128 bits of the SHA-256 of its
 * canonical JSON (base64url, 22 characters). The same value gives the same tag on every
 * instance and in any key order (a replayed response read back from jsonb included); any change
 * of a field (its `updatedAt` included) gives another.
 */
export function entityTagOf(representation: unknown): EntityTag {
  const digest = createHash('sha256').update(canonicalJson(representation)).digest();
  return { weak: false, opaque: digest.subarray(0, 16).toString('base64url') };
}

/** The ETag header value of a representation. */
export const etagOf = (representation: unknown): string =>
  formatEntityTag(entityTagOf(representation));

/**
 * The If-Match check of a change, made on the locked current row in the change's own
 * transaction: no header (undefined) changes unconditionally; a header that does not hold is
 * 412 and nothing is changed. `current` is the resource's representation (null: none yet).
 */
export function requireIfMatch(header: string | undefined, current: unknown, what: string): void {
  if (header === undefined) return;
  const condition = parseEntityTags(header);
  // Header schemas refuse a malformed value with 400 before the service runs.
  if (condition === null)
    throw new PreconditionFailedError('If-Match is not a list of entity tags.');
  if (!ifMatchHolds(condition, current === null ? null : entityTagOf(current))) {
    throw new PreconditionFailedError(
      current === null
        ? `If-Match: the ${what} does not exist yet; send the change without If-Match.`
        : `If-Match: the ${what} has changed since you read it (its ETag is no longer the one ` +
            'you sent). Read it again, then send your change with its new ETag.',
    );
  }
}
