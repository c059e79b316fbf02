import { type Kysely, sql } from 'kysely';

/**
 * Sign-in with the municipality's identity provider: an access token names its municipality by
 * id or by 3-digit code, and authentication happens before the tenant is known. Like
 * `lineal_find_api_key`, this SECURITY DEFINER function is the application role's only way to
 * read municipalities outside a tenant context; it returns one id (or null), nothing else.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION lineal_find_municipality(p_ref text) RETURNS uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT m.id FROM municipalities m
      WHERE m.code = p_ref OR m.id::text = lower(p_ref)
      LIMIT 1
    $$;
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_find_municipality(text) FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_find_municipality(text) TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION lineal_find_municipality(text)`.execute(db);
}
