import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { PREPARED_PER_CONNECTION } from '../../src/db/postgres.js';
import { availableEngines, openTestDatabase } from '../support/engines.js';
import { TEST_PLAN_CACHE_MODE } from '../support/postgres-admin.js';
import { expectStatementsPreparedOnce } from '../support/prepared.js';

/*
 * The PostgreSQL pool prepares parameterised statements per connection (src/db/postgres.ts):
 * planning was most of the database's time for a read. PGlite's one connection does the same
 * (src/db/pglite-driver.ts, tests/db/pglite-driver.test.ts).
 */
describe.skipIf(!availableEngines().includes('postgres'))(
  'prepared statements (PostgreSQL)',
  () => {
    it('prepares each parameterised statement once per connection, bounded, with the same results', async () => {
      const { database, drop } = await openTestDatabase('postgres');
      try {
        await database.db.connection().execute(async (db) => {
          const prepared = async () =>
            (
              await sql<{
                statement: string;
              }>`SELECT statement FROM pg_prepared_statements`.execute(db)
            ).rows.map((r) => r.statement);
          // The PostgreSQL pass plans every statement of the app role generically (issue 12).
          const mode = await sql<{ plan_cache_mode: string }>`SHOW plan_cache_mode`.execute(db);
          expect(mode.rows).toEqual([{ plan_cache_mode: TEST_PLAN_CACHE_MODE }]);
          expect(TEST_PLAN_CACHE_MODE).toBe('force_generic_plan');

          // A statement without parameters stays a simple query.
          expect((await sql<{ one: number }>`SELECT 1 AS one`.execute(db)).rows).toEqual([
            { one: 1 },
          ]);
          expect((await prepared()).some((s) => s.includes('SELECT 1 AS one'))).toBe(false);

          const kept = await expectStatementsPreparedOnce(db, PREPARED_PER_CONNECTION);
          expect(kept.filter((s) => s.includes('::int + ')).length).toBeGreaterThan(100);
        });

        // Transactions and their scope work as before on prepared statements (row-level security
        // reads the transaction's scope at execution, not at preparation).
        const scoped = async (municipalityId: string) =>
          database.transaction({ kind: 'municipality', municipalityId }, async (trx) => {
            const { rows } = await sql<{
              m: string | null;
            }>`SELECT lineal_current_municipality()::text AS m, ${1}::int AS x`.execute(trx);
            return rows[0]?.m;
          });
        const a = '6f1d2d55-1111-4c4c-8d8d-000000000001';
        const b = '6f1d2d55-1111-4c4c-8d8d-000000000002';
        for (let i = 0; i < 8; i++) {
          expect(await scoped(a)).toBe(a);
          expect(await scoped(b)).toBe(b);
        }
      } finally {
        await drop();
      }
    });
  },
);
