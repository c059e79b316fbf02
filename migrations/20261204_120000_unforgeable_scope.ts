import { type Kysely, sql } from 'kysely';

/**
 * Tenancy that holds against the service's own role (issue 12). Until now the scope was two
 * settings (`lineal.municipality_id`, `lineal.platform`) that any SQL of the application role
 * could set again: one injected `set_config('lineal.platform', 'on', false)` opened every
 * municipality. Now:
 *
 * - The scope lives in `lineal_scopes`, a table only the owner can touch, one row per backend
 *   naming the transaction (xid) it belongs to. `lineal_enter_scope(municipality)` and
 *   `lineal_enter_platform_scope()` (SECURITY DEFINER) write it, once per transaction: a second
 *   call in the same transaction is refused, so SQL run inside a scoped transaction cannot switch
 *   to another municipality. `lineal_current_municipality()` and `lineal_is_platform()` read it;
 *   a row of an earlier transaction counts for nothing, so the scope ends with its transaction.
 * - The platform scope no longer sees tenants' data: it sees every municipality (list, create)
 *   and the rows without a municipality (platform keys, preset rulers and guides, the platform's
 *   audit entries and idempotency records), nothing else. Jobs that work across municipalities
 *   enter each municipality's scope in turn.
 * - Policies call the scope functions as `(SELECT fn())`: evaluated once per statement, not per
 *   row.
 * - `lineal_erase_child` erases a child of the scope's municipality (no municipality argument);
 *   `lineal_prune_audit` never deletes entries younger than the audit retention minimum
 *   (6 months) and refuses a cut-off more than a day past it.
 * - The flags that let the erasure and pruning functions delete (`lineal.erasure`,
 *   `lineal.audit_maintenance`) count only for the tables' owner.
 *
 * Frozen in time: never import application code here.
 */

/** The minimum the audit log is kept (AUDIT_RETENTION_MONTHS is at least this). */
const AUDIT_RETENTION_MINIMUM = '6 months';

const municipalityTable = 'municipalities';
/** Rows without a municipality belong to the platform (its keys, audit entries, idempotency). */
const platformRowTables = ['api_keys', 'audit_log', 'idempotency_keys'];
/** Rows without a municipality are presets, visible to everybody, written by the platform. */
const presetTables = ['rulers', 'ruler_versions', 'action_guides', 'action_guide_versions'];
/** Every row belongs to one municipality. */
const tenantTables = [
  'units',
  'children',
  'enrolments',
  'rounds',
  'assessments',
  'recommendations',
  'recommendation_steps',
  'concern_reports',
  'events',
  'flags',
  'erasures',
  'consents',
  'transition_guidelines',
  'round_assessment_facts',
  'zone_counts',
  'zone_totals',
  'transition_counts',
  'transition_totals',
];

const policyName = (table: string) =>
  presetTables.includes(table) ? `${table}_visible` : `${table}_tenant_isolation`;

async function alterPolicy(db: Kysely<any>, table: string, using: string, check: string) {
  await sql
    .raw(`ALTER POLICY ${policyName(table)} ON ${table} USING (${using}) WITH CHECK (${check})`)
    .execute(db);
}

const current = '(SELECT lineal_current_municipality())';
const platform = '(SELECT lineal_is_platform())';

export async function up(db: Kysely<any>): Promise<void> {
  // One row per backend: the transaction it last entered a scope in, and that scope.
  await sql`
    CREATE UNLOGGED TABLE lineal_scopes (
      backend_pid integer PRIMARY KEY,
      xact xid8 NOT NULL,
      municipality_id uuid,
      platform boolean NOT NULL,
      CHECK (platform = (municipality_id IS NULL))
    )
  `.execute(db);
  // Nobody but the owner (and so the functions below) reads or writes it.
  await sql`ALTER TABLE lineal_scopes ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`REVOKE ALL ON lineal_scopes FROM PUBLIC`.execute(db);

  await sql`
    CREATE FUNCTION lineal_claim_scope(p_municipality uuid, p_platform boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      me xid8 := pg_current_xact_id();
      prior xid8;
    BEGIN
      SELECT xact INTO prior FROM lineal_scopes WHERE backend_pid = pg_backend_pid();
      IF prior = me THEN
        RAISE EXCEPTION 'this transaction has its scope already: a transaction has exactly one'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      IF prior IS NULL THEN
        -- A new connection: forget the rows of backends that are gone (never waits for a lock).
        DELETE FROM lineal_scopes WHERE backend_pid IN (
          SELECT s.backend_pid FROM lineal_scopes s
          WHERE s.backend_pid NOT IN (SELECT pid FROM pg_stat_activity WHERE pid IS NOT NULL)
          FOR UPDATE SKIP LOCKED);
      END IF;
      INSERT INTO lineal_scopes (backend_pid, xact, municipality_id, platform)
      VALUES (pg_backend_pid(), me, p_municipality, p_platform)
      ON CONFLICT (backend_pid) DO UPDATE
        SET xact = EXCLUDED.xact, municipality_id = EXCLUDED.municipality_id,
            platform = EXCLUDED.platform;
    END $$;
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_enter_scope(p_municipality uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      IF p_municipality IS NULL THEN
        RAISE EXCEPTION 'a municipality scope names a municipality'
          USING ERRCODE = 'invalid_parameter_value';
      END IF;
      PERFORM lineal_claim_scope(p_municipality, false);
    END $$;
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_enter_platform_scope() RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT lineal_claim_scope(NULL, true) $$;
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_current_municipality() RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT municipality_id FROM lineal_scopes
      WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned()
    $$;
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_is_platform() RETURNS boolean
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT coalesce((
        SELECT platform FROM lineal_scopes
        WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned()
      ), false)
    $$;
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_claim_scope(uuid, boolean) FROM PUBLIC`.execute(db);
  for (const fn of ['lineal_enter_scope(uuid)', 'lineal_enter_platform_scope()']) {
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO lineal_app`).execute(db);
  }

  await alterPolicy(
    db,
    municipalityTable,
    `${platform} OR id = ${current}`,
    `${platform} OR id = ${current}`,
  );
  for (const table of platformRowTables) {
    const rule = `municipality_id = ${current} OR (municipality_id IS NULL AND ${platform})`;
    await alterPolicy(db, table, rule, rule);
  }
  for (const table of presetTables) {
    await alterPolicy(
      db,
      table,
      `municipality_id IS NULL OR municipality_id = ${current}`,
      `municipality_id = ${current} OR (municipality_id IS NULL AND ${platform})`,
    );
  }
  for (const table of tenantTables) {
    await alterPolicy(db, table, `municipality_id = ${current}`, `municipality_id = ${current}`);
  }

  // The deleting flags count for the owner only (the erasure and pruning functions run as it).
  await sql`
    CREATE OR REPLACE FUNCTION lineal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('lineal.audit_maintenance', true) = 'on'
         AND EXISTS (SELECT 1 FROM pg_class WHERE oid = TG_RELID AND pg_get_userbyid(relowner) = current_user)
      THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END IF;
      RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('lineal.erasure', true) = 'on'
         AND EXISTS (SELECT 1 FROM pg_class WHERE oid = TG_RELID AND pg_get_userbyid(relowner) = current_user)
      THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;
  `.execute(db);

  // Erasure: of a child of the scope's municipality, whatever the caller names.
  await sql`DROP FUNCTION lineal_erase_child(uuid, uuid, text)`.execute(db);
  await sql`
    CREATE FUNCTION lineal_erase_child(p_child uuid, p_tombstone text)
    RETURNS jsonb
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      counts jsonb := '{}'::jsonb;
      n bigint;
      child text := p_child::text;
      p_municipality uuid := lineal_current_municipality();
    BEGIN
      IF p_municipality IS NULL THEN
        RAISE EXCEPTION 'erasure needs a municipality scope' USING ERRCODE = 'insufficient_privilege';
      END IF;
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
  await sql`REVOKE ALL ON FUNCTION lineal_erase_child(uuid, text) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_erase_child(uuid, text) TO lineal_app`.execute(db);

  // Pruning: never an entry younger than the retention minimum. A cut-off up to a day past the
  // minimum is taken as the minimum (clocks differ a little); a later one is refused.
  await sql
    .raw(`
    CREATE OR REPLACE FUNCTION lineal_prune_audit(p_before timestamptz) RETURNS bigint
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      n bigint;
      oldest_kept timestamptz := now() - interval '${AUDIT_RETENTION_MINIMUM}';
    BEGIN
      IF p_before IS NULL OR p_before > oldest_kept + interval '1 day' THEN
        RAISE EXCEPTION 'audit entries are kept at least ${AUDIT_RETENTION_MINIMUM}: cut-off % refused', p_before
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      PERFORM set_config('lineal.audit_maintenance', 'on', true);
      DELETE FROM audit_log WHERE occurred_at < least(p_before, oldest_kept);
      GET DIAGNOSTICS n = ROW_COUNT;
      PERFORM set_config('lineal.audit_maintenance', 'off', true);
      RETURN n;
    END $$;
  `)
    .execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE OR REPLACE FUNCTION lineal_prune_audit(p_before timestamptz) RETURNS bigint
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
  await sql`DROP FUNCTION lineal_erase_child(uuid, text)`.execute(db);
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
  await sql`REVOKE ALL ON FUNCTION lineal_erase_child(uuid, uuid, text) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_erase_child(uuid, uuid, text) TO lineal_app`.execute(
    db,
  );

  await sql`
    CREATE OR REPLACE FUNCTION lineal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF TG_OP = 'DELETE' AND current_setting('lineal.erasure', true) = 'on' THEN
        RETURN OLD;
      END IF;
      RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_audit_append_only() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('lineal.audit_maintenance', true) = 'on' THEN
        RETURN CASE WHEN TG_OP = 'DELETE' THEN OLD ELSE NEW END;
      END IF;
      RAISE EXCEPTION 'the audit log is append-only' USING ERRCODE = 'insufficient_privilege';
    END $$;
  `.execute(db);

  const old = (column: string) =>
    `lineal_is_platform() OR ${column} = lineal_current_municipality()`;
  await alterPolicy(db, municipalityTable, old('id'), old('id'));
  for (const table of [...platformRowTables, ...tenantTables]) {
    await alterPolicy(db, table, old('municipality_id'), old('municipality_id'));
  }
  for (const table of presetTables) {
    await alterPolicy(
      db,
      table,
      `lineal_is_platform() OR municipality_id IS NULL OR municipality_id = lineal_current_municipality()`,
      old('municipality_id'),
    );
  }

  await sql`
    CREATE OR REPLACE FUNCTION lineal_current_municipality() RETURNS uuid
    LANGUAGE sql STABLE SECURITY INVOKER
    AS $$ SELECT nullif(current_setting('lineal.municipality_id', true), '')::uuid $$;
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_is_platform() RETURNS boolean
    LANGUAGE sql STABLE SECURITY INVOKER
    AS $$ SELECT coalesce(current_setting('lineal.platform', true), '') = 'on' $$;
  `.execute(db);
  await sql`DROP FUNCTION lineal_enter_platform_scope()`.execute(db);
  await sql`DROP FUNCTION lineal_enter_scope(uuid)`.execute(db);
  await sql`DROP FUNCTION lineal_claim_scope(uuid, boolean)`.execute(db);
  await sql`DROP TABLE lineal_scopes`.execute(db);
}
