import { type Kysely, sql } from 'kysely';

/**
 * Webhooks (issue 15, point 4).
 *
 * - `webhook_subscriptions`: a municipality's subscriptions (target URL, event types, the
 *   Standard Webhooks secret and, after a rotation, the previous secret until it expires, both
 *   sealed by the application: AES-256-GCM under a key derived from the deployment secret), and
 *   the subscription's cursor in the event outbox (`cursor_tx`, `cursor_id`: the last event
 *   handed to it, in the feed's (tx_id, id) order).
 * - `webhook_deliveries`: one row per event and subscription (unique), so its id is the stable
 *   `webhook-id` a consumer dedupes on. A delivery is `pending` (due at `next_attempt_at`),
 *   `delivering` (claimed by an instance until `lease_until`: a lease that runs out, because the
 *   instance died, makes it due again), `succeeded` or `dead` (after the last attempt failed).
 *   The payload is thin (event type, ids, cursor); the response is kept as a short excerpt.
 *
 * Both tables belong to one municipality each (row-level security like every tenant table).
 * `lineal_webhook_municipalities()` (SECURITY DEFINER) names the municipalities with an enabled
 * subscription, for the delivery job.
 *
 * Frozen in time: never import application code here.
 */
const current = '(SELECT lineal_current_municipality())';

async function tenantIsolation(db: Kysely<any>, table: string): Promise<void> {
  await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql
    .raw(
      `CREATE POLICY ${table}_tenant_isolation ON ${table} ` +
        `USING (municipality_id = ${current}) WITH CHECK (municipality_id = ${current})`,
    )
    .execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE webhook_subscriptions (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      municipality_id uuid NOT NULL REFERENCES municipalities (id),
      url text NOT NULL CHECK (length(url) <= 2000),
      event_types text[] NOT NULL CHECK (cardinality(event_types) > 0),
      description text NOT NULL DEFAULT '' CHECK (length(description) <= 500),
      enabled boolean NOT NULL DEFAULT true,
      secret text NOT NULL,
      previous_secret text,
      previous_secret_expires_at timestamptz,
      cursor_tx xid8,
      cursor_id bigint,
      created_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      updated_at timestamptz NOT NULL DEFAULT now()
    )
  `.execute(db);
  await sql`CREATE INDEX webhook_subscriptions_municipality_idx
    ON webhook_subscriptions (municipality_id, created_at, id)`.execute(db);

  await sql`
    CREATE TABLE webhook_deliveries (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      municipality_id uuid NOT NULL,
      subscription_id uuid NOT NULL REFERENCES webhook_subscriptions (id) ON DELETE CASCADE,
      event_id bigint NOT NULL,
      event_type text NOT NULL,
      payload jsonb NOT NULL,
      status text NOT NULL DEFAULT 'pending'
        CHECK (status IN ('pending', 'delivering', 'succeeded', 'dead')),
      attempts integer NOT NULL DEFAULT 0,
      next_attempt_at timestamptz NOT NULL,
      lease_until timestamptz,
      last_attempt_at timestamptz,
      last_status_code integer,
      last_error text,
      last_response_excerpt text,
      delivered_at timestamptz,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (subscription_id, event_id)
    )
  `.execute(db);
  // The claim's search: due deliveries (and expired leases) of a municipality.
  await sql`CREATE INDEX webhook_deliveries_due_idx
    ON webhook_deliveries (municipality_id, next_attempt_at)
    WHERE status IN ('pending', 'delivering')`.execute(db);
  // The delivery log of a subscription, newest first.
  await sql`CREATE INDEX webhook_deliveries_log_idx
    ON webhook_deliveries (subscription_id, created_at DESC, id DESC)`.execute(db);

  await tenantIsolation(db, 'webhook_subscriptions');
  await tenantIsolation(db, 'webhook_deliveries');
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON webhook_subscriptions, webhook_deliveries
    TO lineal_app`.execute(db);

  // The delivery job visits only the municipalities with an enabled subscription: the platform
  // scope sees no municipality's rows, so it asks this function (ids only) instead of entering
  // every municipality's scope on every pass.
  await sql`
    CREATE FUNCTION lineal_webhook_municipalities() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$ SELECT DISTINCT municipality_id FROM webhook_subscriptions WHERE enabled $$
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_webhook_municipalities() FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_webhook_municipalities() TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION lineal_webhook_municipalities()`.execute(db);
  await sql`DROP TABLE webhook_deliveries`.execute(db);
  await sql`DROP TABLE webhook_subscriptions`.execute(db);
}
