import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { PGLITE_PREPARED_MAX } from '../../src/db/pglite-driver.js';
import { openTestDatabase } from '../support/engines.js';
import { expectStatementsPreparedOnce } from '../support/prepared.js';

/*
 * The embedded engine sends each statement as one protocol message and parses a parameterised
 * statement once (src/db/pglite-driver.ts), as the PostgreSQL pool prepares per connection.
 */
describe('PGlite driver', () => {
  it('parses each parameterised statement once, bounded, with the same results', async () => {
    const { database, drop } = await openTestDatabase('pglite');
    try {
      await expectStatementsPreparedOnce(database.db, PGLITE_PREPARED_MAX);
    } finally {
      await drop();
    }
  });

  it('encodes parameters as node-postgres does and parses results with the app parsers', async () => {
    const { database, drop } = await openTestDatabase('pglite');
    try {
      const at = new Date('2026-11-22T09:30:00.000Z');
      const { rows } = await sql<{
        at: Date;
        day: string;
        tags: string[];
        doc: unknown;
        none: string | null;
        yes: boolean;
        n: number;
        bytes: Uint8Array;
      }>`SELECT ${at}::timestamptz AS at, ${'2026-02-28'}::date AS day,
                ${['a', 'b,c', 'd"e']}::text[] AS tags, ${JSON.stringify({ k: [1, 'x'] })}::jsonb AS doc,
                ${null}::text AS none, ${true}::boolean AS yes, count(*) AS n,
                ${Buffer.from([0, 1, 255])}::bytea AS bytes
         FROM generate_series(1, 3)`.execute(database.db);
      expect(rows).toHaveLength(1);
      const row = rows[0];
      expect(row?.at.toISOString()).toBe(at.toISOString());
      expect(row?.day).toBe('2026-02-28');
      expect(row?.tags).toEqual(['a', 'b,c', 'd"e']);
      expect(row?.doc).toEqual({ k: [1, 'x'] });
      expect(row?.none).toBeNull();
      expect(row?.yes).toBe(true);
      expect(row?.n).toBe(3);
      expect([...(row?.bytes ?? [])]).toEqual([0, 1, 255]);
    } finally {
      await drop();
    }
  });

  it('reports a failed statement and stays usable, in and out of a transaction', async () => {
    const { database, drop } = await openTestDatabase('pglite');
    try {
      const db = database.db;
      const fail = sql`SELECT 1 / ${0}::int AS v`;
      await expect(fail.execute(db)).rejects.toThrow(/division by zero/);
      // The same statement again (it was never named) and another one.
      await expect(fail.execute(db)).rejects.toThrow(/division by zero/);
      expect((await sql<{ v: number }>`SELECT ${2}::int AS v`.execute(db)).rows).toEqual([
        { v: 2 },
      ]);

      await expect(
        db.transaction().execute(async (trx) => {
          await sql`CREATE TEMP TABLE t (v int)`.execute(trx);
          await sql`INSERT INTO t VALUES (${1})`.execute(trx);
          await fail.execute(trx);
        }),
      ).rejects.toThrow(/division by zero/);
      // Rolled back: the table is gone, and the session is out of the failed transaction.
      const { rows } = await sql<{
        found: string | null;
      }>`SELECT to_regclass('pg_temp.t')::text AS found`.execute(db);
      expect(rows).toEqual([{ found: null }]);

      const inserted = await db.transaction().execute(async (trx) => {
        await sql`CREATE TEMP TABLE u (v int)`.execute(trx);
        const r = await sql`INSERT INTO u VALUES (${1}), (${2})`.execute(trx);
        return r.numAffectedRows;
      });
      expect(inserted).toBe(2n);
    } finally {
      await drop();
    }
  });
});
