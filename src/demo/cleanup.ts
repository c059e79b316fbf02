import { sql, type Transaction } from 'kysely';
import type { Database } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { DEMO_MUNICIPALITY } from './plan.js';

/** The name of the demo generator's temporary platform key: revoked when a run completes. */
export const DEMO_GENERATOR_KEY_NAME = 'Demo data generator (temporary)';

/**
 * Runs `fn` as the embedded database's superuser with triggers (the audit log's append-only
 * guard, foreign keys) switched off, in one transaction. Only the demo command does this, on the
 * embedded engine, whose data directory it holds locked.
 */
async function asSuperuser<T>(
  database: Database,
  fn: (trx: Transaction<DB>) => Promise<T>,
): Promise<T> {
  if (database.engine !== 'pglite') {
    throw new Error('removing demo data is possible only on the embedded engine');
  }
  return database.db.transaction().execute(async (trx) => {
    await sql`SET LOCAL ROLE NONE`.execute(trx);
    await sql`SET LOCAL session_replication_role = replica`.execute(trx);
    return fn(trx);
  });
}

/**
 * The demo municipality, if it exists, and whether the run that made it finished: a run that
 * did not (killed, interrupted) left its temporary platform key unrevoked.
 */
export async function demoState(
  database: Database,
): Promise<{ id: string; finished: boolean } | undefined> {
  if (database.engine !== 'pglite') return undefined;
  return asSuperuser(database, async (trx) => {
    const { rows } = await sql<{ id: string; unfinished: boolean }>`
      SELECT m.id, EXISTS (
               SELECT 1 FROM api_keys k
               WHERE k.name = ${DEMO_GENERATOR_KEY_NAME} AND k.revoked_at IS NULL
             ) AS unfinished
      FROM municipalities m WHERE m.code = ${DEMO_MUNICIPALITY.code}
    `.execute(trx);
    const row = rows[0];
    return row ? { id: row.id, finished: !row.unfinished } : undefined;
  });
}

/**
 * Removes a half-built demo municipality with every row that belongs to it (every table with a
 * municipality_id), and revokes the generator keys left behind, so that the next run starts
 * clean: the demo is all or nothing.
 */
export async function removeDemo(database: Database, municipalityId: string): Promise<void> {
  await asSuperuser(database, async (trx) => {
    const { rows } = await sql<{ table_name: string }>`
      SELECT table_name FROM information_schema.columns
      WHERE table_schema = current_schema() AND column_name = 'municipality_id'
    `.execute(trx);
    for (const { table_name } of rows) {
      await sql`DELETE FROM ${sql.table(table_name)} WHERE municipality_id = ${municipalityId}`.execute(
        trx,
      );
    }
    await sql`DELETE FROM municipalities WHERE id = ${municipalityId}`.execute(trx);
    await sql`
      UPDATE api_keys SET revoked_at = now(), revoked_by = id
      WHERE name = ${DEMO_GENERATOR_KEY_NAME} AND revoked_at IS NULL
    `.execute(trx);
  });
}
