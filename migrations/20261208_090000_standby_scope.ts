import { type Kysely, sql } from 'kysely';

/**
 * The row-level-security scope on a streaming replica (issue 14, DATABASE_REPLICA_URL).
 *
 * On the primary a transaction's scope is a row of `lineal_scopes` (unforgeable_scope), an
 * UNLOGGED table. A hot standby can write nothing, and cannot even plan a query on an unlogged
 * table ("cannot access temporary or unlogged relations during recovery"), so there the same
 * functions keep the scope elsewhere, with the same guarantees against the service's own role:
 *
 * - The scope is a transaction-local setting (`lineal.standby_scope`) holding the municipality
 *   (or `platform`) and a MAC over it, the backend's pid and the transaction's start time, keyed
 *   by a random secret in `lineal_standby_scope_key`, which only the owner can read (it is
 *   replicated like any table). `set_config` by the service's role gives a value whose MAC does
 *   not verify: no scope, no rows. A value copied from an earlier transaction does not verify
 *   either (another start time).
 * - One scope per transaction: entering a scope takes a transaction-level advisory lock
 *   (class LOCK_CLASS, id 1, shared, so transactions never wait for each other) and refuses when
 *   the transaction holds it already. A transaction-level advisory lock cannot be released
 *   before the transaction ends (pg_advisory_unlock* release session-level locks only), so SQL
 *   run later in the transaction cannot enter a second scope.
 * - The API key is checked as on the primary (lineal_check_api_key reads the replicated
 *   api_keys: a key revoked or made on the primary is seen once replayed).
 *
 * `lineal_current_municipality()` and `lineal_is_platform()` become PL/pgSQL so that the
 * statement reading `lineal_scopes` is planned only when it runs, i.e. never on a standby. They
 * are still called once per statement (the policies' `(SELECT fn())` form).
 *
 * Frozen in time: never import application code here.
 */

/** Advisory lock class of "this transaction has entered its scope" on a standby ("lns"). */
const LOCK_CLASS = 0x6c6e73;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE lineal_standby_scope_key (
      id boolean PRIMARY KEY DEFAULT true CHECK (id),
      key bytea NOT NULL
    )
  `.execute(db);
  await sql`ALTER TABLE lineal_standby_scope_key ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`REVOKE ALL ON lineal_standby_scope_key FROM PUBLIC`.execute(db);
  // 244 random bits (two version-4 uuids), hashed to 32 bytes.
  await sql`
    INSERT INTO lineal_standby_scope_key (key)
    SELECT sha256(convert_to(gen_random_uuid()::text || gen_random_uuid()::text, 'UTF8'))
  `.execute(db);

  // The MAC of a subject (a municipality id, or 'platform') for this backend and transaction:
  // sha256(k || sha256(k || message)), immune to length extension.
  await sql`
    CREATE FUNCTION lineal_standby_scope_mac(p_subject text) RETURNS text
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT encode(sha256(k.key || sha256(k.key || convert_to(
        p_subject || '|' || pg_backend_pid()::text || '|'
          || (extract(epoch FROM transaction_timestamp()) * 1000000)::bigint::text,
        'UTF8'))), 'hex')
      FROM lineal_standby_scope_key k
    $$;
  `.execute(db);
  // The subject of this transaction's verified scope on a standby, or NULL.
  await sql`
    CREATE FUNCTION lineal_standby_subject() RETURNS text
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      token text := current_setting('lineal.standby_scope', true);
      subject text;
    BEGIN
      IF token IS NULL OR token = '' THEN
        RETURN NULL;
      END IF;
      subject := split_part(token, ':', 1);
      IF split_part(token, ':', 2) = lineal_standby_scope_mac(subject) THEN
        RETURN subject;
      END IF;
      RETURN NULL;
    END $$;
  `.execute(db);
  for (const fn of ['lineal_standby_scope_mac(text)', 'lineal_standby_subject()']) {
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
  }

  await sql
    .raw(`
    CREATE OR REPLACE FUNCTION lineal_claim_scope(p_municipality uuid, p_platform boolean) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      me xid8;
      prior xid8;
      subject text;
    BEGIN
      IF pg_is_in_recovery() THEN
        IF EXISTS (
          SELECT 1 FROM pg_locks
          WHERE locktype = 'advisory' AND pid = pg_backend_pid()
            AND classid = ${LOCK_CLASS} AND objid = 1 AND objsubid = 2
        ) THEN
          RAISE EXCEPTION 'this transaction has its scope already: a transaction has exactly one'
            USING ERRCODE = 'insufficient_privilege';
        END IF;
        PERFORM pg_advisory_xact_lock_shared(${LOCK_CLASS}, 1);
        subject := CASE WHEN p_platform THEN 'platform' ELSE p_municipality::text END;
        PERFORM set_config('lineal.standby_scope',
          subject || ':' || lineal_standby_scope_mac(subject), true);
        RETURN;
      END IF;
      me := pg_current_xact_id();
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
  `)
    .execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_current_municipality() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      subject text;
    BEGIN
      IF pg_is_in_recovery() THEN
        subject := lineal_standby_subject();
        RETURN CASE WHEN subject IS NULL OR subject = 'platform' THEN NULL ELSE subject::uuid END;
      END IF;
      RETURN (
        SELECT municipality_id FROM lineal_scopes
        WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned()
      );
    END $$;
  `.execute(db);
  await sql`
    CREATE OR REPLACE FUNCTION lineal_is_platform() RETURNS boolean
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      IF pg_is_in_recovery() THEN
        RETURN coalesce(lineal_standby_subject() = 'platform', false);
      END IF;
      RETURN coalesce((
        SELECT platform FROM lineal_scopes
        WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned()
      ), false);
    END $$;
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
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
    CREATE OR REPLACE FUNCTION lineal_claim_scope(p_municipality uuid, p_platform boolean) RETURNS void
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
  await sql`DROP FUNCTION lineal_standby_subject()`.execute(db);
  await sql`DROP FUNCTION lineal_standby_scope_mac(text)`.execute(db);
  await sql`DROP TABLE lineal_standby_scope_key`.execute(db);
}
