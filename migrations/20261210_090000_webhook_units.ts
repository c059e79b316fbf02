import { type Kysely, sql } from 'kysely';

/**
 * Webhooks for some units only (issue 15, point 3): `webhook_subscriptions.unit_ids` names the
 * units whose events the subscription is sent (the events' `unit_id`, migration
 * 20261209_090000); NULL sends the whole municipality's. An array rather than a join table: it
 * is read with its subscription on every delivery pass and never queried by unit.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    ALTER TABLE webhook_subscriptions
      ADD COLUMN unit_ids uuid[] CHECK (unit_ids IS NULL OR cardinality(unit_ids) BETWEEN 1 AND 500)
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`ALTER TABLE webhook_subscriptions DROP COLUMN unit_ids`.execute(db);
}
