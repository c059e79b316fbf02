import type { Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import type { Session } from '../../request/session.js';
import { readEvents } from './outbox.js';
import type { Event, EventQuery } from './schemas.js';

/** The municipality's change feed, in a stable order (see outbox.ts). */
export async function eventFeed(session: Session, trx: Transaction<DB>, query: EventQuery) {
  const municipalityId = session.municipalityId;
  // A unit-limited key reads the events of its units only: those of its units' recommendations,
  // steps and flags. Events of no unit (concern reports, which concern a child across units)
  // are the whole municipality's and stay out of its feed.
  const unitIds = session.access.isUnitLimited ? session.access.unitIds : undefined;
  // The feed names children by id: one search entry per page.
  session.audit({ criteria: { after: query.after ?? null, limit: query.limit } });
  const page = await readEvents(trx, municipalityId, {
    cursor: query.after,
    limit: query.limit,
    unitIds,
  });
  return {
    // The payloads were written by producers typed by their event type (NewEvent).
    items: page.items.map(
      (e) =>
        ({
          id: Number(e.id),
          type: e.type,
          occurredAt: e.created_at.toISOString(),
          childId: e.child_id,
          unitId: e.unit_id,
          subject: { type: e.subject_type, id: e.subject_id },
          data: e.payload,
        }) as Event,
    ),
    nextCursor: page.nextCursor,
    hasMore: page.hasMore,
  };
}
