import { type Kysely, sql } from 'kysely';

/**
 * Foundation: municipalities (tenants) and API keys, the non-owner application role
 * `lineal_app`, and row-level security keyed on the municipality of the current transaction.
 *
 * Tenant context is set per transaction with
 *   set_config('lineal.municipality_id', '<uuid>', true)   -- one municipality
 *   set_config('lineal.platform', 'on', true)              -- platform administration
 * A query that forgets its tenant filter therefore still sees only its own municipality's rows.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lineal_app') THEN
        CREATE ROLE lineal_app NOLOGIN;
      END IF;
    END
    $$;
  `.execute(db);

  await sql`
    CREATE FUNCTION lineal_current_municipality() RETURNS uuid
    LANGUAGE sql STABLE
    AS $$ SELECT nullif(current_setting('lineal.municipality_id', true), '')::uuid $$;
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_is_platform() RETURNS boolean
    LANGUAGE sql STABLE
    AS $$ SELECT coalesce(current_setting('lineal.platform', true), '') = 'on' $$;
  `.execute(db);

  await db.schema
    .createTable('municipalities')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('code', 'text', (c) => c.notNull().unique().check(sql`code ~ '^[0-9]{3}$'`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) BETWEEN 1 AND 200`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();

  await db.schema
    .createTable('api_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('key_id', 'text', (c) => c.notNull().unique().check(sql`key_id ~ '^[0-9a-f]{16}$'`))
    .addColumn('key_hash', 'bytea', (c) => c.notNull().check(sql`octet_length(key_hash) = 32`))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) BETWEEN 1 AND 200`))
    .addColumn('role', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`role IN ('platform_admin', 'municipality_admin', 'unit_leader', 'unit_staff', 'social_worker', 'analyst', 'integration')`,
        ),
    )
    .addColumn('unit_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'uuid')
    .addColumn('expires_at', 'timestamptz')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by', 'uuid')
    .addColumn('last_used_at', 'timestamptz')
    .addCheckConstraint(
      'api_keys_platform_admin_has_no_municipality',
      sql`(role = 'platform_admin') = (municipality_id IS NULL)`,
    )
    .addCheckConstraint(
      'api_keys_revoked_by_needs_revoked_at',
      sql`revoked_by IS NULL OR revoked_at IS NOT NULL`,
    )
    .execute();
  await db.schema
    .createIndex('api_keys_municipality_idx')
    .on('api_keys')
    .columns(['municipality_id', 'created_at'])
    .execute();

  // Row-level security: tenant isolation enforced by the database for the application role.
  await sql`ALTER TABLE municipalities ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY municipalities_tenant_isolation ON municipalities
      USING (lineal_is_platform() OR id = lineal_current_municipality())
      WITH CHECK (lineal_is_platform() OR id = lineal_current_municipality())
  `.execute(db);
  await sql`ALTER TABLE api_keys ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY api_keys_tenant_isolation ON api_keys
      USING (lineal_is_platform() OR municipality_id = lineal_current_municipality())
      WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
  `.execute(db);

  // Authentication happens before the tenant is known: these two SECURITY DEFINER functions
  // are the only way the application role reads keys outside a tenant context. They return one
  // key by its public id; the secret's hash is compared by the application in constant time.
  await sql`
    CREATE FUNCTION lineal_find_api_key(p_key_id text)
    RETURNS TABLE (
      id uuid, key_hash bytea, municipality_id uuid, role text, unit_ids uuid[],
      expires_at timestamptz, revoked_at timestamptz, last_used_at timestamptz
    )
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT k.id, k.key_hash, k.municipality_id, k.role, k.unit_ids,
             k.expires_at, k.revoked_at, k.last_used_at
      FROM api_keys k WHERE k.key_id = p_key_id
    $$;
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_touch_api_key(p_id uuid, p_at timestamptz) RETURNS void
    LANGUAGE sql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ UPDATE api_keys SET last_used_at = p_at WHERE id = p_id $$;
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_find_api_key(text) FROM PUBLIC`.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_touch_api_key(uuid, timestamptz) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_find_api_key(text) TO lineal_app`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_touch_api_key(uuid, timestamptz) TO lineal_app`.execute(
    db,
  );

  await sql`GRANT USAGE ON SCHEMA public TO lineal_app`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE ON municipalities, api_keys TO lineal_app`.execute(db);
  // Readiness checks compare the applied migrations with the ones the code ships.
  await sql`GRANT SELECT ON kysely_migration TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`REVOKE SELECT ON kysely_migration FROM lineal_app`.execute(db);
  await sql`DROP FUNCTION lineal_touch_api_key(uuid, timestamptz)`.execute(db);
  await sql`DROP FUNCTION lineal_find_api_key(text)`.execute(db);
  await db.schema.dropTable('api_keys').execute();
  await db.schema.dropTable('municipalities').execute();
  await sql`DROP FUNCTION lineal_is_platform()`.execute(db);
  await sql`DROP FUNCTION lineal_current_municipality()`.execute(db);
  // The cluster-wide role lineal_app is left in place: other databases may use it.
}
