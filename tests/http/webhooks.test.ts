import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { Webhook } from 'standardwebhooks';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import type { WebhookConfig } from '../../src/config.js';
import { municipalityScope } from '../../src/db/database.js';
import { appendEvents, type EventType, type NewEvent } from '../../src/features/events/outbox.js';
import type { EventPayload } from '../../src/features/events/payloads.js';
import type { WebhookDelivery } from '../../src/features/webhooks/schemas.js';
import { openSecret } from '../../src/features/webhooks/secret-box.js';
import { WebhookDispatcher } from '../../src/jobs/webhooks.js';
import { describeEngines, TEST_CPR_SECRET, TestClock } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/** A receiver on loopback: answers as `mode` says and records what it got. */
class Receiver {
  mode: 'ok' | 'fail' | 'hang' | 'redirect' = 'ok';
  received: { headers: IncomingHttpHeaders; body: string }[] = [];
  #server: Server = createServer((req, res) => {
    let body = '';
    req.on('data', (chunk) => {
      body += String(chunk);
    });
    req.on('end', () => {
      this.received.push({ headers: req.headers, body });
      if (this.mode === 'ok') res.writeHead(204).end();
      else if (this.mode === 'fail') res.writeHead(500).end('receiver broke');
      else if (this.mode === 'redirect') {
        res.writeHead(302, { location: `${this.url}elsewhere` }).end();
      }
      // 'hang': never answers (the sender times out).
    });
  });
  port = 0;
  get url(): string {
    return `http://127.0.0.1:${this.port}/`;
  }
  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.port = (this.#server.address() as AddressInfo).port;
  }
  async stop(): Promise<void> {
    this.#server.closeAllConnections();
    await new Promise<void>((resolve) => this.#server.close(() => resolve()));
  }
}

const config: WebhookConfig = {
  allowHosts: ['127.0.0.1'],
  timeoutMs: 300,
  maxAttempts: 3,
  retryBaseMs: 1_000,
  retryMaxMs: 10_000,
  intervalMs: 0,
};

describeEngines('webhooks', (t) => {
  // Deliveries are signed with this clock, and `verify` checks their timestamp against the
  // real time: it starts now, and moves only when a test moves it.
  const clock = new TestClock(new Date());
  const receiver = new Receiver();
  let app: FastifyInstance;
  let dispatcher: WebhookDispatcher;

  beforeAll(async () => {
    await receiver.start();
    app = await buildApp({
      config: {
        bodyLimitBytes: 64 * 1024,
        trustProxy: false,
        rateLimit: { max: 1_000_000, windowMs: 60_000 },
        webhooks: config,
      },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: clock.now,
    });
    dispatcher = new WebhookDispatcher(t.database, config, {
      deploymentSecret: TEST_CPR_SECRET,
      now: clock.now,
      random: () => 0.5,
    });
  });
  afterAll(async () => {
    await app?.close();
    await receiver.stop();
  });

  const call = (
    method: 'GET' | 'POST' | 'PATCH' | 'DELETE',
    url: string,
    token: string,
    body?: unknown,
  ) =>
    app.inject({
      method,
      url,
      headers: { authorization: `Bearer ${token}` },
      ...(body !== undefined ? { payload: body as object } : {}),
    });

  const samplePayloads: { [T in EventType]: EventPayload<T> } = {
    'recommendation.created': {
      assessmentId: crypto.randomUUID(),
      zone: 'red',
      previousZone: null,
      flags: [],
      steps: [],
    },
    'step.status_changed': { stepKey: 'talk', from: 'open', to: 'done' },
    'flag.raised': { kind: 'red_flag', reason: 'test' },
    'flag.acknowledged': { kind: 'red_flag', note: 'seen' },
    'concern_report.recorded': { reportedOn: '2026-12-01', reference: null, stepIds: [] },
    'parent_notice.created': {
      assessmentId: crypto.randomUUID(),
      reason: 'first_assessment',
      dueOn: '2026-12-15',
      status: 'open',
    },
    'parent_notice.closed': {
      assessmentId: crypto.randomUUID(),
      status: 'informed',
      informedOn: '2026-12-02',
      method: 'meeting',
    },
  };

  /** Appends events as the services do: in the municipality's scope, committed. */
  const emit = async (municipalityId: string, ...types: EventType[]) => {
    const subjectIds = types.map(() => crypto.randomUUID());
    const childId = crypto.randomUUID();
    await t.database.transaction(municipalityScope(municipalityId), (trx) =>
      appendEvents(
        trx,
        types.map(
          (type, i) =>
            ({
              municipalityId,
              type,
              childId,
              subjectType: 'flag',
              subjectId: subjectIds[i] ?? '',
              payload: samplePayloads[type],
            }) as NewEvent,
        ),
      ),
    );
    return { childId, subjectIds };
  };

  const subscribe = async (token: string, body: Record<string, unknown> = {}) => {
    const res = await call('POST', '/v1/webhooks', token, {
      url: receiver.url,
      eventTypes: ['flag.raised'],
      ...body,
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; secret: string; url: string };
  };

  const deliveries = async (token: string, webhookId: string): Promise<WebhookDelivery[]> => {
    const res = await call('GET', `/v1/webhooks/${webhookId}/deliveries`, token);
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  };

  it('lets only the municipality administrator manage webhooks', async () => {
    const { municipality } = await createTenant(t);
    for (const role of ['integration', 'analyst', 'social_worker'] as const) {
      const key = await createKey(t, municipality.id, role);
      expectProblem(await call('GET', '/v1/webhooks', key.token), 403);
      expectProblem(
        await call('POST', '/v1/webhooks', key.token, {
          url: 'https://hooks.example.dk/',
          eventTypes: ['flag.raised'],
        }),
        403,
      );
    }
  });

  it('refuses http, private addresses, unknown and repeated event types', async () => {
    const { admin } = await createTenant(t);
    const post = (body: unknown) => call('POST', '/v1/webhooks', admin.token, body);
    const http = expectProblem(
      await post({ url: 'http://hooks.example.dk/', eventTypes: ['flag.raised'] }),
      422,
    );
    expect(http.errors).toEqual([
      { path: 'body.url', message: 'must be an https URL', code: 'https_required' },
    ]);
    const metadata = expectProblem(
      await post({ url: 'https://169.254.169.254/latest', eventTypes: ['flag.raised'] }),
      422,
    );
    expect(metadata.errors?.map((e) => e.code)).toEqual(['private_address']);
    const unknown = expectProblem(
      await post({ url: 'https://hooks.example.dk/', eventTypes: ['child.created'] }),
      400,
    );
    expect(unknown.errors?.map((e) => e.path)).toEqual(['body.eventTypes.0']);
    const twice = expectProblem(
      await post({ url: 'https://hooks.example.dk/', eventTypes: ['flag.raised', 'flag.raised'] }),
      400,
    );
    expect(twice.errors?.map((e) => e.path)).toEqual(['body.eventTypes']);
    expectProblem(await post({ url: 'https://hooks.example.dk/', eventTypes: [] }), 400);
    const list = await call('GET', '/v1/webhooks', admin.token);
    expect(list.json()).toEqual({ items: [], nextCursor: null });
  });

  it('manages a subscription: secret once, change, list, delete', async () => {
    const { admin } = await createTenant(t);
    const created = await subscribe(admin.token, {
      url: 'https://hooks.example.dk/lineal',
      description: 'Skolesystem',
    });
    expect(created.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    const got = await call('GET', `/v1/webhooks/${created.id}`, admin.token);
    expect(got.json()).toEqual({
      id: created.id,
      url: 'https://hooks.example.dk/lineal',
      eventTypes: ['flag.raised'],
      unitIds: null,
      description: 'Skolesystem',
      enabled: true,
      previousSecretExpiresAt: null,
      createdAt: clock.now().toISOString(),
      updatedAt: clock.now().toISOString(),
    });
    expect(got.body).not.toContain('whsec_');
    // At rest the secret is sealed (AES-256-GCM under the deployment secret).
    const stored = await t.asOwner((db) =>
      db
        .selectFrom('webhook_subscriptions')
        .select(['secret'])
        .where('id', '=', created.id)
        .executeTakeFirstOrThrow(),
    );
    expect(stored.secret).toMatch(/^v1\./);
    expect(stored.secret).not.toContain(created.secret.slice(6, 20));
    expect(openSecret(stored.secret, TEST_CPR_SECRET)).toBe(created.secret);
    const changed = await call('PATCH', `/v1/webhooks/${created.id}`, admin.token, {
      eventTypes: ['flag.raised', 'concern_report.recorded'],
      enabled: false,
    });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({
      eventTypes: ['flag.raised', 'concern_report.recorded'],
      enabled: false,
    });
    expectProblem(
      await call('PATCH', `/v1/webhooks/${created.id}`, admin.token, { url: 'http://x.dk/' }),
      422,
    );
    // Another municipality's administrator sees nothing of it.
    const other = await createTenant(t);
    expectProblem(await call('GET', `/v1/webhooks/${created.id}`, other.admin.token), 404);
    expectProblem(await call('DELETE', `/v1/webhooks/${created.id}`, other.admin.token), 404);
    const list = await call('GET', '/v1/webhooks', admin.token);
    expect(list.json().items.map((w: { id: string }) => w.id)).toEqual([created.id]);
    const deleted = await call('DELETE', `/v1/webhooks/${created.id}`, admin.token);
    expect(deleted.statusCode).toBe(204);
    expectProblem(await call('GET', `/v1/webhooks/${created.id}`, admin.token), 404);
  });

  it('delivers new events of its types, signed, with thin payloads and a stable id', async () => {
    const { municipality, admin } = await createTenant(t);
    await emit(municipality.id, 'flag.raised'); // before the subscription: not sent
    const hook = await subscribe(admin.token);
    const other = await createTenant(t);
    await emit(other.municipality.id, 'flag.raised'); // another municipality's
    const { childId, subjectIds } = await emit(
      municipality.id,
      'flag.raised',
      'step.status_changed',
    );
    receiver.mode = 'ok';
    receiver.received = [];
    const report = await dispatcher.runPass();
    expect(report).toMatchObject({ queued: 1, attempted: 1, succeeded: 1 });
    expect(receiver.received).toHaveLength(1);
    const [got] = receiver.received;
    const headers = got?.headers as Record<string, string>;
    const payload = new Webhook(hook.secret).verify(got?.body ?? '', headers) as {
      type: string;
      data: { eventId: number; cursor: string };
    };
    expect(payload).toEqual({
      type: 'flag.raised',
      timestamp: expect.any(String),
      data: {
        eventId: expect.any(Number),
        cursor: expect.any(String),
        childId,
        unitId: null,
        subject: { type: 'flag', id: subjectIds[0] },
      },
    });
    expect(got?.body).not.toContain('zone');
    expect(headers['webhook-timestamp']).toBe(String(Math.floor(clock.now().getTime() / 1000)));
    // The cursor is the event feed's: the feed after it starts with the next event.
    const feed = await t.call('GET', `/v1/events?after=${payload.data.cursor}`, {
      token: admin.token,
    });
    expect(feed.json().items.map((e: { type: string }) => e.type)).toEqual(['step.status_changed']);
    const [logged] = await deliveries(admin.token, hook.id);
    expect(logged).toEqual({
      id: headers['webhook-id'],
      webhookId: hook.id,
      eventId: payload.data.eventId,
      eventType: 'flag.raised',
      status: 'succeeded',
      attempts: 1,
      nextAttemptAt: null,
      lastAttemptAt: clock.now().toISOString(),
      lastStatusCode: 204,
      lastError: null,
      lastResponseExcerpt: null,
      deliveredAt: clock.now().toISOString(),
      createdAt: expect.any(String),
    });
    // Nothing more to do, and the hand-over of ids is audited.
    expect(await dispatcher.runPass()).toMatchObject({ queued: 0, attempted: 0 });
    const audited = await t.asOwner((db) =>
      db
        .selectFrom('audit_log')
        .select(['principal_kind', 'principal_id', 'action', 'resource_type', 'criteria'])
        .where('municipality_id', '=', municipality.id)
        .where('principal_id', '=', 'webhooks')
        .execute(),
    );
    expect(audited).toEqual([
      {
        principal_kind: 'system',
        principal_id: 'webhooks',
        action: 'export',
        resource_type: 'event',
        criteria: {
          webhookId: hook.id,
          events: 1,
          firstEventId: payload.data.eventId,
          lastEventId: payload.data.eventId,
        },
      },
    ]);
  });

  it('a subscription for some units is sent only their events', async () => {
    const { admin, unit: mine, topi } = await createScreeningTenant(t);
    const theirs = await createUnit(t, admin.token);
    const types = { eventTypes: ['recommendation.created'] };
    const some = await subscribe(admin.token, { ...types, unitIds: [mine.id] });
    const all = await subscribe(admin.token, types);
    const got = await call('GET', `/v1/webhooks/${some.id}`, admin.token);
    expect(got.json()).toMatchObject({ unitIds: [mine.id] });
    expect((await call('GET', `/v1/webhooks/${all.id}`, admin.token)).json().unitIds).toBeNull();

    const assessed = [];
    for (const unit of [mine, theirs]) {
      const child = await createChild(t, admin.token, { unitId: unit.id });
      assessed.push(
        await createAssessment(t, admin.token, {
          childId: child.id,
          unitId: unit.id,
          rulerVersionId: topi,
        }),
      );
    }
    receiver.mode = 'ok';
    receiver.received = [];
    await dispatcher.runPass();
    const sent = await deliveries(admin.token, some.id);
    expect(sent.map((d) => [d.eventType, d.status])).toEqual([
      ['recommendation.created', 'succeeded'],
    ]);
    expect(await deliveries(admin.token, all.id)).toHaveLength(2);
    const bodies = receiver.received.map(
      (r) =>
        new Webhook(r.headers['webhook-id'] === sent[0]?.id ? some.secret : all.secret).verify(
          r.body,
          r.headers as Record<string, string>,
        ) as { data: { unitId: string; childId: string } },
    );
    expect(bodies.map((b) => b.data.unitId).sort()).toEqual([mine.id, mine.id, theirs.id].sort());
    expect(assessed.map((a) => a.unitId)).toEqual([mine.id, theirs.id]);

    // Back to the whole municipality; then only units of the municipality are accepted.
    const widened = await call('PATCH', `/v1/webhooks/${some.id}`, admin.token, { unitIds: null });
    expect(widened.statusCode, widened.body).toBe(200);
    expect(widened.json().unitIds).toBeNull();
    const other = await createScreeningTenant(t);
    const foreign = expectProblem(
      await call('PATCH', `/v1/webhooks/${some.id}`, admin.token, {
        unitIds: [mine.id, other.unit.id, crypto.randomUUID()],
      }),
      422,
    );
    expect(foreign.errors?.map((e) => e.path)).toEqual(['body.unitIds.1', 'body.unitIds.2']);
    const empty = expectProblem(
      await call('POST', '/v1/webhooks', admin.token, { url: receiver.url, ...types, unitIds: [] }),
      400,
    );
    expect(empty.errors?.map((e) => e.path)).toEqual(['body.unitIds']);
    const twice = expectProblem(
      await call('POST', '/v1/webhooks', admin.token, {
        url: receiver.url,
        ...types,
        unitIds: [mine.id, mine.id],
      }),
      400,
    );
    expect(twice.errors?.map((e) => e.path)).toEqual(['body.unitIds']);
  });

  it('retries a failing receiver with backoff, then dead-letters; redelivery sends it again', async () => {
    const { municipality, admin } = await createTenant(t);
    const hook = await subscribe(admin.token);
    await emit(municipality.id, 'flag.raised');
    receiver.mode = 'fail';
    receiver.received = [];
    const start = clock.now().getTime();
    expect(await dispatcher.runPass()).toMatchObject({ queued: 1, attempted: 1, succeeded: 0 });
    let [delivery] = await deliveries(admin.token, hook.id);
    // 1 000 ms after the first failure, half of it jittered (random 0.5): 750 ms.
    expect(delivery).toMatchObject({
      status: 'pending',
      attempts: 1,
      lastStatusCode: 500,
      lastError: 'HTTP 500',
      lastResponseExcerpt: 'receiver broke',
      nextAttemptAt: new Date(start + 750).toISOString(),
    });
    clock.advance(749);
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 0 });
    clock.advance(1);
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 0 });
    [delivery] = await deliveries(admin.token, hook.id);
    // 2 000 ms after the second: 1 500 ms.
    expect(delivery).toMatchObject({
      status: 'pending',
      attempts: 2,
      nextAttemptAt: new Date(start + 750 + 1_500).toISOString(),
    });
    clock.advance(1_500);
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 0 });
    [delivery] = await deliveries(admin.token, hook.id);
    expect(delivery).toMatchObject({ status: 'dead', attempts: 3, nextAttemptAt: null });
    clock.advance(60_000);
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 0 });
    expect(receiver.received).toHaveLength(3);
    const ids = new Set(receiver.received.map((r) => r.headers['webhook-id']));
    expect([...ids]).toEqual([delivery?.id]);
    const dead = await call('GET', `/v1/webhooks/${hook.id}/deliveries?status=dead`, admin.token);
    expect(dead.json().items).toHaveLength(1);

    receiver.mode = 'ok';
    const redeliver = await call(
      'POST',
      `/v1/webhooks/${hook.id}/deliveries/${delivery?.id}/redeliver`,
      admin.token,
    );
    expect(redeliver.statusCode, redeliver.body).toBe(202);
    expect(redeliver.json()).toMatchObject({ status: 'pending', attempts: 0 });
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 1 });
    expect(receiver.received).toHaveLength(4);
    expect(receiver.received[3]?.headers['webhook-id']).toBe(delivery?.id);
    [delivery] = await deliveries(admin.token, hook.id);
    expect(delivery).toMatchObject({ status: 'succeeded', attempts: 1, lastStatusCode: 204 });
    expectProblem(
      await call(
        'POST',
        `/v1/webhooks/${hook.id}/deliveries/${crypto.randomUUID()}/redeliver`,
        admin.token,
      ),
      404,
    );
  });

  it('counts a receiver that does not answer in time, and a redirect, as failures', async () => {
    const { municipality, admin } = await createTenant(t);
    const hook = await subscribe(admin.token);
    await emit(municipality.id, 'flag.raised');
    receiver.mode = 'hang';
    receiver.received = [];
    const started = Date.now();
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 0 });
    expect(Date.now() - started).toBeLessThan(2_000);
    let [delivery] = await deliveries(admin.token, hook.id);
    expect(delivery).toMatchObject({
      status: 'pending',
      lastStatusCode: null,
      lastError: 'timed out after 300 ms',
    });
    receiver.mode = 'redirect';
    clock.advance(750);
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 0 });
    [delivery] = await deliveries(admin.token, hook.id);
    expect(delivery).toMatchObject({
      status: 'pending',
      attempts: 2,
      lastStatusCode: 302,
      lastError: 'redirect (302) not followed',
    });
    // The redirect was not followed: the receiver saw the two attempts only.
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([
      delivery?.id,
      delivery?.id,
    ]);
  });

  it('signs with the old and the new secret after a rotation', async () => {
    const { municipality, admin } = await createTenant(t);
    const hook = await subscribe(admin.token);
    const rotated = await call('POST', `/v1/webhooks/${hook.id}/rotate-secret`, admin.token);
    expect(rotated.statusCode, rotated.body).toBe(200);
    const { secret, previousSecretExpiresAt } = rotated.json();
    expect(secret).not.toBe(hook.secret);
    expect(previousSecretExpiresAt).toBe(
      new Date(clock.now().getTime() + 86_400_000).toISOString(),
    );
    await emit(municipality.id, 'flag.raised');
    receiver.mode = 'ok';
    receiver.received = [];
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 1 });
    const [got] = receiver.received;
    const headers = got?.headers as Record<string, string>;
    expect(headers['webhook-signature']?.split(' ')).toHaveLength(2);
    expect(new Webhook(secret).verify(got?.body ?? '', headers)).toMatchObject({
      type: 'flag.raised',
    });
    expect(new Webhook(hook.secret).verify(got?.body ?? '', headers)).toMatchObject({
      type: 'flag.raised',
    });
    // After the grace period only the new secret signs.
    clock.advance(86_400_000 + 1);
    await emit(municipality.id, 'flag.raised');
    receiver.received = [];
    // (A day later, other tests' pending retries are due too: look at this webhook's only.)
    await dispatcher.runPass();
    const [newest] = await deliveries(admin.token, hook.id);
    expect(newest).toMatchObject({ status: 'succeeded', attempts: 1 });
    const later = receiver.received.filter((r) => r.headers['webhook-id'] === newest?.id);
    expect(later).toHaveLength(1);
    expect(String(later[0]?.headers['webhook-signature']).split(' ')).toHaveLength(1);
    clock.set(new Date());
  });

  it('sends a delivery again when the instance sending it died (its lease ran out)', async () => {
    const { municipality, admin } = await createTenant(t);
    const hook = await subscribe(admin.token);
    await emit(municipality.id, 'flag.raised');
    receiver.mode = 'hang';
    receiver.received = [];
    // Instance A claims the delivery and is stuck sending it (as if it had died) ...
    const stuck = new WebhookDispatcher(
      t.database,
      { ...config, timeoutMs: 600 },
      { deploymentSecret: TEST_CPR_SECRET, now: clock.now },
    );
    const pass = stuck.runPass();
    await expect.poll(() => receiver.received.length).toBe(1);
    const [claimed] = await deliveries(admin.token, hook.id);
    expect(claimed).toMatchObject({ status: 'delivering', attempts: 1 });
    // ... instance B leaves it alone while the lease lasts, and takes it over when it ends.
    receiver.mode = 'ok';
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 0 });
    clock.advance(stuck.leaseMs);
    expect(await dispatcher.runPass()).toMatchObject({ attempted: 1, succeeded: 1 });
    // A's late outcome (a time-out) does not overwrite B's success.
    expect(await pass).toMatchObject({ attempted: 1, succeeded: 0 });
    const [delivery] = await deliveries(admin.token, hook.id);
    expect(delivery).toMatchObject({ id: claimed?.id, status: 'succeeded', attempts: 2 });
    expect(receiver.received.map((r) => r.headers['webhook-id'])).toEqual([
      claimed?.id,
      claimed?.id,
    ]);
  });

  it('sends nothing for a disabled subscription, and never one delivery twice at once', async () => {
    const { municipality, admin } = await createTenant(t);
    const hook = await subscribe(admin.token, { enabled: false });
    await emit(municipality.id, 'flag.raised');
    receiver.mode = 'ok';
    receiver.received = [];
    expect(await dispatcher.runPass()).toMatchObject({ queued: 0, attempted: 0 });
    await call('PATCH', `/v1/webhooks/${hook.id}`, admin.token, { enabled: true });
    await emit(municipality.id, 'flag.raised', 'flag.raised', 'flag.raised');
    // Two instances at once: every event is delivered exactly once between them.
    const second = new WebhookDispatcher(t.database, config, {
      deploymentSecret: TEST_CPR_SECRET,
      now: clock.now,
    });
    await Promise.all([dispatcher.runPass(), second.runPass()]);
    const logged = await deliveries(admin.token, hook.id);
    expect(logged.map((d) => [d.status, d.attempts])).toEqual([
      ['succeeded', 1],
      ['succeeded', 1],
      ['succeeded', 1],
      ['succeeded', 1],
    ]);
    const ids = new Set(logged.map((d) => d.id));
    const got = receiver.received.filter((r) => ids.has(String(r.headers['webhook-id'])));
    expect(got).toHaveLength(4);
    expect(new Set(got.map((r) => r.headers['webhook-id'])).size).toBe(4);
  });
});
