import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import { readEvents } from '../../src/features/events/outbox.js';
import { describeEngines } from '../support/engines.js';
import { createTenant } from '../support/factories.js';

describeEngines('event feed order', (t) => {
  it('orders by transaction id as a number, also across a digit boundary (99 → 100)', async () => {
    const { municipality } = await createTenant(t);
    await t.asOwner((db) =>
      sql`
        INSERT INTO events (tx_id, municipality_id, type, subject_type, subject_id, payload)
        SELECT x::text::xid8, ${municipality.id}::uuid, 'test', 'test', gen_random_uuid(), '{}'
        FROM unnest(ARRAY[100, 99, 10, 9]) AS x
      `.execute(db),
    );
    const read = (cursor?: string) =>
      t.database.transaction(municipalityScope(municipality.id), (trx) =>
        readEvents(trx, municipality.id, { cursor, limit: 2 }),
      );
    const first = await read();
    const second = await read(first.nextCursor ?? undefined);
    expect([...first.items, ...second.items].map((e) => e.tx_id)).toEqual(['9', '10', '99', '100']);
  });
});
