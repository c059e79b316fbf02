import { type Kysely, sql } from 'kysely';

/**
 * Changed since (issue 15, point 3): incremental sync of children, units, enrolments and
 * assessments, and a change feed per unit.
 *
 * - `updated_at` is the sync key of children, units and enrolments. The services stamp it on
 *   every change they make; a trigger stamps it (transaction time) when a statement changed a
 *   row without touching it (an erasure, an import, an operator's SQL), so no change path can
 *   leave a changed row behind a sync cursor.
 * - Indexes on (municipality_id, updated_at, id) serve `updatedSince` lists in keyset order;
 *   assessments are append-only apart from their status (superseded, withdrawn), so their key is
 *   `coalesce(status_changed_at, created_at)`.
 * - `events.unit_id`: the unit an event concerns (of its recommendation, step or flag), filled
 *   on insert by a trigger and backfilled here, so that a unit-limited key can read the feed of
 *   its units. Concern reports belong to no unit (NULL).
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION lineal_touch_updated_at() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.updated_at IS NOT DISTINCT FROM OLD.updated_at
         AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        NEW.updated_at := greatest(now(), OLD.updated_at + interval '1 microsecond');
      END IF;
      RETURN NEW;
    END $$
  `.execute(db);
  for (const table of ['children', 'units', 'enrolments']) {
    await sql`
      CREATE TRIGGER ${sql.raw(`${table}_touch_updated_at`)}
        BEFORE UPDATE ON ${sql.table(table)}
        FOR EACH ROW EXECUTE FUNCTION lineal_touch_updated_at()
    `.execute(db);
    await sql`
      CREATE INDEX ${sql.raw(`${table}_municipality_updated_idx`)}
        ON ${sql.table(table)} (municipality_id, updated_at, id)
    `.execute(db);
  }
  await sql`
    CREATE INDEX assessments_municipality_changed_idx
      ON assessments (municipality_id, (coalesce(status_changed_at, created_at)), id)
  `.execute(db);

  await sql`ALTER TABLE events ADD COLUMN unit_id uuid`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_event_unit() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF NEW.unit_id IS NULL THEN
        NEW.unit_id := CASE NEW.subject_type
          WHEN 'recommendation' THEN
            (SELECT unit_id FROM recommendations WHERE id = NEW.subject_id)
          WHEN 'step' THEN
            (SELECT unit_id FROM recommendation_steps WHERE id = NEW.subject_id)
          WHEN 'flag' THEN
            (SELECT unit_id FROM flags WHERE id = NEW.subject_id)
          ELSE NULL
        END;
      END IF;
      RETURN NEW;
    END $$
  `.execute(db);
  await sql`
    CREATE TRIGGER events_unit BEFORE INSERT ON events
      FOR EACH ROW EXECUTE FUNCTION lineal_event_unit()
  `.execute(db);
  await sql`
    UPDATE events e SET unit_id = CASE e.subject_type
      WHEN 'recommendation' THEN (SELECT unit_id FROM recommendations WHERE id = e.subject_id)
      WHEN 'step' THEN (SELECT unit_id FROM recommendation_steps WHERE id = e.subject_id)
      WHEN 'flag' THEN (SELECT unit_id FROM flags WHERE id = e.subject_id)
      ELSE NULL
    END
  `.execute(db);
  await sql`
    CREATE INDEX events_unit_feed_idx ON events (unit_id, tx_id, id) WHERE unit_id IS NOT NULL
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP INDEX events_unit_feed_idx`.execute(db);
  await sql`DROP TRIGGER events_unit ON events`.execute(db);
  await sql`DROP FUNCTION lineal_event_unit()`.execute(db);
  await sql`ALTER TABLE events DROP COLUMN unit_id`.execute(db);
  await sql`DROP INDEX assessments_municipality_changed_idx`.execute(db);
  for (const table of ['children', 'units', 'enrolments']) {
    await sql`DROP INDEX ${sql.raw(`${table}_municipality_updated_idx`)}`.execute(db);
    await sql`DROP TRIGGER ${sql.raw(`${table}_touch_updated_at`)} ON ${sql.table(table)}`.execute(
      db,
    );
  }
  await sql`DROP FUNCTION lineal_touch_updated_at()`.execute(db);
}
