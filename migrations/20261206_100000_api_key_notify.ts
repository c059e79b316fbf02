import { type Kysely, sql } from 'kysely';

/**
 * Every change that can alter what an API key may do is announced on the notification channel
 * `lineal_api_keys`, with the key's id (uuid) as payload: an UPDATE of its key id, hash,
 * municipality, role, units, expiry or revocation, and a DELETE. A TRUNCATE announces `*` (every
 * key). Service instances cache the keys they verified and drop a key when its id is announced
 * (src/auth/api-key-cache.ts). `last_used_at` is not announced: it changes nothing a key may do.
 * NOTIFY is delivered at commit, and not at all when the transaction rolls back.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE FUNCTION lineal_api_key_changed() RETURNS trigger
    LANGUAGE plpgsql
    AS $$
    BEGIN
      IF TG_OP = 'TRUNCATE' THEN
        PERFORM pg_notify('lineal_api_keys', '*');
        RETURN NULL;
      END IF;
      PERFORM pg_notify('lineal_api_keys', OLD.id::text);
      IF TG_OP = 'UPDATE' AND NEW.id IS DISTINCT FROM OLD.id THEN
        PERFORM pg_notify('lineal_api_keys', NEW.id::text);
      END IF;
      RETURN NULL;
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER api_keys_changed
      AFTER UPDATE OF id, key_id, key_hash, municipality_id, role, unit_ids, expires_at, revoked_at
      OR DELETE ON api_keys
      FOR EACH ROW EXECUTE FUNCTION lineal_api_key_changed()
  `.execute(db);
  await sql`
    CREATE TRIGGER api_keys_truncated
      AFTER TRUNCATE ON api_keys
      FOR EACH STATEMENT EXECUTE FUNCTION lineal_api_key_changed()
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TRIGGER api_keys_truncated ON api_keys`.execute(db);
  await sql`DROP TRIGGER api_keys_changed ON api_keys`.execute(db);
  await sql`DROP FUNCTION lineal_api_key_changed()`.execute(db);
}
