import type { FastifyInstance } from 'fastify';
import { afterAll, expect, it } from 'vitest';
import { type AppDeps, buildApp } from '../../src/app.js';
import { ConfigError, DEFAULT_CPR_LOOKUP_LIMIT, loadConfig } from '../../src/config.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { createChild, createKey, createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const BIRTH_DATE = '2021-03-14';
const cpr = (serial: number) => `140321-${String(serial).padStart(4, '0')}`;

/**
 * Issue 12, point 9: CPR lookups by one key were limited only by the general limit, so one key
 * could try a birth date's 10,000 serial numbers in about 17 minutes.
 */
describeEngines('CPR lookup limit', (t) => {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    await Promise.all(apps.map((app) => app.close()));
  });

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

  it('refuses the (N+1)th lookup of a key with 429 and Retry-After; other routes and keys go on', async () => {
    const app = await appWith({
      rateLimit: { max: 1000, windowMs: 60_000 },
      cprLookupLimit: { max: 3, windowMs: 10 * 60_000 },
    });
    const { municipality, admin } = await createTenant(t);
    const child = await createChild(t, admin.token, { birthDate: BIRTH_DATE, cpr: cpr(4711) });
    const other = await createKey(t, municipality.id, 'municipality_admin', {
      token: admin.token,
    });
    const lookup = (token: string, serial: number) =>
      app.inject({
        method: 'POST',
        url: '/v1/children/lookup',
        headers: { authorization: `Bearer ${token}` },
        payload: { cpr: cpr(serial) },
      });

    // Misses count as much as hits: guessing is what the limit is for.
    expect((await lookup(admin.token, 1)).statusCode).toBe(404);
    expect((await lookup(admin.token, 2)).statusCode).toBe(404);
    const hit = await lookup(admin.token, 4711);
    expect(hit.statusCode, hit.body).toBe(200);
    expect(hit.json().id).toBe(child.id);

    const refused = await lookup(admin.token, 4711);
    const problem = expectProblem(refused, 429);
    expect(problem.type).toBe('urn:lineal:problem:too-many-requests');
    expect(problem.detail).toContain('3 CPR lookups');
    expect(refused.body).not.toContain('4711');
    const retryAfter = Number(refused.headers['retry-after']);
    expect(Number.isInteger(retryAfter)).toBe(true);
    expect(retryAfter).toBeGreaterThan(60);
    expect(retryAfter).toBeLessThanOrEqual(600);

    // The key's other requests still pass under the general limit.
    const read = await app.inject({
      method: 'GET',
      url: `/v1/children/${child.id}`,
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(read.statusCode, read.body).toBe(200);
    // Another key has its whole allowance.
    const byOther = await lookup(other.token, 4711);
    expect(byOther.statusCode, byOther.body).toBe(200);

    // The refused attempt is in the audit log as a denied search (without the number).
    const searches = await t.asOwner((db) =>
      db
        .selectFrom('audit_log')
        .select(['outcome', 'principal_id', 'criteria'])
        .where('municipality_id', '=', municipality.id)
        .where('action', '=', 'search')
        .where('resource_type', '=', 'child')
        .orderBy('id')
        .execute(),
    );
    expect(searches.map((s) => [s.outcome, s.principal_id])).toEqual([
      ['not_found', admin.id],
      ['not_found', admin.id],
      ['success', admin.id],
      ['denied', admin.id],
      ['success', other.id],
    ]);
    expect(JSON.stringify(searches)).not.toContain('4711');
  });

  it('applies even with the general limit off; CPR_LOOKUP_LIMIT_MAX=0 turns it off', async () => {
    const { admin } = await createTenant(t);
    const lookups = async (app: FastifyInstance, n: number) => {
      const statuses: number[] = [];
      for (let i = 0; i < n; i++) {
        const res = await app.inject({
          method: 'POST',
          url: '/v1/children/lookup',
          headers: { authorization: `Bearer ${admin.token}` },
          payload: { cpr: cpr(100 + i) },
        });
        statuses.push(res.statusCode);
      }
      return statuses;
    };
    const onlyCpr = await appWith({
      rateLimit: { max: 0, windowMs: 60_000 },
      cprLookupLimit: { max: 2, windowMs: 60_000 },
    });
    expect(await lookups(onlyCpr, 3)).toEqual([404, 404, 429]);
    const off = await appWith({
      rateLimit: { max: 0, windowMs: 60_000 },
      cprLookupLimit: { max: 0, windowMs: 60_000 },
    });
    expect(await lookups(off, 3)).toEqual([404, 404, 404]);
  });
});

it('CPR_LOOKUP_LIMIT_MAX and CPR_LOOKUP_LIMIT_WINDOW_MS configure the limit (default 30 per 10 min)', () => {
  const base = {};
  expect(loadConfig(base).cprLookupLimit).toEqual(DEFAULT_CPR_LOOKUP_LIMIT);
  expect(DEFAULT_CPR_LOOKUP_LIMIT).toEqual({ max: 30, windowMs: 600_000 });
  expect(
    loadConfig({ ...base, CPR_LOOKUP_LIMIT_MAX: '5', CPR_LOOKUP_LIMIT_WINDOW_MS: '3600000' })
      .cprLookupLimit,
  ).toEqual({ max: 5, windowMs: 3_600_000 });
  expect(() => loadConfig({ ...base, CPR_LOOKUP_LIMIT_MAX: '-1' })).toThrow(ConfigError);
});
