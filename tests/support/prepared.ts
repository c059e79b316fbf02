import { type Kysely, sql } from 'kysely';
import { expect } from 'vitest';

/**
 * What both engines promise of parameterised statements on one connection (the PostgreSQL pool,
 * src/db/postgres.ts; PGlite's driver, src/db/pglite-driver.ts): each is parsed once and reused
 * with the same results, a page whose size is a parameter is planned per call, and no more than
 * `bound` are kept. Returns the statements kept at the end.
 */
// biome-ignore lint/suspicious/noExplicitAny: runs on any schema
export async function expectStatementsPreparedOnce(db: Kysely<any>, bound: number) {
  const prepared = async () =>
    (
      await sql<{ statement: string }>`SELECT statement FROM pg_prepared_statements`.execute(db)
    ).rows.map((r) => r.statement);
  const plusOne = (n: number) => sql<{ v: number }>`SELECT ${n}::int + 1 AS v`.execute(db);

  expect((await plusOne(1)).rows).toEqual([{ v: 2 }]);
  expect((await plusOne(41)).rows).toEqual([{ v: 42 }]);
  expect((await prepared()).filter((s) => s.includes('::int + 1 AS v'))).toHaveLength(1);

  // A page whose size is a parameter is planned per call (a generic plan cannot know it).
  for (let i = 0; i < 3; i++) {
    const { rows } = await sql<{
      v: number;
    }>`SELECT g AS v FROM generate_series(1, 5) g ORDER BY g LIMIT ${2}`.execute(db);
    expect(rows).toEqual([{ v: 1 }, { v: 2 }]);
  }
  expect((await prepared()).some((s) => s.includes('generate_series(1, 5)'))).toBe(false);

  // More distinct statements than the bound: all answer correctly, at most the bound is kept.
  for (let i = 0; i < bound + 20; i++) {
    const { rows } = await sql<{ v: number }>`SELECT ${10}::int + ${sql.lit(i)} AS v`.execute(db);
    expect(rows).toEqual([{ v: 10 + i }]);
  }
  const kept = await prepared();
  expect(kept.length).toBeLessThanOrEqual(bound);
  return kept;
}
