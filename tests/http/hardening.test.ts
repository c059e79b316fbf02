import type { FastifyInstance, LightMyRequestResponse } from 'fastify';
import { afterAll, describe, expect, it } from 'vitest';
import { type AppDeps, buildApp } from '../../src/app.js';
import { ConfigError, loadConfig } from '../../src/config.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { DASHBOARD_CSP, webCsp } from '../../src/features/web/routes.js';
import { LARGE_BODY_ROUTES, SMALL_BODY_LIMIT_BYTES } from '../../src/http/body-limits.js';
import { isRateLimited, rateLimitKey } from '../../src/http/rate-limit.js';
import { API_CSP } from '../../src/http/security.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const label = (text: string) => ({ da: text, en: text });

/**
 * A valid ruler definition of about 250 KB: 101 levels and 200 items, each labelled with 200
 * characters (two bytes each in UTF-8). Far over the small limit, well under BODY_LIMIT_BYTES.
 */
function largeRulerDefinition() {
  const long = (prefix: string) => label(`${prefix} ${'æ'.repeat(200 - prefix.length - 1)}`);
  return {
    levels: Array.from({ length: 101 }, (_, i) => ({
      value: i + 1,
      label: long(`level ${i + 1}`),
      zone: i < 33 ? 'green' : i < 66 ? 'yellow' : 'red',
    })),
    higherIsBetter: false,
    items: Array.from({ length: 200 }, (_, i) => ({
      key: `item_${i}`,
      label: long(`item ${i}`),
    })),
    rule: { kind: 'worst_domain' },
    minAnsweredItems: 1,
    ratersRequired: 1,
  };
}

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'cross-origin-resource-policy': 'same-origin',
};

function expectSecurityHeaders(res: LightMyRequestResponse): void {
  expect(res.headers).toMatchObject(SECURITY_HEADERS);
  expect(res.headers['strict-transport-security']).toMatch(/max-age=\d+/);
  expect(res.headers['x-powered-by']).toBeUndefined();
}

function expectNoCors(res: LightMyRequestResponse): void {
  const cors = Object.keys(res.headers).filter((name) => name.startsWith('access-control-'));
  expect(cors, JSON.stringify(res.headers)).toEqual([]);
}

describeEngines('hardening', (t) => {
  const apps: FastifyInstance[] = [];

  /** A second app on this file's database, with its own configuration. */
  async function appWith(config: Partial<AppDeps['config']>): Promise<FastifyInstance> {
    const app = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false, ...config },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: t.clock.now,
    });
    apps.push(app);
    return app;
  }

  const get = (app: FastifyInstance, url: string, token?: string) =>
    app.inject({
      method: 'GET',
      url,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });

  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

  describe('rate limits', () => {
    it('answers 429 problem+json with Retry-After and RateLimit headers once the limit is used up', async () => {
      const app = await appWith({ rateLimit: { max: 3, windowMs: 60_000 } });
      for (let i = 1; i <= 3; i++) {
        const ok = await get(app, '/v1/me', t.platformToken);
        expect(ok.statusCode, ok.body).toBe(200);
        expect(ok.headers['ratelimit-limit']).toBe('3');
        expect(ok.headers['ratelimit-remaining']).toBe(String(3 - i));
        expect(Number(ok.headers['ratelimit-reset'])).toBeGreaterThan(0);
      }
      const limited = await get(app, '/v1/me', t.platformToken);
      const problem = expectProblem(limited, 429);
      expect(problem.type).toBe('urn:lineal:problem:too-many-requests');
      expect(problem.title).toBe('Too Many Requests');
      const retryAfter = Number(limited.headers['retry-after']);
      expect(Number.isInteger(retryAfter)).toBe(true);
      expect(retryAfter).toBeGreaterThanOrEqual(1);
      expect(retryAfter).toBeLessThanOrEqual(60);
      expect(limited.headers['ratelimit-limit']).toBe('3');
      expect(limited.headers['ratelimit-remaining']).toBe('0');
      expect(limited.headers['ratelimit-reset']).toBe(String(retryAfter));
      expectSecurityHeaders(limited);
      expect(limited.headers['cache-control']).toBe('no-store');
    });

    it('limits each principal on its own, and never the health probes, docs or dashboard', async () => {
      const app = await appWith({ rateLimit: { max: 2, windowMs: 60_000 } });
      const { admin } = await createTenant(t);
      const other = await createPlatformAdminKey(t.database, 'hardening: second key');
      for (let i = 0; i < 2; i++) {
        expect((await get(app, '/v1/me', admin.token)).statusCode).toBe(200);
      }
      expectProblem(await get(app, '/v1/me', admin.token), 429);
      // Another key (another principal) still has its whole allowance.
      const second = await get(app, '/v1/me', other.token);
      expect(second.statusCode, second.body).toBe(200);
      expect(second.headers['ratelimit-remaining']).toBe('1');

      for (const url of [
        '/healthz',
        '/readyz',
        '/dashboard',
        '/app/',
        '/app/manifest.webmanifest',
        '/sign-in-options',
      ]) {
        for (let i = 0; i < 5; i++) {
          const res = await get(app, url);
          expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
          expect(res.headers['ratelimit-limit']).toBeUndefined();
        }
      }
      for (let i = 0; i < 5; i++) {
        expect((await get(app, '/openapi.json')).statusCode).toBe(200);
        expect((await get(app, '/docs/')).statusCode).toBe(200);
      }
    });

    it('keys by principal, falling back to the client address; RATE_LIMIT_MAX=0 turns it off', async () => {
      const request = (principal: unknown, ip = '10.1.2.3') =>
        ({ principal, ip }) as unknown as Parameters<typeof rateLimitKey>[0];
      expect(rateLimitKey(request({ kind: 'api_key', id: 'k1' }))).toBe('api_key:k1');
      expect(rateLimitKey(request({ kind: 'oidc', id: 'sub-7' }))).toBe('oidc:sub-7');
      expect(rateLimitKey(request(null))).toBe('ip:10.1.2.3');
      // IPv6 clients are grouped by /64, as one host usually holds the whole prefix.
      expect(rateLimitKey(request(null, '2001:db8:1:2:aaaa::1'))).toBe(
        rateLimitKey(request(null, '2001:db8:1:2:bbbb::2')),
      );
      expect(isRateLimited('/v1/children/:childId')).toBe(true);
      expect(isRateLimited('/healthz')).toBe(false);
      expect(isRateLimited('/docs/static/*')).toBe(false);
      expect(isRateLimited('/assets/:file')).toBe(false);
      expect(isRateLimited('/app/:file')).toBe(false);
      expect(isRateLimited('/dashboards-of-the-future')).toBe(true);

      const off = await appWith({ rateLimit: { max: 0, windowMs: 60_000 } });
      for (let i = 0; i < 3; i++) {
        const res = await get(off, '/v1/me', t.platformToken);
        expect(res.statusCode).toBe(200);
        expect(res.headers['ratelimit-limit']).toBeUndefined();
      }
    });
  });

  describe('security headers', () => {
    it('are on /v1 responses, with a strict CSP and Cache-Control: no-store', async () => {
      const res = await t.call('GET', '/v1/me');
      expect(res.statusCode).toBe(200);
      expectSecurityHeaders(res);
      expect(res.headers['content-security-policy']).toBe(API_CSP);
      expect(res.headers['cache-control']).toBe('no-store');
    });

    it('are on problem responses too (401, 403, 404, unknown routes, 413)', async () => {
      const cases: [LightMyRequestResponse, number][] = [
        [await t.call('GET', '/v1/me', { token: null }), 401],
        [await t.call('GET', `/v1/municipalities/${crypto.randomUUID()}`), 404],
        [await t.call('GET', '/v1/units'), 403],
        [await t.call('GET', '/v1/no-such-route'), 404],
        [
          await t.call('POST', '/v1/municipalities', {
            body: { code: '101', name: 'x'.repeat(SMALL_BODY_LIMIT_BYTES) },
          }),
          413,
        ],
      ];
      for (const [res, status] of cases) {
        expectProblem(res, status);
        expectSecurityHeaders(res);
        expect(res.headers['content-security-policy']).toBe(API_CSP);
        expect(res.headers['cache-control']).toBe('no-store');
      }
    });

    it("leave the dashboard's and the docs' own Content-Security-Policy intact", async () => {
      const dashboard = await t.call('GET', '/dashboard', { token: null });
      expect(dashboard.statusCode).toBe(200);
      expect(dashboard.headers['content-security-policy']).toBe(DASHBOARD_CSP);
      expectSecurityHeaders(dashboard);
      const asset = await t.call('GET', '/app/sw.js', { token: null });
      expect(asset.headers['cache-control']).toBe('no-cache');
      expect(asset.headers['content-security-policy']).toBe(webCsp());

      const docs = await t.call('GET', '/docs/', { token: null });
      expect(docs.statusCode).toBe(200);
      const csp = String(docs.headers['content-security-policy']);
      expect(csp).toContain("script-src 'self'");
      expect(csp).not.toBe(API_CSP);
    });
  });

  describe('CORS', () => {
    const origin = 'https://skole.example.dk';
    const preflight = (app: FastifyInstance, from: string, url = '/v1/children') =>
      app.inject({
        method: 'OPTIONS',
        url,
        headers: {
          origin: from,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'authorization,content-type,idempotency-key',
        },
      });

    it('is off by default: no Access-Control-* header, not even for a preflight', async () => {
      const res = await t.call('GET', '/v1/me', { headers: { origin } });
      expect(res.statusCode).toBe(200);
      expectNoCors(res);
      const pre = await preflight(t.app, origin);
      expect(pre.statusCode).not.toBe(204);
      expectNoCors(pre);
    });

    it('with CORS_ORIGINS, answers preflights of those origins only', async () => {
      const app = await appWith({ corsOrigins: [origin, 'http://localhost:5173'] });
      const allowed = await preflight(app, origin);
      expect(allowed.statusCode).toBe(204);
      expect(allowed.headers['access-control-allow-origin']).toBe(origin);
      expect(String(allowed.headers['access-control-allow-methods'])).toContain('POST');
      const allowedHeaders = String(allowed.headers['access-control-allow-headers']).toLowerCase();
      for (const header of ['authorization', 'content-type', 'idempotency-key', 'x-request-id']) {
        expect(allowedHeaders).toContain(header);
      }
      expect(allowed.headers['access-control-allow-credentials']).toBeUndefined();

      const actual = await app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { origin, authorization: `Bearer ${t.platformToken}` },
      });
      expect(actual.statusCode).toBe(200);
      expect(actual.headers['access-control-allow-origin']).toBe(origin);
      const exposed = String(actual.headers['access-control-expose-headers']).toLowerCase();
      for (const header of ['x-request-id', 'retry-after', 'location']) {
        expect(exposed).toContain(header);
      }

      for (const other of ['https://evil.example', 'https://skole.example.dk.evil.example']) {
        const denied = await preflight(app, other);
        expect(denied.statusCode).not.toBe(204);
        expect(denied.headers['access-control-allow-origin']).toBeUndefined();
        expectNoCors(denied);
      }
      // The preflight catch-all route does not turn unknown paths into 405s.
      expectProblem(await get(app, '/v1/no-such-route', t.platformToken), 404);
      const wrongMethod = await app.inject({ method: 'OPTIONS', url: '/v1/municipalities' });
      expectProblem(wrongMethod, 405);
    });
  });

  describe('body limits', () => {
    it('gives small writes 64 KiB and definitions BODY_LIMIT_BYTES', async () => {
      const app = await appWith({ bodyLimitBytes: 1024 * 1024 });
      const { admin } = await createTenant(t);
      const post = (url: string, body: unknown) =>
        app.inject({
          method: 'POST',
          url,
          headers: { authorization: `Bearer ${admin.token}` },
          payload: body as object,
        });

      const tooLarge = await post('/v1/units', {
        name: 'x'.repeat(SMALL_BODY_LIMIT_BYTES),
        kind: 'kindergarten',
      });
      expect(expectProblem(tooLarge, 413).type).toBe('urn:lineal:problem:payload-too-large');

      const definition = largeRulerDefinition();
      const body = { key: 'large-ruler', name: 'A large ruler', definition };
      const size = Buffer.byteLength(JSON.stringify(body));
      expect(size).toBeGreaterThan(200 * 1024);
      expect(size).toBeLessThan(1024 * 1024);
      const created = await post('/v1/rulers', body);
      expect(created.statusCode, created.body.slice(0, 500)).toBe(201);

      // The large routes still stop at BODY_LIMIT_BYTES.
      const huge = await post('/v1/rulers', {
        ...body,
        key: 'huge-ruler',
        description: 'x'.repeat(1024 * 1024),
      });
      expectProblem(huge, 413);
    });

    it('never raises a route above BODY_LIMIT_BYTES', async () => {
      const app = await appWith({ bodyLimitBytes: 2048 });
      const { admin } = await createTenant(t);
      const res = await app.inject({
        method: 'POST',
        url: '/v1/rulers',
        headers: { authorization: `Bearer ${admin.token}` },
        payload: { key: 'x', name: 'y'.repeat(4096), definition: {} },
      });
      expectProblem(res, 413);
      expect(LARGE_BODY_ROUTES).toContain('POST /v1/rulers');
    });
  });
});

describe('hardening configuration', () => {
  it('defaults to 600 requests a minute and no CORS', () => {
    const config = loadConfig({});
    expect(config.rateLimit).toEqual({ max: 600, windowMs: 60_000, syncMs: 250 });
    expect(config.corsOrigins).toEqual([]);
  });

  it('reads RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS, RATE_LIMIT_SYNC_MS and CORS_ORIGINS', () => {
    const config = loadConfig({
      RATE_LIMIT_MAX: '0',
      RATE_LIMIT_WINDOW_MS: '1000',
      RATE_LIMIT_SYNC_MS: '100',
      CORS_ORIGINS: 'https://a.example.dk, http://localhost:5173',
    });
    expect(config.rateLimit).toEqual({ max: 0, windowMs: 1000, syncMs: 100 });
    expect(config.corsOrigins).toEqual(['https://a.example.dk', 'http://localhost:5173']);
  });

  it('rejects invalid values, all at once', () => {
    let caught: unknown;
    try {
      loadConfig({
        RATE_LIMIT_MAX: '-1',
        RATE_LIMIT_WINDOW_MS: '10',
        CORS_ORIGINS: 'https://ok.example, *, https://x.example/path',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const variables = (caught as ConfigError).problems.map((p) => p.split(/[.:]/)[0]);
    expect(new Set(variables)).toEqual(
      new Set(['RATE_LIMIT_MAX', 'RATE_LIMIT_WINDOW_MS', 'CORS_ORIGINS']),
    );
  });
});
