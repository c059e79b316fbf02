import { type Kysely, sql } from 'kysely';

/**
 * Accountability: the append-only audit log of every use of child data, erasure of a child
 * (personal data removed everywhere, audit entries kept under a tombstone pseudonym) and pruning
 * of audit entries past their retention.
 *
 * The application role may only INSERT and SELECT audit entries; a trigger refuses UPDATE,
 * DELETE and TRUNCATE for everybody, except inside the two SECURITY DEFINER functions below
 * (which set a transaction-local flag the trigger honours). Erasure is the one sanctioned way to
 * delete assessments and recommendations, which are otherwise immutable.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('audit_log')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('principal_kind', 'text', (c) =>
      c.notNull().check(sql`principal_kind IN ('api_key', 'oidc', 'system')`),
    )
    .addColumn('principal_id', 'text', (c) =>
      c.notNull().check(sql`char_length(principal_id) BETWEEN 1 AND 500`),
    )
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('action', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`action IN ('create', 'read', 'update', 'withdraw', 'delete', 'export', 'search')`,
        ),
    )
    .addColumn('resource_type', 'text', (c) => c.notNull())
    .addColumn('resource_id', 'text')
    .addColumn('child_id', 'uuid')
    .addColumn('child_tombstone', 'text')
    .addColumn('criteria', 'jsonb')
    .addColumn('outcome', 'text', (c) =>
      c
        .notNull()
        .check(sql`outcome IN ('success', 'denied', 'not_found', 'invalid', 'conflict', 'error')`),
    )
    .addColumn('status_code', 'integer')
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addCheckConstraint(
      'audit_log_child_or_tombstone',
      sql`child_id IS NULL OR child_tombstone IS NULL`,
    )
    .execute();
  await db.schema
    .createIndex('audit_log_municipality_time_idx')
    .on('audit_log')
    .columns(['municipality_id', 'occurred_at', 'id'])
    .execute();
  await db.schema
    .createIndex('audit_log_child_idx')
    .on('audit_log')
    .columns(['child_id', 'occurred_at'])
    .where(sql.ref('child_id'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('audit_log_tombstone_idx')
    .on('audit_log')
    .columns(['municipality_id', 'child_tombstone'])
    .where(sql.ref('child_tombstone'), 'is not', null)
    .execute();
  await db.schema
    .createIndex('audit_log_principal_idx')
    .on('audit_log')
    .columns(['municipality_id', 'principal_id', 'occurred_at'])
    .execute();

  await sql`
    CREATE FUNCTION lineal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('lineal.audit_maintenance', true) = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END IF;
      RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
      FOR EACH ROW EXECUTE FUNCTION lineal_audit_append_only()
  `.execute(db);
  await sql`
    CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_audit_append_only()
  `.execute(db);

  // Erasures: what was erased, when, by whom and why — without anything about the child but a
  // keyed hash of its id (so that a repeated erasure is recognised) and the tombstone.
  await db.schema
    .createTable('erasures')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull().references('municipalities.id'))
    .addColumn('child_key', 'text', (c) => c.notNull())
    .addColumn('tombstone', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) =>
      c.notNull().check(sql`char_length(reason) BETWEEN 1 AND 2000`),
    )
    .addColumn('source', 'text', (c) => c.notNull().check(sql`source IN ('request', 'retention')`))
    .addColumn('erased_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('erased_by', 'text')
    .addColumn('deleted', 'jsonb', (c) => c.notNull())
    .addUniqueConstraint('erasures_child_unique', ['municipality_id', 'child_key'])
    .execute();

  for (const table of ['audit_log', 'erasures']) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY ${sql.id(`${table}_tenant_isolation`)} ON ${sql.table(table)}
        USING (lineal_is_platform() OR municipality_id = lineal_current_municipality())
        WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
    `.execute(db);
  }

  // Assessments and recommendations are immutable; erasure may delete them.
  await sql`
    CREATE OR REPLACE FUNCTION lineal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('lineal.erasure', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;
  `.execute(db);

  /*
   * Erases one child of one municipality: every row about it, and the idempotency records whose
   * stored responses mention it; audit entries keep their place with the child replaced by the
   * tombstone. Returns the rows deleted per table (empty when the child does not exist). Tables
   * added later with a child_id should reference children ON DELETE CASCADE.
   */
  await sql`
    CREATE FUNCTION lineal_erase_child(p_municipality uuid, p_child uuid, p_tombstone text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      counts jsonb := '{}'::jsonb;
      n bigint;
      child text := p_child::text;
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM children WHERE id = p_child AND municipality_id = p_municipality) THEN
        RETURN counts;
      END IF;
      PERFORM set_config('lineal.erasure', 'on', true);
      PERFORM set_config('lineal.audit_maintenance', 'on', true);

      DELETE FROM events WHERE municipality_id = p_municipality
        AND (child_id = p_child OR payload::text LIKE '%' || child || '%');
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('events', n);
      DELETE FROM flags WHERE municipality_id = p_municipality AND child_id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('flags', n);
      DELETE FROM recommendation_steps WHERE municipality_id = p_municipality AND child_id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('recommendation_steps', n);
      DELETE FROM concern_reports WHERE municipality_id = p_municipality AND child_id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('concern_reports', n);
      DELETE FROM recommendations WHERE municipality_id = p_municipality AND child_id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('recommendations', n);
      DELETE FROM assessments WHERE municipality_id = p_municipality AND child_id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('assessments', n);
      DELETE FROM enrolments WHERE municipality_id = p_municipality AND child_id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('enrolments', n);
      DELETE FROM idempotency_keys WHERE municipality_id = p_municipality
        AND response_body::text LIKE '%' || child || '%';
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('idempotency_keys', n);
      DELETE FROM children WHERE municipality_id = p_municipality AND id = p_child;
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('children', n);

      UPDATE audit_log SET
        child_id = NULL,
        child_tombstone = p_tombstone,
        resource_id = CASE WHEN resource_id = child THEN p_tombstone ELSE resource_id END,
        criteria = CASE WHEN criteria IS NULL THEN NULL
                        ELSE replace(criteria::text, child, p_tombstone)::jsonb END
      -- Every municipality: a request from elsewhere naming this child id is scrubbed too.
      WHERE child_id = p_child OR resource_id = child OR criteria::text LIKE '%' || child || '%';
      GET DIAGNOSTICS n = ROW_COUNT; counts := counts || jsonb_build_object('audit_entries_tombstoned', n);

      PERFORM set_config('lineal.erasure', 'off', true);
      PERFORM set_config('lineal.audit_maintenance', 'off', true);
      RETURN counts;
    END $$;
  `.execute(db);

  /** Deletes audit entries that occurred before the cut-off; returns how many. */
  await sql`
    CREATE FUNCTION lineal_prune_audit(p_before timestamptz) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE n bigint;
    BEGIN
      PERFORM set_config('lineal.audit_maintenance', 'on', true);
      DELETE FROM audit_log WHERE occurred_at < p_before;
      GET DIAGNOSTICS n = ROW_COUNT;
      PERFORM set_config('lineal.audit_maintenance', 'off', true);
      RETURN n;
    END $$;
  `.execute(db);

  for (const fn of ['lineal_erase_child(uuid, uuid, text)', 'lineal_prune_audit(timestamptz)']) {
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO lineal_app`).execute(db);
  }
  await sql`GRANT SELECT, INSERT ON audit_log, erasures TO lineal_app`.execute(db);
  await sql`GRANT USAGE ON SEQUENCE audit_log_id_seq TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION lineal_prune_audit(timestamptz)`.execute(db);
  await sql`DROP FUNCTION lineal_erase_child(uuid, uuid, text)`.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;
  `.execute(db);
  await db.schema.dropTable('erasures').execute();
  await db.schema.dropTable('audit_log').execute();
  await sql`DROP FUNCTION lineal_audit_append_only()`.execute(db);
}
