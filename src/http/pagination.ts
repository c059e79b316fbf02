import { z } from 'zod';
import { BadRequestError } from '../errors.js';

/** Query parameters of every cursor-paginated list. */
export const PageQuerySchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50).describe('Items per page (1–200).'),
  cursor: z
    .string()
    .max(500)
    .optional()
    .describe('The `nextCursor` of the previous page; omit for the first page.'),
});

export function pageSchema<T extends z.ZodType>(item: T) {
  return z.object({
    items: z.array(item),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `cursor` to get the next page; null on the last page.'),
  });
}

/** A timestamp as PostgreSQL prints `timestamptz::text` (the exact keyset key). */
export const PgTimestampSchema = z
  .string()
  .regex(/^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{1,6})?[+-]\d\d(:\d\d){0,2}$/);

/** Opaque cursors: the sort key of the last item, base64url-encoded JSON. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key), 'utf8').toString('base64url');
}

export function decodeCursor<T extends z.ZodType>(cursor: string, schema: T): z.output<T> {
  try {
    const parsed = schema.safeParse(JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')));
    if (parsed.success) return parsed.data;
  } catch {
    // fall through
  }
  throw new BadRequestError('The cursor is not valid; use the nextCursor of a previous page.', [
    {
      path: 'query.cursor',
      message: 'is not a cursor issued by this list',
      code: 'invalid_cursor',
    },
  ]);
}

/** Splits a `limit + 1` row fetch into a page and the cursor of its last item. */
export function toPage<R, I>(
  rows: R[],
  limit: number,
  map: (row: R) => I,
  keyOf: (row: R) => readonly (string | number)[],
): { items: I[]; nextCursor: string | null } {
  const hasMore = rows.length > limit;
  const pageRows = hasMore ? rows.slice(0, limit) : rows;
  const last = pageRows[pageRows.length - 1];
  return {
    items: pageRows.map(map),
    nextCursor: hasMore && last !== undefined ? encodeCursor(keyOf(last)) : null,
  };
}

/** `updatedSince` of the lists a sync reads incrementally (children, units, enrolments, ...). */
export const UpdatedSinceSchema = z.iso
  .datetime({ offset: true })
  .describe(
    'RFC 3339 timestamp: only items changed at or after it, oldest change first (order ' +
      '`updatedAt`, `id`); page on with `nextCursor`. Save the `updatedAt` of the last item ' +
      'and start the next sync from it (minus a few minutes of overlap, for changes committed late).',
  );

/** The keyset of a list in change order: (updated_at as `timestamptz::text`, id). */
export const changedCursorSchema = z.tuple([PgTimestampSchema, z.uuid()]);
