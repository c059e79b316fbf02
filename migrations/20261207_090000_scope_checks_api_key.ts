import { type Kysely, sql } from 'kysely';

/**
 * A request's transaction checks its API key in the statement that enters its scope. Service
 * instances keep the keys they verified (src/auth/api-key-cache.ts) rather than look each one up
 * per request; the one fact about a key that changes after it is made is its revocation, and it
 * must take effect at once on every instance. So a request names its key when it enters the
 * scope (`BEGIN; SELECT lineal_enter_scope(municipality, key)`, one round trip, as before), and
 * the database refuses the scope when that key no longer exists or is revoked (SQLSTATE LK401,
 * which the service answers 401), or when a municipality's key names another municipality
 * (insufficient_privilege). What the database checks is what every instance sees: a revocation
 * committed anywhere stops the key's next transaction everywhere.
 *
 * The expiry is fixed when the key is made and is checked by the service on every request.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION lineal_check_api_key(p_key uuid, p_municipality uuid) RETURNS void
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      found_key record;
    BEGIN
      SELECT k.municipality_id, k.revoked_at INTO found_key FROM api_keys k WHERE k.id = p_key;
      IF NOT FOUND OR found_key.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'the API key is revoked' USING ERRCODE = 'LK401';
      END IF;
      IF p_municipality IS NOT NULL AND found_key.municipality_id IS NOT NULL
         AND found_key.municipality_id <> p_municipality THEN
        RAISE EXCEPTION 'the API key belongs to another municipality'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
    END $$;
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_enter_scope(p_municipality uuid, p_key uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      PERFORM lineal_check_api_key(p_key, p_municipality);
      PERFORM lineal_enter_scope(p_municipality);
    END $$;
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_enter_platform_scope(p_key uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      PERFORM lineal_check_api_key(p_key, NULL);
      PERFORM lineal_enter_platform_scope();
    END $$;
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_check_api_key(uuid, uuid) FROM PUBLIC`.execute(db);
  for (const fn of ['lineal_enter_scope(uuid, uuid)', 'lineal_enter_platform_scope(uuid)']) {
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO lineal_app`).execute(db);
  }
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION lineal_enter_platform_scope(uuid)`.execute(db);
  await sql`DROP FUNCTION lineal_enter_scope(uuid, uuid)`.execute(db);
  await sql`DROP FUNCTION lineal_check_api_key(uuid, uuid)`.execute(db);
}
