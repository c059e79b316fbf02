import { sql } from 'kysely';
import { z } from 'zod';
import type { Executor } from '../../db/database.js';
import { decodeCursor, encodeCursor } from '../../http/pagination.js';
import type { EventPayload, EventType } from './payloads.js';

/**
 * The change feed. Every recommendation, step status change, flag and acknowledgement appends
 * an event in the same transaction as the change. Readers page by (transaction id, event id)
 * and only see transactions older than every one still running, so the order is stable and no
 * event can be committed behind a cursor a reader has passed.
 */
export { type EventType, eventTypes } from './payloads.js';

/** An event to append: its payload typed by its type (payloads.ts). */
export type NewEvent = {
  [T in EventType]: {
    municipalityId: string;
    type: T;
    childId: string | null;
    subjectType: 'recommendation' | 'step' | 'flag' | 'concern_report' | 'parent_notice';
    subjectId: string;
    payload: EventPayload<T>;
  };
}[EventType];

export async function appendEvents(db: Executor, events: readonly NewEvent[]): Promise<void> {
  // In chunks: one INSERT's bind parameters are limited (65,535); a round's flags can be more.
  for (let at = 0; at < events.length; at += INSERT_CHUNK) {
    await insertEvents(db, events.slice(at, at + INSERT_CHUNK));
  }
}

/** Rows per INSERT where a statement can carry thousands (6–12 parameters a row). */
export const INSERT_CHUNK = 1000;

async function insertEvents(db: Executor, events: readonly NewEvent[]): Promise<void> {
  await db
    .insertInto('events')
    .values(
      events.map((e) => ({
        municipality_id: e.municipalityId,
        type: e.type,
        child_id: e.childId,
        subject_type: e.subjectType,
        subject_id: e.subjectId,
        payload: sql`${JSON.stringify(e.payload)}::jsonb`,
      })),
    )
    .execute();
}

const cursorSchema = z.tuple([z.string().regex(/^\d{1,20}$/), z.number().int().positive()]);

export async function readEvents(
  db: Executor,
  municipalityId: string,
  page: {
    cursor?: string | undefined;
    limit: number;
    /** Only the events of these units (a unit-limited reader); events of no unit excluded. */
    unitIds?: readonly string[] | undefined;
  },
) {
  const after = page.cursor ? decodeCursor(page.cursor, cursorSchema) : undefined;
  let query = db
    .selectFrom('events')
    .select([
      'id',
      sql<string>`tx_id::text`.as('tx_id'),
      'type',
      'child_id',
      'subject_type',
      'subject_id',
      'unit_id',
      'payload',
      'created_at',
    ])
    .where('municipality_id', '=', municipalityId)
    .where(sql<boolean>`tx_id < pg_snapshot_xmin(pg_current_snapshot())`)
    // Qualified: a bare `tx_id` here would name the text column selected above, and sort
    // transaction 1000 before 999.
    .orderBy('events.tx_id')
    .orderBy('events.id')
    .limit(page.limit + 1);
  if (after) {
    query = query.where(sql<boolean>`(tx_id, id) > (${after[0]}::xid8, ${after[1]}::bigint)`);
  }
  if (page.unitIds) query = query.where('unit_id', 'in', page.unitIds);
  const rows = await query.execute();
  const items = rows.slice(0, page.limit);
  const last = items[items.length - 1];
  return {
    items,
    // The cursor of the last event returned; the feed continues from there, also when empty.
    nextCursor: last ? encodeCursor([last.tx_id, Number(last.id)]) : (page.cursor ?? null),
    hasMore: rows.length > page.limit,
  };
}
