import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { Webhook } from 'standardwebhooks';
import { auditSystem } from '../audit/audit.js';
import type { WebhookConfig } from '../config.js';
import { type Database, municipalityScope, platformScope } from '../db/database.js';
import type { DB } from '../db/schema.js';
import { afterFailure } from '../domain/webhook-retry.js';
import type { WebhookPayload } from '../features/webhooks/schemas.js';
import { openSecret } from '../features/webhooks/secret-box.js';
import { type SendResult, sendWebhook } from '../features/webhooks/send.js';
import { encodeCursor } from '../http/pagination.js';

/** Events read per subscription and pass, and deliveries claimed per municipality and pass. */
const FAN_OUT_BATCH = 500;
const CLAIM_BATCH = 20;

export interface DispatcherOptions {
  /** The deployment secret the signing secrets are sealed with (LINEAL_CPR_SECRET). */
  deploymentSecret: string;
  /** The clock (tests move it); also the `webhook-timestamp`. */
  now?: () => Date;
  /** A draw from [0, 1), for the retry jitter. */
  random?: () => number;
  logger?: Logger;
}

export interface PassReport {
  /** Deliveries created from new events. */
  queued: number;
  /** Attempts made, and how many succeeded. */
  attempted: number;
  succeeded: number;
}

interface Claimed {
  id: string;
  payload: unknown;
  attempts: number;
  url: string;
  secret: string;
  previous_secret: string | null;
  previous_secret_expires_at: Date | null;
}

/**
 * Delivers webhooks from the event outbox. One pass, for each municipality in its own scope:
 *
 * 1. fan-out: each enabled subscription (locked FOR UPDATE SKIP LOCKED, so one instance at a
 *    time moves it) reads the events after its cursor, in the feed's stable order and only from
 *    transactions older than any still running (src/features/events/outbox.ts), creates one
 *    delivery per event of its types and moves its cursor, in one transaction;
 * 2. claim: due deliveries (pending and due, or delivering with a lease that ran out because
 *    its instance died) are taken FOR UPDATE SKIP LOCKED and leased to this instance, attempt
 *    counted, and committed before anything is sent: two instances never send the same
 *    delivery at once, and a delivery whose instance died is sent again when the lease ends
 *    (at-least-once, with the same `webhook-id`);
 * 3. send, outside any transaction, and record the outcome (only if the lease is still this
 *    attempt's): succeeded, or pending again after a backoff with jitter, or dead after the
 *    last attempt.
 */
export class WebhookDispatcher {
  readonly #now: () => Date;
  readonly #random: () => number;
  readonly #logger: Logger | undefined;
  readonly #deploymentSecret: string;

  constructor(
    private readonly database: Database,
    private readonly config: WebhookConfig,
    options: DispatcherOptions,
  ) {
    this.#deploymentSecret = options.deploymentSecret;
    this.#now = options.now ?? (() => new Date());
    this.#random = options.random ?? Math.random;
    this.#logger = options.logger;
  }

  /** A delivery is leased for longer than an attempt can take. */
  get leaseMs(): number {
    return 2 * this.config.timeoutMs + 5_000;
  }

  async runPass(): Promise<PassReport> {
    const report: PassReport = { queued: 0, attempted: 0, succeeded: 0 };
    for (const municipalityId of await subscribedMunicipalities(this.database)) {
      report.queued += await this.#fanOut(municipalityId);
      const claimed = await this.#claim(municipalityId);
      const results = await Promise.all(claimed.map((delivery) => this.#deliver(delivery)));
      report.attempted += results.length;
      report.succeeded += results.filter((result) => result.ok).length;
      await this.database.transaction(municipalityScope(municipalityId), async (trx) => {
        for (const [index, delivery] of claimed.entries()) {
          const result = results[index];
          if (result) await this.#record(trx, delivery, result);
        }
      });
    }
    return report;
  }

  #fanOut(municipalityId: string): Promise<number> {
    return this.database.transaction(municipalityScope(municipalityId), async (trx) => {
      const subscriptions = await sql<{
        id: string;
        event_types: string[];
        unit_ids: string[] | null;
        cursor_tx: string | null;
        cursor_id: string | null;
      }>`
        SELECT id, event_types, unit_ids, cursor_tx::text AS cursor_tx,
               cursor_id::text AS cursor_id
        FROM webhook_subscriptions
        WHERE municipality_id = ${municipalityId} AND enabled
        ORDER BY id
        FOR UPDATE SKIP LOCKED
      `.execute(trx);
      let queued = 0;
      const runId = randomUUID();
      for (const subscription of subscriptions.rows) {
        const after =
          subscription.cursor_tx === null
            ? sql``
            : sql`AND (tx_id, id) > (${subscription.cursor_tx}::xid8, ${subscription.cursor_id}::bigint)`;
        const { rows: events } = await sql<OutboxEventRow>`
          SELECT id::text AS id, tx_id::text AS tx_id, type, child_id, unit_id, subject_type,
                 subject_id, created_at
          FROM events
          WHERE municipality_id = ${municipalityId}
            AND tx_id < pg_snapshot_xmin(pg_current_snapshot()) ${after}
          ORDER BY events.tx_id, events.id
          LIMIT ${FAN_OUT_BATCH}
        `.execute(trx);
        const last = events[events.length - 1];
        if (!last) continue;
        // Its types, and (a subscription for some units) only those units' events.
        const units = subscription.unit_ids;
        const wanted = events.filter(
          (event) =>
            subscription.event_types.includes(event.type) &&
            (units === null || (event.unit_id !== null && units.includes(event.unit_id))),
        );
        if (wanted.length > 0) {
          const now = this.#now();
          await trx
            .insertInto('webhook_deliveries')
            .values(
              wanted.map((event) => ({
                municipality_id: municipalityId,
                subscription_id: subscription.id,
                event_id: Number(event.id),
                event_type: event.type,
                payload: JSON.stringify(thinPayload(event)),
                next_attempt_at: now,
                created_at: now,
              })),
            )
            .onConflict((oc) => oc.columns(['subscription_id', 'event_id']).doNothing())
            .execute();
          queued += wanted.length;
          // The webhook carries ids of children: the hand-over is audited like a feed read.
          await auditSystem(
            trx,
            { job: 'webhooks', runId, municipalityId },
            {
              action: 'export',
              resource: 'event',
              criteria: {
                webhookId: subscription.id,
                events: wanted.length,
                firstEventId: Number(wanted[0]?.id),
                lastEventId: Number(wanted[wanted.length - 1]?.id),
              },
            },
          );
        }
        await sql`
          UPDATE webhook_subscriptions
          SET cursor_tx = ${last.tx_id}::xid8, cursor_id = ${last.id}::bigint
          WHERE id = ${subscription.id} AND municipality_id = ${municipalityId}
        `.execute(trx);
      }
      return queued;
    });
  }

  #claim(municipalityId: string): Promise<Claimed[]> {
    const now = this.#now();
    const leaseUntil = new Date(now.getTime() + this.leaseMs);
    return this.database.transaction(municipalityScope(municipalityId), async (trx) => {
      const { rows } = await sql<Claimed>`
        WITH due AS (
          SELECT d.id
          FROM webhook_deliveries d
          JOIN webhook_subscriptions s ON s.id = d.subscription_id AND s.enabled
          WHERE d.municipality_id = ${municipalityId}
            AND ((d.status = 'pending' AND d.next_attempt_at <= ${now})
              OR (d.status = 'delivering' AND d.lease_until <= ${now}))
          ORDER BY d.next_attempt_at, d.id
          LIMIT ${CLAIM_BATCH}
          FOR UPDATE OF d SKIP LOCKED
        ), claimed AS (
          UPDATE webhook_deliveries d
          SET status = 'delivering', lease_until = ${leaseUntil}, attempts = d.attempts + 1,
              last_attempt_at = ${now}
          FROM due
          WHERE d.id = due.id
          RETURNING d.id, d.subscription_id, d.payload, d.attempts
        )
        SELECT c.id, c.payload, c.attempts, s.url, s.secret, s.previous_secret,
               s.previous_secret_expires_at
        FROM claimed c JOIN webhook_subscriptions s ON s.id = c.subscription_id
      `.execute(trx);
      return rows;
    });
  }

  async #deliver(delivery: Claimed): Promise<SendResult> {
    const now = this.#now();
    const body = JSON.stringify(delivery.payload);
    const sign = (sealed: string) =>
      new Webhook(openSecret(sealed, this.#deploymentSecret)).sign(delivery.id, now, body);
    let signatures: string[];
    try {
      signatures = [sign(delivery.secret)];
      const previous = delivery.previous_secret;
      const graceEnds = delivery.previous_secret_expires_at;
      if (previous && graceEnds && new Date(graceEnds) > now) signatures.push(sign(previous));
    } catch {
      // Sealed under another deployment secret: nothing can be signed (an operator's error).
      return { ok: false, statusCode: null, error: 'the secret cannot be unsealed', excerpt: null };
    }
    const headers = {
      'webhook-id': delivery.id,
      'webhook-timestamp': String(Math.floor(now.getTime() / 1000)),
      'webhook-signature': signatures.join(' '),
    };
    try {
      return await sendWebhook(delivery.url, headers, body, {
        allowHosts: this.config.allowHosts,
        timeoutMs: this.config.timeoutMs,
      });
    } catch (error) {
      return {
        ok: false,
        statusCode: null,
        error: error instanceof Error ? error.message : 'failed',
        excerpt: null,
      };
    }
  }

  async #record(trx: Transaction<DB>, delivery: Claimed, result: SendResult): Promise<void> {
    const now = this.#now();
    const outcome = {
      last_status_code: result.statusCode,
      last_error: result.error?.slice(0, 500) ?? null,
      last_response_excerpt: result.excerpt,
      lease_until: null,
    };
    const next = result.ok
      ? ({ status: 'succeeded', delivered_at: now } as const)
      : (() => {
          const after = afterFailure(
            delivery.attempts,
            {
              maxAttempts: this.config.maxAttempts,
              baseMs: this.config.retryBaseMs,
              maxMs: this.config.retryMaxMs,
            },
            now,
            this.#random(),
          );
          return after.status === 'dead'
            ? ({ status: 'dead' } as const)
            : ({ status: 'pending', next_attempt_at: after.nextAttemptAt } as const);
        })();
    const updated = await trx
      .updateTable('webhook_deliveries')
      .set({ ...outcome, ...next })
      .where('id', '=', delivery.id)
      .where('status', '=', 'delivering')
      .where('attempts', '=', delivery.attempts)
      .executeTakeFirst();
    if (updated.numUpdatedRows === 0n) return;
    if (!result.ok) {
      this.#logger?.warn(
        {
          job: 'webhooks',
          deliveryId: delivery.id,
          attempt: delivery.attempts,
          status: next.status,
          statusCode: result.statusCode,
          error: result.error,
        },
        'webhook delivery failed',
      );
    }
  }

  /**
   * Runs a pass every `intervalMs` until stopped (each pass after the previous one ended).
   * Returns the stop function, which waits for a running pass to end. A failing pass (the
   * database down) is logged and the next one tries again.
   */
  start(): () => Promise<void> {
    let stopped = false;
    let timer: NodeJS.Timeout | undefined;
    let running: Promise<void> = Promise.resolve();
    const loop = () => {
      if (stopped) return;
      running = this.runPass()
        .then((report) => {
          if (report.queued + report.attempted > 0) {
            this.#logger?.info({ job: 'webhooks', ...report }, 'webhook pass');
          }
        })
        .catch((error: unknown) => {
          this.#logger?.error({ err: error, job: 'webhooks' }, 'webhook pass failed');
        })
        .finally(() => {
          if (!stopped) {
            timer = setTimeout(loop, this.config.intervalMs);
            timer.unref();
          }
        });
    };
    loop();
    return async () => {
      stopped = true;
      clearTimeout(timer);
      await running;
    };
  }
}

/** The municipalities with an enabled subscription, in id order (see the migration). */
function subscribedMunicipalities(database: Database): Promise<string[]> {
  return database.transaction(platformScope, async (trx) =>
    (
      await sql<{ id: string }>`
        SELECT id FROM lineal_webhook_municipalities() AS id ORDER BY id
      `.execute(trx)
    ).rows.map((row) => row.id),
  );
}

/** An event of the outbox as the delivery job reads it. */
interface OutboxEventRow {
  id: string;
  tx_id: string;
  type: string;
  child_id: string | null;
  unit_id: string | null;
  subject_type: string;
  subject_id: string;
  created_at: Date;
}

function thinPayload(event: OutboxEventRow): WebhookPayload {
  return {
    type: event.type,
    timestamp: new Date(event.created_at).toISOString(),
    data: {
      eventId: Number(event.id),
      // The event feed's cursor of this event: GET /v1/events?after=<cursor> continues after it.
      cursor: encodeCursor([event.tx_id, Number(event.id)]),
      childId: event.child_id,
      unitId: event.unit_id,
      subject: { type: event.subject_type, id: event.subject_id },
    },
  };
}

/** The delivery job of the server; undefined when WEBHOOK_INTERVAL_MS is 0. */
export function startWebhooks(
  database: Database,
  config: WebhookConfig,
  deploymentSecret: string,
  logger: Logger,
): (() => Promise<void>) | undefined {
  if (config.intervalMs === 0) return undefined;
  return new WebhookDispatcher(database, config, { deploymentSecret, logger }).start();
}
