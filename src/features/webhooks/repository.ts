import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { DeliveryListQuery } from './schemas.js';

const subscriptionColumns = [
  'id',
  'url',
  'event_types',
  'unit_ids',
  'description',
  'enabled',
  'previous_secret_expires_at',
  'created_at',
  sql<string>`created_at::text`.as('created_at_key'),
  'updated_at',
] as const;

/** `created_at_key`: created_at as PostgreSQL prints it (the exact pagination key). */
export type SubscriptionRow = NonNullable<Awaited<ReturnType<typeof findSubscription>>>;

export function insertSubscription(
  db: Executor,
  values: {
    municipality_id: string;
    url: string;
    event_types: string[];
    unit_ids: string[] | null;
    description: string;
    enabled: boolean;
    secret: string;
    created_by: string;
    now: Date;
  },
) {
  const { now, ...row } = values;
  // The subscription starts after the last event already in the feed: it is sent what
  // happens from now on, not the municipality's history.
  return db
    .insertInto('webhook_subscriptions')
    .values({
      ...row,
      created_at: now,
      updated_at: now,
      cursor_tx: sql<string>`(SELECT tx_id FROM events
        WHERE municipality_id = ${values.municipality_id}
          AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id DESC, id DESC LIMIT 1)`,
      cursor_id: sql<number>`(SELECT id FROM events
        WHERE municipality_id = ${values.municipality_id}
          AND tx_id < pg_snapshot_xmin(pg_current_snapshot())
        ORDER BY tx_id DESC, id DESC LIMIT 1)`,
    })
    .returning(subscriptionColumns)
    .executeTakeFirstOrThrow();
}

export function findSubscription(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('webhook_subscriptions')
    .select(subscriptionColumns)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Oldest first, keyset-paginated on (created_at, id); fetches `limit + 1` rows. */
export function listSubscriptions(
  db: Executor,
  municipalityId: string,
  page: { after?: { createdAt: string; id: string }; limit: number },
) {
  let query = db
    .selectFrom('webhook_subscriptions')
    .select(subscriptionColumns)
    .where('municipality_id', '=', municipalityId)
    .orderBy('created_at')
    .orderBy('id')
    .limit(page.limit + 1);
  if (page.after) {
    const { createdAt, id } = page.after;
    query = query.where(sql<boolean>`(created_at, id) > (${createdAt}::timestamptz, ${id}::uuid)`);
  }
  return query.execute();
}

export function updateSubscription(
  db: Executor,
  municipalityId: string,
  id: string,
  changes: {
    url?: string;
    event_types?: string[];
    unit_ids?: string[] | null;
    description?: string;
    enabled?: boolean;
    secret?: string;
    previous_secret?: string | null;
    previous_secret_expires_at?: Date | null;
    updated_at: Date;
  },
) {
  return db
    .updateTable('webhook_subscriptions')
    .set(changes)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(subscriptionColumns)
    .executeTakeFirst();
}

export function findSecret(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('webhook_subscriptions')
    .select(['secret'])
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export async function deleteSubscription(
  db: Executor,
  municipalityId: string,
  id: string,
): Promise<boolean> {
  const result = await db
    .deleteFrom('webhook_subscriptions')
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .executeTakeFirst();
  return result.numDeletedRows > 0n;
}

const deliveryColumns = [
  'id',
  'subscription_id',
  'event_id',
  'event_type',
  'status',
  'attempts',
  'next_attempt_at',
  'last_attempt_at',
  'last_status_code',
  'last_error',
  'last_response_excerpt',
  'delivered_at',
  'created_at',
  sql<string>`created_at::text`.as('created_at_key'),
] as const;

export type DeliveryRow = NonNullable<Awaited<ReturnType<typeof findDelivery>>>;

export function findDelivery(db: Executor, municipalityId: string, webhookId: string, id: string) {
  return db
    .selectFrom('webhook_deliveries')
    .select(deliveryColumns)
    .where('municipality_id', '=', municipalityId)
    .where('subscription_id', '=', webhookId)
    .where('id', '=', id)
    .executeTakeFirst();
}

/** Newest first (by creation, then id), keyset-paginated; fetches `limit + 1` rows. */
export function listDeliveries(
  db: Executor,
  municipalityId: string,
  webhookId: string,
  query: Pick<DeliveryListQuery, 'limit' | 'status'> & {
    after?: { createdAt: string; id: string };
  },
) {
  let select = db
    .selectFrom('webhook_deliveries')
    .select(deliveryColumns)
    .where('municipality_id', '=', municipalityId)
    .where('subscription_id', '=', webhookId)
    .orderBy('created_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit + 1);
  if (query.status) select = select.where('status', '=', query.status);
  if (query.after) {
    const { createdAt, id } = query.after;
    select = select.where(
      sql<boolean>`(created_at, id) < (${createdAt}::timestamptz, ${id}::uuid)`,
    );
  }
  return select.execute();
}

/**
 * Makes a delivery due again at `now`, with a fresh set of attempts (same id, so the same
 * `webhook-id`); undefined when it is being delivered right now (or does not exist).
 */
export function requeueDelivery(
  db: Executor,
  municipalityId: string,
  webhookId: string,
  id: string,
  now: Date,
) {
  return db
    .updateTable('webhook_deliveries')
    .set({ status: 'pending', attempts: 0, next_attempt_at: now, lease_until: null })
    .where('municipality_id', '=', municipalityId)
    .where('subscription_id', '=', webhookId)
    .where('id', '=', id)
    .where('status', '<>', 'delivering')
    .returning(deliveryColumns)
    .executeTakeFirst();
}
