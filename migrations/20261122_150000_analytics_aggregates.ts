import { type Kysely, sql } from 'kysely';

/**
 * Analytics aggregates maintained as assessments are written, so that the zone distribution and
 * the transition matrices cost what their number of groups costs, not a scan of all history.
 *
 * - `round_assessment_facts`: one row per current assessment in a round, with the dimensions it
 *   is counted under (unit, age band at the round's window start, sex, birth-year cohort, zone)
 *   and whether it is the child's latest current assessment in that round (assessed_on DESC,
 *   created_at DESC, id). The stored dimensions are what the counts hold for the row, so a change
 *   is applied by subtracting the stored rows and adding the recomputed ones.
 * - `zone_counts`: current assessments in rounds per (round, unit, age band, sex, cohort, zone).
 * - `transition_counts`: children per (from round, to round, zone in each) for every ordered pair
 *   of rounds a child is in (both directions, and a round with itself), counted under the
 *   dimensions of its latest assessment in the to-round.
 * - `zone_totals`, `transition_totals`: the same per round (pair) and zone(s) only, for the
 *   requests that neither group nor filter by anything but the round: their cost stays flat as
 *   units are added. Each is split over 16 slots by a hash of the child, so that concurrent
 *   writers rarely wait for the same row.
 *
 * Statement-level triggers on assessments (insert, update, delete: erasure deletes them), on
 * children (sex, birth date) and on rounds (window start) note the affected (child, round) pairs
 * (`analytics_pending`); when the transaction commits, the pairs are recomputed from the base
 * tables and the difference applied. All of it runs as the owner (SECURITY DEFINER): the
 * application role may read the counts and totals but never write them, and cannot read the
 * per-child facts or notes at all. No count row has n = 0 (they are deleted). The facts of an
 * erased child go when its erasure commits (no foreign key to children: the refresh must still
 * find them then, to subtract them).
 *
 * Frozen in time: never import application code here.
 */
const tenantTables = [
  'round_assessment_facts',
  'zone_counts',
  'zone_totals',
  'transition_counts',
  'transition_totals',
] as const;

async function tenantIsolation(db: Kysely<any>, table: string): Promise<void> {
  await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY ${sql.id(`${table}_tenant_isolation`)} ON ${sql.table(table)}
      USING (lineal_is_platform() OR municipality_id = lineal_current_municipality())
      WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
  `.execute(db);
}

/**
 * The body of lineal_analytics_apply_few and lineal_analytics_apply_many (see there), with their
 * arguments pair_children, pair_rounds (zipped, distinct) and kids (the children, sorted).
 */
const APPLY = `
      WITH affected AS (
        SELECT * FROM unnest(pair_children, pair_rounds) AS p(child_id, round_id)
      ),
      fresh AS (
        SELECT a.municipality_id, a.child_id, a.round_id, a.id AS assessment_id, a.unit_id, a.zone,
               lineal_age_band(date_part('year', age(r.window_start, c.birth_date))::int)
                 AS age_band,
               c.sex,
               date_part('year', c.birth_date)::int AS cohort,
               row_number() OVER (PARTITION BY a.child_id, a.round_id
                                  ORDER BY a.assessed_on DESC, a.created_at DESC, a.id) = 1 AS latest
        FROM affected p
        JOIN assessments a ON a.child_id = p.child_id AND a.round_id = p.round_id
        JOIN rounds r ON r.id = a.round_id
        JOIN children c ON c.id = a.child_id
        WHERE a.status = 'current'
      ),
      stored AS (
        SELECT s.*, p.child_id IS NOT NULL AS in_scope
        FROM round_assessment_facts s
        JOIN unnest(kids) AS k(child_id) ON k.child_id = s.child_id
        LEFT JOIN affected p ON p.child_id = s.child_id AND p.round_id = s.round_id
      ),
      -- Assessments counted: the affected rows as stored (-1) and as they are now (+1).
      zone_changes AS (
        SELECT municipality_id, round_id, unit_id, age_band, sex, cohort, zone, child_id, -1 AS d
        FROM stored WHERE in_scope
        UNION ALL
        SELECT municipality_id, round_id, unit_id, age_band, sex, cohort, zone, child_id, 1
        FROM fresh
      ),
      -- Pairs of each affected child's latest rows in two of its rounds (or one round twice),
      -- before (-1) and after (+1); only pairs with an affected end can differ.
      latest_before AS (
        SELECT municipality_id, child_id, round_id, unit_id, zone, age_band, sex, cohort, in_scope
        FROM stored WHERE latest
      ),
      latest_after AS (
        SELECT municipality_id, child_id, round_id, unit_id, zone, age_band, sex, cohort, in_scope
        FROM stored WHERE latest AND NOT in_scope
        UNION ALL
        SELECT municipality_id, child_id, round_id, unit_id, zone, age_band, sex, cohort, true
        FROM fresh WHERE latest
      ),
      move_changes AS (
        SELECT t.municipality_id, f.round_id AS from_round_id, t.round_id AS to_round_id,
               t.unit_id, t.age_band, t.sex, t.cohort, f.zone AS from_zone, t.zone AS to_zone,
               t.child_id, -1 AS d
        FROM latest_before f JOIN latest_before t ON t.child_id = f.child_id
        WHERE t.in_scope
        UNION ALL
        SELECT t.municipality_id, f.round_id, t.round_id, t.unit_id, t.age_band, t.sex,
               t.cohort, f.zone, t.zone, t.child_id, -1
        FROM latest_before f JOIN latest_before t ON t.child_id = f.child_id
        WHERE f.in_scope AND NOT t.in_scope
        UNION ALL
        SELECT t.municipality_id, f.round_id, t.round_id, t.unit_id, t.age_band, t.sex,
               t.cohort, f.zone, t.zone, t.child_id, 1
        FROM latest_after f JOIN latest_after t ON t.child_id = f.child_id
        WHERE t.in_scope
        UNION ALL
        SELECT t.municipality_id, f.round_id, t.round_id, t.unit_id, t.age_band, t.sex,
               t.cohort, f.zone, t.zone, t.child_id, 1
        FROM latest_after f JOIN latest_after t ON t.child_id = f.child_id
        WHERE f.in_scope AND NOT t.in_scope
      ),
      dropped AS (
        DELETE FROM round_assessment_facts s
        USING stored o
        WHERE o.in_scope AND s.child_id = o.child_id AND s.round_id = o.round_id
          AND s.assessment_id = o.assessment_id
          AND NOT EXISTS (SELECT 1 FROM fresh n WHERE n.assessment_id = o.assessment_id)
      ),
      kept AS (
        INSERT INTO round_assessment_facts AS s
          (municipality_id, child_id, round_id, assessment_id, unit_id, zone, age_band, sex,
           cohort, latest)
        SELECT municipality_id, child_id, round_id, assessment_id, unit_id, zone, age_band, sex,
               cohort, latest
        FROM fresh
        ON CONFLICT ON CONSTRAINT round_assessment_facts_pkey DO UPDATE SET
          municipality_id = EXCLUDED.municipality_id, unit_id = EXCLUDED.unit_id,
          zone = EXCLUDED.zone, age_band = EXCLUDED.age_band, sex = EXCLUDED.sex,
          cohort = EXCLUDED.cohort, latest = EXCLUDED.latest
        WHERE (s.municipality_id, s.unit_id, s.zone, s.age_band, s.sex, s.cohort, s.latest)
          IS DISTINCT FROM (EXCLUDED.municipality_id, EXCLUDED.unit_id, EXCLUDED.zone,
                            EXCLUDED.age_band, EXCLUDED.sex, EXCLUDED.cohort, EXCLUDED.latest)
      ),
      zones_written AS (
        INSERT INTO zone_counts AS z
          (municipality_id, round_id, unit_id, age_band, sex, cohort, zone, n)
        SELECT municipality_id, round_id, unit_id, age_band, sex, cohort, zone, sum(d)
        FROM zone_changes
        GROUP BY municipality_id, round_id, unit_id, age_band, sex, cohort, zone
        HAVING sum(d) <> 0
        ORDER BY municipality_id, round_id, unit_id, age_band, sex, cohort, zone
        ON CONFLICT ON CONSTRAINT zone_counts_group_unique DO UPDATE SET n = z.n + EXCLUDED.n
        RETURNING z.ctid, z.n
      ),
      zone_totals_written AS (
        INSERT INTO zone_totals AS z (municipality_id, round_id, zone, slot, n)
        SELECT municipality_id, round_id, zone, hashtext(child_id::text) & 15, sum(d)
        FROM zone_changes
        GROUP BY 1, 2, 3, 4
        HAVING sum(d) <> 0
        ORDER BY 1, 2, 3, 4
        ON CONFLICT ON CONSTRAINT zone_totals_group_unique DO UPDATE SET n = z.n + EXCLUDED.n
        RETURNING z.ctid, z.n
      ),
      moves_written AS (
        INSERT INTO transition_counts AS t
          (municipality_id, from_round_id, to_round_id, unit_id, age_band, sex, cohort, from_zone,
           to_zone, n)
        SELECT municipality_id, from_round_id, to_round_id, unit_id, age_band, sex, cohort,
               from_zone, to_zone, sum(d)
        FROM move_changes
        GROUP BY municipality_id, from_round_id, to_round_id, unit_id, age_band, sex, cohort,
                 from_zone, to_zone
        HAVING sum(d) <> 0
        ORDER BY municipality_id, from_round_id, to_round_id, unit_id, age_band, sex, cohort,
                 from_zone, to_zone
        ON CONFLICT ON CONSTRAINT transition_counts_group_unique DO UPDATE SET n = t.n + EXCLUDED.n
        RETURNING t.ctid, t.n
      ),
      move_totals_written AS (
        INSERT INTO transition_totals AS t
          (municipality_id, from_round_id, to_round_id, from_zone, to_zone, slot, n)
        SELECT municipality_id, from_round_id, to_round_id, from_zone, to_zone,
               hashtext(child_id::text) & 15, sum(d)
        FROM move_changes
        GROUP BY 1, 2, 3, 4, 5, 6
        HAVING sum(d) <> 0
        ORDER BY 1, 2, 3, 4, 5, 6
        ON CONFLICT ON CONSTRAINT transition_totals_group_unique DO UPDATE SET n = t.n + EXCLUDED.n
        RETURNING t.ctid, t.n
      )
      SELECT (SELECT array_agg(ctid) FROM zones_written WHERE n = 0),
             (SELECT array_agg(ctid) FROM zone_totals_written WHERE n = 0),
             (SELECT array_agg(ctid) FROM moves_written WHERE n = 0),
             (SELECT array_agg(ctid) FROM move_totals_written WHERE n = 0),
             (SELECT count(*) FROM zones_written WHERE n < 0)
               + (SELECT count(*) FROM zone_totals_written WHERE n < 0)
               + (SELECT count(*) FROM moves_written WHERE n < 0)
               + (SELECT count(*) FROM move_totals_written WHERE n < 0)
      INTO zero_zones, zero_zone_totals, zero_moves, zero_move_totals, negative;

      -- (Not a CHECK constraint: an upsert's candidate row carries the bare delta.)
      IF negative > 0 THEN
        RAISE EXCEPTION 'analytics counts out of step with the assessments (a count went below 0)'
          USING ERRCODE = 'data_corrupted',
                HINT = 'SELECT lineal_analytics_rebuild() as the owner recomputes them.';
      END IF;

      -- The rows just written stay locked by this transaction, so their ctids still hold.
      IF zero_zones IS NOT NULL THEN
        DELETE FROM zone_counts WHERE ctid = ANY (zero_zones);
      END IF;
      IF zero_zone_totals IS NOT NULL THEN
        DELETE FROM zone_totals WHERE ctid = ANY (zero_zone_totals);
      END IF;
      IF zero_moves IS NOT NULL THEN
        DELETE FROM transition_counts WHERE ctid = ANY (zero_moves);
      END IF;
      IF zero_move_totals IS NOT NULL THEN
        DELETE FROM transition_totals WHERE ctid = ANY (zero_move_totals);
      END IF;
`;

export async function up(db: Kysely<any>): Promise<void> {
  // The age band of an age in whole years (date_part('year', age(on, birth_date))), as the
  // analytics queries band it: 0-2, 3-5, 6-9, 10-13, 14-17, else null (an array subscript out of
  // range), the age evaluated once.
  await sql`
    CREATE FUNCTION lineal_age_band(p_years integer) RETURNS text
    LANGUAGE sql IMMUTABLE PARALLEL SAFE
    AS $$
      SELECT (ARRAY['0-2', '0-2', '0-2', '3-5', '3-5', '3-5', '6-9', '6-9', '6-9', '6-9',
                    '10-13', '10-13', '10-13', '10-13', '14-17', '14-17', '14-17', '14-17'])
             [p_years + 1]
    $$;
  `.execute(db);

  await sql`
    CREATE TABLE round_assessment_facts (
      municipality_id uuid NOT NULL,
      child_id uuid NOT NULL,
      round_id uuid NOT NULL,
      assessment_id uuid NOT NULL,
      unit_id uuid NOT NULL,
      zone text,
      age_band text,
      sex text,
      cohort integer NOT NULL,
      latest boolean NOT NULL,
      CONSTRAINT round_assessment_facts_pkey PRIMARY KEY (child_id, round_id, assessment_id)
    )
  `.execute(db);
  await sql`
    CREATE TABLE zone_counts (
      municipality_id uuid NOT NULL,
      round_id uuid NOT NULL,
      unit_id uuid NOT NULL,
      age_band text,
      sex text,
      cohort integer NOT NULL,
      zone text,
      n integer NOT NULL,
      CONSTRAINT zone_counts_group_unique UNIQUE NULLS NOT DISTINCT
        (municipality_id, round_id, unit_id, age_band, sex, cohort, zone)
    )
  `.execute(db);
  await sql`
    CREATE TABLE transition_counts (
      municipality_id uuid NOT NULL,
      from_round_id uuid NOT NULL,
      to_round_id uuid NOT NULL,
      unit_id uuid NOT NULL,
      age_band text,
      sex text,
      cohort integer NOT NULL,
      from_zone text,
      to_zone text,
      n integer NOT NULL,
      CONSTRAINT transition_counts_group_unique UNIQUE NULLS NOT DISTINCT
        (municipality_id, from_round_id, to_round_id, unit_id, age_band, sex, cohort, from_zone,
         to_zone)
    )
  `.execute(db);
  await sql`
    CREATE TABLE zone_totals (
      municipality_id uuid NOT NULL,
      round_id uuid NOT NULL,
      zone text,
      slot smallint NOT NULL,
      n integer NOT NULL,
      CONSTRAINT zone_totals_group_unique UNIQUE NULLS NOT DISTINCT
        (municipality_id, round_id, zone, slot)
    )
  `.execute(db);
  await sql`
    CREATE TABLE transition_totals (
      municipality_id uuid NOT NULL,
      from_round_id uuid NOT NULL,
      to_round_id uuid NOT NULL,
      from_zone text,
      to_zone text,
      slot smallint NOT NULL,
      n integer NOT NULL,
      CONSTRAINT transition_totals_group_unique UNIQUE NULLS NOT DISTINCT
        (municipality_id, from_round_id, to_round_id, from_zone, to_zone, slot)
    )
  `.execute(db);
  // What a transaction's statements touched, until it commits (then applied and deleted).
  await sql`
    CREATE TABLE analytics_pending (
      xact xid8 NOT NULL DEFAULT pg_current_xact_id(),
      children uuid[] NOT NULL,
      rounds uuid[] NOT NULL
    )
  `.execute(db);
  await sql`CREATE INDEX analytics_pending_xact_idx ON analytics_pending (xact)`.execute(db);
  await sql`ALTER TABLE analytics_pending ENABLE ROW LEVEL SECURITY`.execute(db);
  for (const table of tenantTables) await tenantIsolation(db, table);

  /*
   * The recomputation proper, for distinct pairs and their sorted children, as two functions of
   * one body that differ in planning only. A few pairs (the API's writes) want index lookups:
   * one cached generic plan, no planning per write. Many (a bulk INSERT … SELECT) want hash
   * joins: planned for the arrays at hand, without nested loops (the CTEs have no statistics: a
   * misjudged nested loop over them is quadratic).
   */
  for (const [name, planning] of [
    ['lineal_analytics_apply_few', 'SET plan_cache_mode = force_generic_plan'],
    [
      'lineal_analytics_apply_many',
      'SET plan_cache_mode = force_custom_plan SET enable_nestloop = off',
    ],
  ] as const) {
    await sql`
      CREATE FUNCTION ${sql.raw(name)}(pair_children uuid[], pair_rounds uuid[], kids uuid[])
      RETURNS void
      LANGUAGE plpgsql VOLATILE SECURITY DEFINER
      SET search_path = public, pg_temp
      ${sql.raw(planning)}
      AS $$
      DECLARE
        zero_zones tid[];
        zero_zone_totals tid[];
        zero_moves tid[];
        zero_move_totals tid[];
        negative bigint;
      BEGIN
${sql.raw(APPLY)}
      END $$;
    `.execute(db);
  }

  /*
   * Recomputes the given (child, round) pairs (the arrays are zipped; duplicates are fine) from
   * the base tables and applies the difference to the facts, the counts and the totals. The
   * children are locked first, so that concurrent writers about one child take turns and each
   * reads what the previous one committed (read committed: every statement below takes a new
   * snapshot); the rounds are share-locked against a concurrent change of their window. Count
   * rows are written in key order (tables in a fixed order), so two refreshes never deadlock.
   */
  await sql`
    CREATE FUNCTION lineal_analytics_refresh(p_children uuid[], p_rounds uuid[]) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      pair_children uuid[];
      pair_rounds uuid[];
      kids uuid[];
    BEGIN
      SELECT array_agg(p.child_id), array_agg(p.round_id) INTO pair_children, pair_rounds
      FROM (
        SELECT DISTINCT child_id, round_id
        FROM unnest(p_children, p_rounds) AS p(child_id, round_id)
        WHERE child_id IS NOT NULL AND round_id IS NOT NULL
      ) p;
      IF pair_children IS NULL THEN
        RETURN;
      END IF;
      kids := ARRAY(SELECT DISTINCT k FROM unnest(pair_children) AS k ORDER BY k);
      PERFORM 1 FROM children WHERE id = ANY (kids) ORDER BY id FOR NO KEY UPDATE;
      PERFORM 1 FROM rounds WHERE id IN (SELECT unnest(pair_rounds)) ORDER BY id FOR SHARE;
      IF cardinality(pair_children) > 100 THEN
        PERFORM lineal_analytics_apply_many(pair_children, pair_rounds, kids);
      ELSE
        PERFORM lineal_analytics_apply_few(pair_children, pair_rounds, kids);
      END IF;
    END $$;
  `.execute(db);

  /*
   * The triggers below only note which (child, round) pairs a statement touched; the counts are
   * brought up to date once per transaction, when it commits (a deferred trigger on the notes):
   * rows of the counts stay locked for the commit only, not for the rest of a request's
   * transaction, and all of them are locked in one pass, in order.
   */
  await sql`
    CREATE FUNCTION lineal_analytics_apply_pending() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      kids uuid[];
      rnds uuid[];
    BEGIN
      WITH mine AS (
        DELETE FROM analytics_pending WHERE xact = pg_current_xact_id()
        RETURNING children, rounds
      )
      SELECT array_agg(p.child_id), array_agg(p.round_id) INTO kids, rnds
      FROM mine CROSS JOIN LATERAL unnest(mine.children, mine.rounds) AS p(child_id, round_id);
      PERFORM lineal_analytics_refresh(kids, rnds);
      RETURN NULL;
    END $$;
  `.execute(db);
  await sql`
    CREATE CONSTRAINT TRIGGER analytics_pending_apply AFTER INSERT ON analytics_pending
      DEFERRABLE INITIALLY DEFERRED
      FOR EACH ROW EXECUTE FUNCTION lineal_analytics_apply_pending()
  `.execute(db);

  // Assessments: the (child, round) pairs of the rows inserted, deleted or changed.
  await sql`
    CREATE FUNCTION lineal_analytics_assessments_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      kids uuid[];
      rnds uuid[];
    BEGIN
      IF TG_OP = 'INSERT' THEN
        SELECT array_agg(child_id), array_agg(round_id) INTO kids, rnds
        FROM new_rows WHERE round_id IS NOT NULL;
      ELSIF TG_OP = 'DELETE' THEN
        SELECT array_agg(child_id), array_agg(round_id) INTO kids, rnds
        FROM old_rows WHERE round_id IS NOT NULL;
      ELSE
        SELECT array_agg(p.child_id), array_agg(p.round_id) INTO kids, rnds
        FROM (
          SELECT o.child_id, o.round_id, n.child_id AS new_child_id, n.round_id AS new_round_id
          FROM old_rows o JOIN new_rows n ON n.id = o.id
          WHERE (o.status, o.child_id, o.round_id, o.unit_id, o.zone, o.assessed_on, o.created_at)
            IS DISTINCT FROM
                (n.status, n.child_id, n.round_id, n.unit_id, n.zone, n.assessed_on, n.created_at)
        ) c
        CROSS JOIN LATERAL (VALUES (c.child_id, c.round_id), (c.new_child_id, c.new_round_id))
          AS p(child_id, round_id)
        WHERE p.round_id IS NOT NULL;
      END IF;
      IF kids IS NOT NULL THEN
        INSERT INTO analytics_pending (children, rounds) VALUES (kids, rnds);
      END IF;
      RETURN NULL;
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER assessments_analytics_insert AFTER INSERT ON assessments
      REFERENCING NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_analytics_assessments_changed()
  `.execute(db);
  await sql`
    CREATE TRIGGER assessments_analytics_update AFTER UPDATE ON assessments
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_analytics_assessments_changed()
  `.execute(db);
  await sql`
    CREATE TRIGGER assessments_analytics_delete AFTER DELETE ON assessments
      REFERENCING OLD TABLE AS old_rows
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_analytics_assessments_changed()
  `.execute(db);

  // Children: a new sex or birth date moves every round the child is counted in.
  await sql`
    CREATE FUNCTION lineal_analytics_children_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      kids uuid[];
      rnds uuid[];
    BEGIN
      WITH changed AS (
        SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE (o.sex, o.birth_date) IS DISTINCT FROM (n.sex, n.birth_date)
      )
      SELECT array_agg(p.child_id), array_agg(p.round_id) INTO kids, rnds
      FROM (
        SELECT a.child_id, a.round_id FROM assessments a JOIN changed ON changed.id = a.child_id
        WHERE a.round_id IS NOT NULL AND a.status = 'current'
        UNION
        SELECT f.child_id, f.round_id FROM round_assessment_facts f
        JOIN changed ON changed.id = f.child_id
      ) p;
      IF kids IS NOT NULL THEN
        INSERT INTO analytics_pending (children, rounds) VALUES (kids, rnds);
      END IF;
      RETURN NULL;
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER children_analytics_update AFTER UPDATE ON children
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_analytics_children_changed()
  `.execute(db);

  // Rounds: a new window start moves the age band of everybody in the round.
  await sql`
    CREATE FUNCTION lineal_analytics_rounds_changed() RETURNS trigger
    LANGUAGE plpgsql SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      kids uuid[];
      rnds uuid[];
    BEGIN
      WITH changed AS (
        SELECT n.id FROM old_rows o JOIN new_rows n ON n.id = o.id
        WHERE o.window_start IS DISTINCT FROM n.window_start
      )
      SELECT array_agg(p.child_id), array_agg(p.round_id) INTO kids, rnds
      FROM (
        SELECT a.child_id, a.round_id FROM assessments a JOIN changed ON changed.id = a.round_id
        WHERE a.status = 'current'
        UNION
        SELECT f.child_id, f.round_id FROM round_assessment_facts f
        JOIN changed ON changed.id = f.round_id
      ) p;
      IF kids IS NOT NULL THEN
        INSERT INTO analytics_pending (children, rounds) VALUES (kids, rnds);
      END IF;
      RETURN NULL;
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER rounds_analytics_update AFTER UPDATE ON rounds
      REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_analytics_rounds_changed()
  `.execute(db);

  // Everything recomputed from the assessments: the backfill below, and the way out should the
  // counts ever be found out of step (the refresh refuses to take a count below 0).
  await sql`
    CREATE FUNCTION lineal_analytics_rebuild() RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      LOCK TABLE assessments, children, rounds IN SHARE MODE;
      DELETE FROM transition_totals;
      DELETE FROM transition_counts;
      DELETE FROM zone_totals;
      DELETE FROM zone_counts;
      DELETE FROM round_assessment_facts;
      PERFORM lineal_analytics_refresh(array_agg(p.child_id), array_agg(p.round_id))
      FROM (SELECT DISTINCT child_id, round_id FROM assessments
            WHERE round_id IS NOT NULL AND status = 'current') p;
    END $$;
  `.execute(db);

  for (const fn of [
    'lineal_analytics_refresh(uuid[], uuid[])',
    'lineal_analytics_apply_few(uuid[], uuid[], uuid[])',
    'lineal_analytics_apply_many(uuid[], uuid[], uuid[])',
    'lineal_analytics_rebuild()',
    'lineal_analytics_apply_pending()',
    'lineal_analytics_assessments_changed()',
    'lineal_analytics_children_changed()',
    'lineal_analytics_rounds_changed()',
  ]) {
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
  }

  await sql`SELECT lineal_analytics_rebuild()`.execute(db);

  await sql`
    GRANT SELECT ON zone_counts, zone_totals, transition_counts, transition_totals TO lineal_app
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER rounds_analytics_update ON rounds`.execute(db);
  await sql`DROP TRIGGER children_analytics_update ON children`.execute(db);
  await sql`DROP TRIGGER assessments_analytics_delete ON assessments`.execute(db);
  await sql`DROP TRIGGER assessments_analytics_update ON assessments`.execute(db);
  await sql`DROP TRIGGER assessments_analytics_insert ON assessments`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_rounds_changed()`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_children_changed()`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_assessments_changed()`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_rebuild()`.execute(db);
  await db.schema.dropTable('analytics_pending').execute();
  await sql`DROP FUNCTION lineal_analytics_apply_pending()`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_refresh(uuid[], uuid[])`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_apply_many(uuid[], uuid[], uuid[])`.execute(db);
  await sql`DROP FUNCTION lineal_analytics_apply_few(uuid[], uuid[], uuid[])`.execute(db);
  await db.schema.dropTable('transition_totals').execute();
  await db.schema.dropTable('transition_counts').execute();
  await db.schema.dropTable('zone_totals').execute();
  await db.schema.dropTable('zone_counts').execute();
  await db.schema.dropTable('round_assessment_facts').execute();
  await sql`DROP FUNCTION lineal_age_band(integer)`.execute(db);
}
