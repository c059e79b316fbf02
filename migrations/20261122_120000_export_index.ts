import { type Kysely, sql } from 'kysely';

/**
 * Exports page through a municipality's current assessments by (assessed_on, id); without this
 * index every page would scan them all.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX assessments_current_by_date_idx
      ON assessments (municipality_id, assessed_on, id) WHERE status = 'current'
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX assessments_current_by_date_idx`.execute(db);
}
