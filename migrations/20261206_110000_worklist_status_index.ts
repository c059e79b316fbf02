import { type Kysely, sql } from 'kysely';

/**
 * The worklists (open steps by due date, of a unit or of the municipality) read only the page
 * they return. Their indexes were partial (`WHERE status = 'open'`), which a plan can use only
 * when it knows the status is 'open': the worklist passes the status as a parameter, so a
 * generic plan (a prepared statement after a few executions, or plan_cache_mode =
 * force_generic_plan) cannot prove the predicate, read every step of the municipality through
 * another index and sorted them — its cost grew with the unit's steps. With the status as a key
 * column, after the unit (or municipality), the index answers `unit_id = $1 AND status = $2
 * ORDER BY due_on, id LIMIT $3` in order, in any plan, and the scan stops at the page's end. The
 * partial indexes are dropped: the new ones serve every query they served.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX recommendation_steps_unit_status_due_idx
      ON recommendation_steps (unit_id, status, due_on, id)
  `.execute(db);
  await sql`
    CREATE INDEX recommendation_steps_municipality_status_due_idx
      ON recommendation_steps (municipality_id, status, due_on, id)
  `.execute(db);
  await sql`DROP INDEX recommendation_steps_unit_worklist_idx`.execute(db);
  await sql`DROP INDEX recommendation_steps_worklist_idx`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE INDEX recommendation_steps_worklist_idx
      ON recommendation_steps (municipality_id, due_on, id) WHERE status = 'open'
  `.execute(db);
  await sql`
    CREATE INDEX recommendation_steps_unit_worklist_idx
      ON recommendation_steps (unit_id, due_on, id) WHERE status = 'open'
  `.execute(db);
  await sql`DROP INDEX recommendation_steps_municipality_status_due_idx`.execute(db);
  await sql`DROP INDEX recommendation_steps_unit_status_due_idx`.execute(db);
}
