import { type Kysely, sql } from 'kysely';

/**
 * A version of each municipality's analytics (issue 17): what the protected zone and transition
 * cubes are computed from changes only when one of these does — the maintained counts
 * (`zone_counts`, `transition_counts`), a unit (name, district, kind) or a round (name, window).
 * Each such statement gives the municipality's `analytics_versions` a new random token, so the
 * service can key its cached answers by the tokens it reads (one small read) instead of reading
 * and hashing every count.
 *
 * - Several rows per municipality (slots), so that concurrent writers never wait for each other:
 *   a statement takes the first slot no other transaction has locked (SKIP LOCKED) and gives it
 *   a new token, or adds a slot when all are taken. It never waits for a lock, so it cannot
 *   deadlock with the count rows the refresh locks in key order. The number of slots is bounded
 *   by the municipality's peak of concurrent writers.
 * - A later snapshot sees every change an earlier one saw: two reads of a municipality's tokens
 *   that are equal had no committed change between them, and so saw the same counts, units and
 *   rounds. Random tokens (not a sequence) stay unique across a failover that lost commits.
 * - Written by triggers running as the owner (SECURITY DEFINER); the application role may read
 *   its municipality's rows, never write them.
 *
 * Frozen in time: never import application code here.
 */
const current = '(SELECT lineal_current_municipality())';

/** The tables whose changes change what the analytics cubes are computed from. */
const versionedTables = ['zone_counts', 'transition_counts', 'units', 'rounds'] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE analytics_versions (
      municipality_id uuid NOT NULL REFERENCES municipalities (id) ON DELETE CASCADE,
      slot integer NOT NULL,
      token uuid NOT NULL,
      PRIMARY KEY (municipality_id, slot)
    )
  `.execute(db);
  await sql`ALTER TABLE analytics_versions ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql
    .raw(
      `CREATE POLICY analytics_versions_tenant_isolation ON analytics_versions ` +
        `USING (municipality_id = ${current}) WITH CHECK (municipality_id = ${current})`,
    )
    .execute(db);
  await sql`GRANT SELECT ON analytics_versions TO lineal_app`.execute(db);

  // A new token for each municipality of the rows a statement changed (`changed`: its
  // transition table), on a slot no other transaction holds.
  await sql`
    CREATE FUNCTION lineal_analytics_versions_bump() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      m uuid;
      taken integer;
    BEGIN
      FOR m IN SELECT DISTINCT municipality_id FROM changed WHERE municipality_id IS NOT NULL LOOP
        SELECT slot INTO taken FROM analytics_versions
        WHERE municipality_id = m ORDER BY slot LIMIT 1 FOR UPDATE SKIP LOCKED;
        IF taken IS NOT NULL THEN
          UPDATE analytics_versions SET token = gen_random_uuid()
          WHERE municipality_id = m AND slot = taken;
        ELSE
          -- Every slot is held by a concurrent writer (or there is none yet): a new one, at a
          -- random number so that two concurrent writers do not pick the same.
          INSERT INTO analytics_versions (municipality_id, slot, token)
          VALUES (m, floor(random() * 2147483647)::integer, gen_random_uuid())
          ON CONFLICT DO NOTHING;
        END IF;
      END LOOP;
      RETURN NULL;
    END $$;
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_analytics_versions_bump() FROM PUBLIC`.execute(db);

  for (const table of versionedTables) {
    for (const [event, transition] of [
      ['INSERT', 'NEW'],
      ['UPDATE', 'NEW'],
      ['DELETE', 'OLD'],
    ] as const) {
      await sql
        .raw(
          `CREATE TRIGGER ${table}_analytics_version_${event.toLowerCase()} ` +
            `AFTER ${event} ON ${table} REFERENCING ${transition} TABLE AS changed ` +
            `FOR EACH STATEMENT EXECUTE FUNCTION lineal_analytics_versions_bump()`,
        )
        .execute(db);
    }
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  for (const table of versionedTables) {
    for (const event of ['insert', 'update', 'delete']) {
      await sql.raw(`DROP TRIGGER ${table}_analytics_version_${event} ON ${table}`).execute(db);
    }
  }
  await sql`DROP FUNCTION lineal_analytics_versions_bump()`.execute(db);
  await sql`DROP TABLE analytics_versions`.execute(db);
}
