import { type Kysely, sql } from 'kysely';

/**
 * The parent view (issue 18, point 2): a parent opens a one-time link the unit hands out and gets
 * a short session that sees one child — that child's assessments, the steps that concern the
 * parents, the consents and the access log — and nothing else. The database enforces the "one
 * child" as it enforces the municipality:
 *
 * - `parent_links`: a link a unit made for a child (only the SHA-256 of its code is kept), usable
 *   once, until it expires or is revoked. `parent_sessions`: what opening one gave (the SHA-256
 *   of the session token), until it expires (checked by the service's clock, like API keys) or
 *   is revoked (checked here, on every transaction).
 * - `lineal_open_parent_session` (SECURITY DEFINER) exchanges a link for a session in one
 *   statement: the link is spent, the session written and the exchange audited together.
 * - `lineal_enter_parent_scope(session)` enters the municipality's scope of the session's child
 *   and records the child in `lineal_scopes.child_id`; refused for a revoked or unknown session,
 *   and on a standby (parent sessions never read from a replica: there the child could not be
 *   recorded). Every other scope a backend claims clears `child_id` (a trigger).
 * - The parent's transaction then runs as the role `lineal_parent` (`SET LOCAL ROLE`, which a
 *   SECURITY DEFINER function cannot do for its caller); `lineal_app` becomes NOINHERIT so that
 *   it may switch to that role without falling under its policies. That role may read only the tables the
 *   parent view needs (no API keys, aggregates, imports, webhooks, flags, concern reports…), and
 *   restrictive policies for it show only the scope's child's rows. Policies for that role only:
 *   the staff's queries keep their plans (a restrictive policy for every role changed the
 *   planner's estimates, and a 100,000-row roster import went from 23 s to many minutes).
 * - `lineal_current_municipality()` answers NULL — no rows at all — in a parent scope unless the
 *   role is `lineal_parent`: SQL that switches the role back (`RESET ROLE`) sees nothing, so a
 *   parent's transaction cannot leave its one child.
 * - `lineal_current_child()`: the scope's child, NULL outside a parent scope.
 * - `audit_log` gains `unit_ids` (the units the principal was limited to, for the parent's access
 *   log: "a unit_staff of Solsikken read …") and principal kind `parent`.
 *
 * Frozen in time: never import application code here.
 */
const current = '(SELECT lineal_current_municipality())';
const child = '(SELECT lineal_current_child())';

/** Tables whose rows name one child in `child_id`. */
const childTables = [
  'children',
  'enrolments',
  'assessments',
  'recommendations',
  'recommendation_steps',
  'flags',
  'concern_reports',
  'consents',
  'social_worker_assignments',
  'parent_notices',
  'events',
  'audit_log',
  'round_assessment_facts',
  'parent_links',
  'parent_sessions',
  'self_reports',
];
/** What the parent view reads; `lineal_parent` may read nothing else. */
const parentReads = [
  'children',
  'enrolments',
  'units',
  'rulers',
  'ruler_versions',
  'assessments',
  'recommendations',
  'recommendation_steps',
  'consents',
  'parent_notices',
  'audit_log',
  'parent_sessions',
  'self_reports',
];

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE parent_links (
      id uuid PRIMARY KEY,
      municipality_id uuid NOT NULL,
      child_id uuid NOT NULL REFERENCES children (id) ON DELETE CASCADE,
      unit_id uuid NOT NULL REFERENCES units (id),
      code_hash bytea NOT NULL,
      handed_to text CHECK (char_length(handed_to) BETWEEN 1 AND 200),
      created_at timestamptz NOT NULL,
      created_by text NOT NULL,
      expires_at timestamptz NOT NULL,
      used_at timestamptz,
      revoked_at timestamptz,
      revoked_by text
    )
  `.execute(db);
  await sql`CREATE INDEX parent_links_child_idx ON parent_links (child_id, created_at)`.execute(db);
  await sql`
    CREATE TABLE parent_sessions (
      id uuid PRIMARY KEY,
      municipality_id uuid NOT NULL,
      child_id uuid NOT NULL REFERENCES children (id) ON DELETE CASCADE,
      link_id uuid NOT NULL REFERENCES parent_links (id) ON DELETE CASCADE,
      token_hash bytea NOT NULL,
      created_at timestamptz NOT NULL,
      expires_at timestamptz NOT NULL,
      revoked_at timestamptz
    )
  `.execute(db);
  await sql`CREATE INDEX parent_sessions_link_idx ON parent_sessions (link_id)`.execute(db);
  for (const table of ['parent_links', 'parent_sessions']) {
    await sql.raw(`ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`).execute(db);
    await sql
      .raw(
        `CREATE POLICY ${table}_tenant_isolation ON ${table} ` +
          `USING (municipality_id = ${current}) WITH CHECK (municipality_id = ${current})`,
      )
      .execute(db);
  }
  await sql`GRANT SELECT, INSERT, UPDATE ON parent_links TO lineal_app`.execute(db);
  // Sessions are made by lineal_open_parent_session only; the service reads and revokes them.
  await sql`GRANT SELECT, UPDATE (revoked_at) ON parent_sessions TO lineal_app`.execute(db);

  await sql`ALTER TABLE lineal_scopes ADD COLUMN child_id uuid`.execute(db);
  // When a leader recorded the parents informed while the child was at risk (the database's
  // clock): it lifts the withholding of the parent view for the risks recorded before it.
  await sql`ALTER TABLE parent_notices ADD COLUMN risk_lifted_at timestamptz`.execute(db);
  await sql`ALTER TABLE audit_log ADD COLUMN unit_ids uuid[]`.execute(db);
  await sql`ALTER TABLE audit_log DROP CONSTRAINT audit_log_principal_kind_check`.execute(db);
  await sql`
    ALTER TABLE audit_log ADD CONSTRAINT audit_log_principal_kind_check
      CHECK (principal_kind IN ('api_key', 'oidc', 'system', 'parent'))
  `.execute(db);

  await sql`
    CREATE OR REPLACE FUNCTION lineal_current_child() RETURNS uuid
    LANGUAGE plpgsql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    BEGIN
      IF pg_is_in_recovery() THEN
        RETURN NULL;
      END IF;
      RETURN (
        SELECT child_id FROM lineal_scopes
        WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned()
      );
    END $$;
  `.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_current_child() TO lineal_app`.execute(db);

  // Every scope a transaction claims starts without a child (the row is reused per backend).
  await sql`
    CREATE OR REPLACE FUNCTION lineal_clear_scope_child() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      IF current_setting('lineal.parent_scope', true) IS DISTINCT FROM NEW.xact::text THEN
        NEW.child_id := NULL;
      END IF;
      RETURN NEW;
    END $$
  `.execute(db);
  await sql`
    CREATE TRIGGER lineal_scopes_clear_child BEFORE INSERT OR UPDATE ON lineal_scopes
    FOR EACH ROW EXECUTE FUNCTION lineal_clear_scope_child()
  `.execute(db);

  await sql`
    CREATE FUNCTION lineal_enter_parent_scope(p_session uuid) RETURNS void
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      s record;
    BEGIN
      IF pg_is_in_recovery() THEN
        RAISE EXCEPTION 'a parent scope is entered on the primary only'
          USING ERRCODE = 'insufficient_privilege';
      END IF;
      SELECT ps.municipality_id, ps.child_id, ps.revoked_at INTO s
      FROM parent_sessions ps WHERE ps.id = p_session;
      IF NOT FOUND OR s.revoked_at IS NOT NULL THEN
        RAISE EXCEPTION 'the parent session is revoked' USING ERRCODE = 'LK401';
      END IF;
      PERFORM lineal_enter_scope(s.municipality_id);
      PERFORM set_config('lineal.parent_scope', pg_current_xact_id()::text, true);
      UPDATE lineal_scopes SET child_id = s.child_id WHERE backend_pid = pg_backend_pid();
    END $$;
  `.execute(db);

  await sql`
    CREATE FUNCTION lineal_find_parent_session(p_session uuid)
    RETURNS TABLE (
      token_hash bytea, municipality_id uuid, child_id uuid,
      expires_at timestamptz, revoked_at timestamptz
    )
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT s.token_hash, s.municipality_id, s.child_id, s.expires_at, s.revoked_at
      FROM parent_sessions s WHERE s.id = p_session
    $$;
  `.execute(db);

  await sql`
    CREATE FUNCTION lineal_open_parent_session(
      p_link uuid, p_code_hash bytea, p_session uuid, p_token_hash bytea,
      p_now timestamptz, p_expires timestamptz, p_request text
    )
    RETURNS TABLE (municipality_id uuid, child_id uuid)
    LANGUAGE plpgsql VOLATILE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
    DECLARE
      l record;
    BEGIN
      SELECT pl.municipality_id, pl.child_id, pl.code_hash, pl.used_at, pl.revoked_at,
             pl.expires_at
      INTO l FROM parent_links pl WHERE pl.id = p_link FOR UPDATE;
      IF NOT FOUND OR l.code_hash <> p_code_hash OR l.used_at IS NOT NULL
         OR l.revoked_at IS NOT NULL OR l.expires_at <= p_now THEN
        RETURN;
      END IF;
      UPDATE parent_links SET used_at = p_now WHERE id = p_link;
      INSERT INTO parent_sessions (id, municipality_id, child_id, link_id, token_hash, created_at,
                                   expires_at)
      VALUES (p_session, l.municipality_id, l.child_id, p_link, p_token_hash, p_now, p_expires);
      INSERT INTO audit_log (municipality_id, principal_kind, principal_id, role, action,
                             resource_type, resource_id, child_id, outcome, status_code,
                             request_id)
      VALUES (l.municipality_id, 'parent', p_session::text, 'parent', 'create',
              'parent_session', p_session::text, l.child_id, 'success', 201, p_request);
      RETURN QUERY SELECT l.municipality_id, l.child_id;
    END $$;
  `.execute(db);
  for (const fn of [
    'lineal_enter_parent_scope(uuid)',
    'lineal_find_parent_session(uuid)',
    'lineal_open_parent_session(uuid, bytea, uuid, bytea, timestamptz, timestamptz, text)',
  ]) {
    await sql.raw(`REVOKE ALL ON FUNCTION ${fn} FROM PUBLIC`).execute(db);
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO lineal_app`).execute(db);
  }

  await sql`
    DO $$
    BEGIN
      IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'lineal_parent') THEN
        CREATE ROLE lineal_parent NOLOGIN;
      END IF;
    END
    $$;
  `.execute(db);
  // The service's role may become lineal_parent (SET ROLE) without holding its privileges or
  // falling under its policies: a member's memberships are followed for privileges (and
  // policies) only when the member INHERITs. lineal_app holds no other membership; the login
  // role that is a member of lineal_app still inherits lineal_app's own privileges.
  await sql`
    DO $$
    BEGIN
      IF (SELECT rolinherit FROM pg_roles WHERE rolname = 'lineal_app') THEN
        ALTER ROLE lineal_app NOINHERIT;
      END IF;
    END
    $$;
  `.execute(db);
  // Created beforehand by an administrator when the migrating role may not manage roles
  // (docs/operations.md): then each of these is already so and is skipped.
  await sql`
    DO $$
    BEGIN
      IF NOT pg_has_role('lineal_app', 'lineal_parent', 'MEMBER') THEN
        GRANT lineal_parent TO lineal_app;
      END IF;
      -- From PostgreSQL 16 inheritance belongs to each grant (rolinherit is only the default of
      -- new ones): a grant made before, inheriting, is made again without.
      IF pg_has_role('lineal_app', 'lineal_parent', 'USAGE')
         AND current_setting('server_version_num')::int >= 160000 THEN
        EXECUTE 'REVOKE lineal_parent FROM lineal_app';
        EXECUTE 'GRANT lineal_parent TO lineal_app WITH INHERIT FALSE';
      END IF;
      IF pg_has_role('lineal_app', 'lineal_parent', 'USAGE') THEN
        RAISE EXCEPTION 'lineal_app must not inherit lineal_parent (its policies would hide every '
          'child from the service): ALTER ROLE lineal_app NOINHERIT, or on PostgreSQL 16 and '
          'later GRANT lineal_parent TO lineal_app WITH INHERIT FALSE';
      END IF;
    END
    $$;
  `.execute(db);
  await sql`GRANT USAGE ON SCHEMA public TO lineal_parent`.execute(db);
  await sql.raw(`GRANT SELECT ON ${parentReads.join(', ')} TO lineal_parent`).execute(db);
  await sql`GRANT INSERT ON audit_log TO lineal_parent`.execute(db);
  // Revoking a consent, and nothing else of it (the confirmation stays the leader's).
  await sql`
    GRANT UPDATE (revoked_at, revoked_by_name, revoked_by_relation, revocation_reason,
                  revocation_recorded_by) ON consents TO lineal_parent
  `.execute(db);
  await sql`GRANT UPDATE (revoked_at) ON parent_sessions TO lineal_parent`.execute(db);
  await sql`GRANT USAGE ON SEQUENCE audit_log_id_seq TO lineal_parent`.execute(db);
  for (const fn of [
    'lineal_current_municipality()',
    'lineal_is_platform()',
    'lineal_current_child()',
  ]) {
    await sql.raw(`GRANT EXECUTE ON FUNCTION ${fn} TO lineal_parent`).execute(db);
  }
  for (const table of childTables) {
    const column = table === 'children' ? 'id' : 'child_id';
    await sql
      .raw(
        `CREATE POLICY ${table}_parent_scope ON ${table} AS RESTRICTIVE TO lineal_parent ` +
          `USING (${column} = ${child}) WITH CHECK (${column} = ${child})`,
      )
      .execute(db);
  }
  await sql.raw(currentMunicipality(true)).execute(db);
}

/**
 * `lineal_current_municipality()` as migration 20261208_090000 left it, or answering NULL in a
 * parent scope unless the transaction runs as `lineal_parent` (`role` is the SET ROLE setting,
 * which a SECURITY DEFINER function does not change).
 */
const currentMunicipality = (parentScopes: boolean) => `
  CREATE OR REPLACE FUNCTION lineal_current_municipality() RETURNS uuid
  LANGUAGE plpgsql STABLE SECURITY DEFINER
  SET search_path = public, pg_temp
  AS $$
  DECLARE
    subject text;${parentScopes ? '\n    scope record;' : ''}
  BEGIN
    IF pg_is_in_recovery() THEN
      subject := lineal_standby_subject();
      RETURN CASE WHEN subject IS NULL OR subject = 'platform' THEN NULL ELSE subject::uuid END;
    END IF;${
      parentScopes
        ? `
    SELECT municipality_id, child_id INTO scope FROM lineal_scopes
    WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned();
    IF scope.child_id IS NOT NULL AND current_setting('role') <> 'lineal_parent' THEN
      RETURN NULL;
    END IF;
    RETURN scope.municipality_id;`
        : `
    RETURN (
      SELECT municipality_id FROM lineal_scopes
      WHERE backend_pid = pg_backend_pid() AND xact = pg_current_xact_id_if_assigned()
    );`
    }
  END $$
`;

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(currentMunicipality(false)).execute(db);
  await sql`DROP TABLE parent_sessions`.execute(db);
  await sql`DROP TABLE parent_links`.execute(db);
  for (const table of childTables) {
    if (table === 'parent_links' || table === 'parent_sessions') continue;
    await sql.raw(`DROP POLICY ${table}_parent_scope ON ${table}`).execute(db);
  }
  await sql
    .raw(
      `REVOKE ALL ON ${parentReads.filter((t) => t !== 'parent_sessions').join(', ')} FROM lineal_parent`,
    )
    .execute(db);
  await sql`REVOKE ALL ON SEQUENCE audit_log_id_seq FROM lineal_parent`.execute(db);
  await sql`REVOKE ALL ON SCHEMA public FROM lineal_parent`.execute(db);
  await sql`DROP FUNCTION lineal_open_parent_session(uuid, bytea, uuid, bytea, timestamptz, timestamptz, text)`.execute(
    db,
  );
  await sql`DROP FUNCTION lineal_find_parent_session(uuid)`.execute(db);
  await sql`DROP FUNCTION lineal_enter_parent_scope(uuid)`.execute(db);
  await sql`DROP TRIGGER lineal_scopes_clear_child ON lineal_scopes`.execute(db);
  await sql`DROP FUNCTION lineal_clear_scope_child()`.execute(db);
  await sql`DROP FUNCTION lineal_current_child()`.execute(db);
  await sql`ALTER TABLE audit_log DROP CONSTRAINT audit_log_principal_kind_check`.execute(db);
  await sql`
    ALTER TABLE audit_log ADD CONSTRAINT audit_log_principal_kind_check
      CHECK (principal_kind IN ('api_key', 'oidc', 'system')) NOT VALID
  `.execute(db);
  await sql`ALTER TABLE audit_log DROP COLUMN unit_ids`.execute(db);
  await sql`ALTER TABLE lineal_scopes DROP COLUMN child_id`.execute(db);
  await sql`ALTER TABLE parent_notices DROP COLUMN risk_lifted_at`.execute(db);
}
