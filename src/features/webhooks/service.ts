import { randomBytes } from 'node:crypto';
import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../db/schema.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { decodeCursor, PgTimestampSchema, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import type { EventType } from '../events/outbox.js';
import { unknownUnitErrors } from '../units/repository.js';
import {
  type DeliveryRow,
  deleteSubscription,
  findDelivery,
  findSecret,
  findSubscription,
  insertSubscription,
  listDeliveries,
  listSubscriptions,
  requeueDelivery,
  type SubscriptionRow,
  updateSubscription,
} from './repository.js';
import type {
  CreateWebhook,
  DeliveryListQuery,
  UpdateWebhook,
  Webhook,
  WebhookDelivery,
} from './schemas.js';
import { sealSecret } from './secret-box.js';
import { targetUrlProblems } from './target.js';

/** How long deliveries are still signed with the previous secret after a rotation. */
export const SECRET_GRACE_MS = 24 * 3_600_000;

/**
 * What the webhook routes need besides the request: the hosts exempt from the https rule, and
 * the deployment secret the signing secrets are sealed with (secret-box.ts).
 */
export interface WebhookSettings {
  allowHosts: readonly string[];
  deploymentSecret: string;
}

/** A Standard Webhooks secret: `whsec_` and 32 random bytes in base64. */
export function generateSecret(): string {
  return `whsec_${randomBytes(32).toString('base64')}`;
}

export function toWebhook(row: SubscriptionRow, now: Date): Webhook {
  const graceEnds = row.previous_secret_expires_at;
  return {
    id: row.id,
    url: row.url,
    eventTypes: row.event_types as EventType[],
    unitIds: row.unit_ids,
    description: row.description,
    enabled: row.enabled,
    previousSecretExpiresAt: graceEnds && graceEnds > now ? graceEnds.toISOString() : null,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
  };
}

function toDelivery(row: DeliveryRow): WebhookDelivery {
  return {
    id: row.id,
    webhookId: row.subscription_id,
    eventId: Number(row.event_id),
    eventType: row.event_type as EventType,
    status: row.status,
    attempts: row.attempts,
    nextAttemptAt: row.status === 'pending' ? row.next_attempt_at.toISOString() : null,
    lastAttemptAt: row.last_attempt_at?.toISOString() ?? null,
    lastStatusCode: row.last_status_code,
    lastError: row.last_error,
    lastResponseExcerpt: row.last_response_excerpt,
    deliveredAt: row.delivered_at?.toISOString() ?? null,
    createdAt: row.created_at.toISOString(),
  };
}

function requireTarget(url: string | undefined, settings: WebhookSettings): void {
  if (url === undefined) return;
  const errors = targetUrlProblems(url, settings.allowHosts);
  if (errors.length > 0) throw new ValidationFailedError('The webhook URL is not allowed.', errors);
}

/** 422 unless every unit named is one of the municipality's. */
async function requireUnits(
  trx: Transaction<DB>,
  municipalityId: string,
  unitIds: readonly string[] | null | undefined,
): Promise<void> {
  if (!unitIds) return;
  const errors = await unknownUnitErrors(trx, municipalityId, unitIds);
  if (errors.length > 0) throw new ValidationFailedError('A unit named is not known.', errors);
}

export async function createWebhook(
  session: Session,
  trx: Transaction<DB>,
  { body, settings }: { body: CreateWebhook; settings: WebhookSettings },
): Promise<Webhook & { secret: string }> {
  requireTarget(body.url, settings);
  await requireUnits(trx, session.municipalityId, body.unitIds);
  const secret = generateSecret();
  const row = await insertSubscription(trx, {
    municipality_id: session.municipalityId,
    url: body.url,
    event_types: body.eventTypes,
    unit_ids: body.unitIds,
    description: body.description,
    enabled: body.enabled,
    secret: sealSecret(secret, settings.deploymentSecret),
    created_by: session.principal.id,
    now: session.now,
  });
  return { ...toWebhook(row, session.now), secret };
}

export async function getWebhook(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<Webhook> {
  const row = await findSubscription(trx, session.municipalityId, id);
  if (!row) throw new NotFoundError('webhook', id);
  return toWebhook(row, session.now);
}

const listCursor = z.tuple([PgTimestampSchema, z.uuid()]);

export async function listWebhooks(
  session: Session,
  trx: Transaction<DB>,
  query: { limit: number; cursor?: string | undefined },
) {
  const after = query.cursor ? decodeCursor(query.cursor, listCursor) : undefined;
  const rows = await listSubscriptions(trx, session.municipalityId, {
    limit: query.limit,
    ...(after ? { after: { createdAt: after[0], id: after[1] } } : {}),
  });
  return toPage(
    rows,
    query.limit,
    (row) => toWebhook(row, session.now),
    (row) => [row.created_at_key, row.id],
  );
}

export async function changeWebhook(
  session: Session,
  trx: Transaction<DB>,
  { id, body, settings }: { id: string; body: UpdateWebhook; settings: WebhookSettings },
): Promise<Webhook> {
  requireTarget(body.url, settings);
  await requireUnits(trx, session.municipalityId, body.unitIds);
  const row = await updateSubscription(trx, session.municipalityId, id, {
    ...(body.url !== undefined ? { url: body.url } : {}),
    ...(body.eventTypes !== undefined ? { event_types: body.eventTypes } : {}),
    ...(body.unitIds !== undefined ? { unit_ids: body.unitIds } : {}),
    ...(body.description !== undefined ? { description: body.description } : {}),
    ...(body.enabled !== undefined ? { enabled: body.enabled } : {}),
    updated_at: session.now,
  });
  if (!row) throw new NotFoundError('webhook', id);
  return toWebhook(row, session.now);
}

export async function removeWebhook(
  session: Session,
  trx: Transaction<DB>,
  id: string,
): Promise<void> {
  if (!(await deleteSubscription(trx, session.municipalityId, id))) {
    throw new NotFoundError('webhook', id);
  }
}

/**
 * A new secret, shown once. Deliveries are signed with both the new and the previous secret
 * for SECRET_GRACE_MS (Standard Webhooks: several signatures, space-separated), so a receiver
 * can switch to the new one without losing deliveries.
 */
export async function rotateWebhookSecret(
  session: Session,
  trx: Transaction<DB>,
  { id, settings }: { id: string; settings: WebhookSettings },
): Promise<Webhook & { secret: string }> {
  const current = await findSecret(trx, session.municipalityId, id);
  if (!current) throw new NotFoundError('webhook', id);
  const secret = generateSecret();
  const row = await updateSubscription(trx, session.municipalityId, id, {
    secret: sealSecret(secret, settings.deploymentSecret),
    previous_secret: current.secret,
    previous_secret_expires_at: new Date(session.now.getTime() + SECRET_GRACE_MS),
    updated_at: session.now,
  });
  if (!row) throw new NotFoundError('webhook', id);
  return { ...toWebhook(row, session.now), secret };
}

const deliveryCursor = z.tuple([PgTimestampSchema, z.uuid()]);

export async function listWebhookDeliveries(
  session: Session,
  trx: Transaction<DB>,
  { id, query }: { id: string; query: DeliveryListQuery },
) {
  if (!(await findSubscription(trx, session.municipalityId, id))) {
    throw new NotFoundError('webhook', id);
  }
  const after = query.cursor ? decodeCursor(query.cursor, deliveryCursor) : undefined;
  const rows = await listDeliveries(trx, session.municipalityId, id, {
    limit: query.limit,
    status: query.status,
    ...(after ? { after: { createdAt: after[0], id: after[1] } } : {}),
  });
  return toPage(rows, query.limit, toDelivery, (row) => [row.created_at_key, row.id]);
}

export async function redeliverWebhook(
  session: Session,
  trx: Transaction<DB>,
  { webhookId, deliveryId }: { webhookId: string; deliveryId: string },
): Promise<WebhookDelivery> {
  const row = await requeueDelivery(
    trx,
    session.municipalityId,
    webhookId,
    deliveryId,
    session.now,
  );
  if (row) return toDelivery(row);
  if (await findDelivery(trx, session.municipalityId, webhookId, deliveryId)) {
    throw new ConflictError(
      `The delivery ${deliveryId} is being delivered right now; try again when it is done.`,
      'delivery-in-progress',
    );
  }
  throw new NotFoundError('webhook delivery', deliveryId);
}
