import { mkdtempSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Webhook } from 'standardwebhooks';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { createLinealDatabase } from '../support/lineal-database.js';
import { dropDatabase, uniqueDatabaseName } from '../support/postgres-admin.js';
import { killAll, startServer, waitFor } from '../support/processes.js';

/**
 * Issue 15, point 4: a webhook survives a restart of the service. The receiver is down when the
 * event happens, the service is killed (SIGKILL) with the delivery pending, started again, and
 * the receiver comes up: the event is delivered, with the same `webhook-id` as the attempts
 * before the crash.
 */
const adminUrl = inject('postgresAdminUrl');
const databaseName = uniqueDatabaseName('lineal_webhooks');
const servers: Server[] = [];

afterAll(async () => {
  killAll();
  for (const server of servers) server.close();
  if (adminUrl) await dropDatabase(adminUrl, databaseName);
});

const WEBHOOK_ENV = {
  WEBHOOK_ALLOW_HOSTS: '127.0.0.1',
  WEBHOOK_INTERVAL_MS: '100',
  WEBHOOK_RETRY_BASE_MS: '200',
  WEBHOOK_RETRY_MAX_MS: '400',
  WEBHOOK_TIMEOUT_MS: '1000',
  WEBHOOK_MAX_ATTEMPTS: '50',
  RATE_LIMIT_MAX: '0',
};

/** A port nothing listens on (yet). */
async function freePort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

async function until<T>(what: string, fn: () => Promise<T | undefined>, ms = 20_000): Promise<T> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const value = await fn();
    if (value !== undefined) return value;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`timed out waiting for ${what}`);
}

const engines = adminUrl ? (['pglite', 'postgres'] as const) : (['pglite'] as const);

describe.each(engines)('webhook delivery across a restart [%s]', (engine) => {
  it('delivers an event that happened while the receiver was down, after a SIGKILL', async () => {
    let env: Record<string, string>;
    let token = '';
    if (engine === 'pglite') {
      env = { LINEAL_DATA_DIR: mkdtempSync(path.join(tmpdir(), 'lineal-webhooks-')) };
    } else {
      const created = await createLinealDatabase(adminUrl, databaseName, 'webhooks restart');
      env = {
        DATABASE_URL: created.appUrl,
        LINEAL_CPR_SECRET: 'webhooks-restart-cpr-0123456789abcdef',
      };
      token = created.platformToken;
    }
    env = { ...env, ...WEBHOOK_ENV };
    const first = await startServer(env);
    if (engine === 'pglite') {
      token = (await waitFor(first, /^\s+(lnl_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/m))[1] ?? '';
    }
    const api = async (base: string, key: string, method: string, url: string, body?: unknown) => {
      const res = await fetch(`${base}${url}`, {
        method,
        headers: {
          authorization: `Bearer ${key}`,
          ...(body !== undefined ? { 'content-type': 'application/json' } : {}),
        },
        ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
      });
      // biome-ignore lint/suspicious/noExplicitAny: checked by the assertions
      const json: any = await res.json();
      expect(res.status < 300, JSON.stringify(json)).toBe(true);
      return json;
    };

    const municipality = await api(first.base, token, 'POST', '/v1/municipalities', {
      code: '851',
      name: 'Webhook Kommune',
    });
    const admin = (
      await api(first.base, token, 'POST', `/v1/municipalities/${municipality.id}/api-keys`, {
        name: 'admin',
        role: 'municipality_admin',
      })
    ).token as string;
    const port = await freePort();
    const hook = await api(first.base, admin, 'POST', '/v1/webhooks', {
      url: `http://127.0.0.1:${port}/hook`,
      eventTypes: ['recommendation.created'],
    });
    // An assessment: its recommendation is an event in the outbox.
    const unit = await api(first.base, admin, 'POST', '/v1/units', {
      name: 'Solsikken',
      kind: 'kindergarten',
    });
    const rulers = await api(first.base, admin, 'GET', '/v1/rulers');
    const topi = rulers.items.find((r: { key: string }) => r.key === 'topi-3').latestVersion.id;
    const child = await api(first.base, admin, 'POST', '/v1/children', {
      externalRef: 'webhook-child',
      birthDate: '2021-05-10',
      enrolment: { unitId: unit.id, startDate: '2024-08-01' },
    });
    const assessment = await api(first.base, admin, 'POST', '/v1/assessments', {
      childId: child.id,
      unitId: unit.id,
      rulerVersionId: topi,
      assessedOn: new Date().toISOString().slice(0, 10),
      raters: [
        { name: 'Anna Pædagog', role: 'unit_staff' },
        { name: 'Bo Leder', role: 'unit_leader' },
      ],
      rating: { overallLevel: 1 },
      parentsInformed: true,
    });

    // The receiver is down: the delivery fails and waits for its retry.
    const failed = await until('a failed attempt', async () => {
      const log = await api(first.base, admin, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
      const [delivery] = log.items;
      return delivery?.attempts >= 1 && delivery.status === 'pending' ? delivery : undefined;
    });
    expect(failed.lastError).toMatch(/ECONNREFUSED/);
    first.child.kill('SIGKILL');
    await first.exited;

    const received: { headers: IncomingHttpHeaders; body: string }[] = [];
    const receiver = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk) => {
        body += String(chunk);
      });
      req.on('end', () => {
        received.push({ headers: req.headers, body });
        res.writeHead(200).end('ok');
      });
    });
    servers.push(receiver);
    await new Promise<void>((resolve) => receiver.listen(port, '127.0.0.1', resolve));

    const second = await startServer(env);
    await until('the delivery', async () => (received.length > 0 ? true : undefined));
    const [got] = received;
    expect(got?.headers['webhook-id']).toBe(failed.id);
    const payload = new Webhook(hook.secret).verify(
      got?.body ?? '',
      got?.headers as Record<string, string>,
    );
    expect(payload).toMatchObject({
      type: 'recommendation.created',
      data: {
        childId: child.id,
        subject: { type: 'recommendation', id: assessment.recommendation.id },
      },
    });
    const delivered = await until('the delivery log', async () => {
      const log = await api(second.base, admin, 'GET', `/v1/webhooks/${hook.id}/deliveries`);
      return log.items[0]?.status === 'succeeded' ? log.items : undefined;
    });
    expect(delivered).toHaveLength(1);
    expect(delivered[0]).toMatchObject({ id: failed.id, lastStatusCode: 200 });
    expect(delivered[0].attempts).toBeGreaterThanOrEqual(2);
    second.child.kill('SIGTERM');
    await second.exited;
  }, 120_000);
});
