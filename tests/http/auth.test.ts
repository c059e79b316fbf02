import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import { describeEngines } from '../support/engines.js';
import { createKey, createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

describeEngines('authentication and authorisation', (t) => {
  it('401 without an Authorization header, with a Bearer challenge', async () => {
    const res = await t.call('GET', '/v1/me', { token: null });
    expectProblem(res, 401);
    expect(res.headers['www-authenticate']).toBe('Bearer realm="lineal"');
  });

  it('401 for a wrong scheme, a malformed, an unknown and a wrong-secret key', async () => {
    const { admin } = await createTenant(t);
    const wrongSecret = `${admin.token.slice(0, -4)}AAAA`;
    const unknown = `lnl_0000000000000000_${'A'.repeat(43)}`;
    for (const authorization of [
      `Basic ${Buffer.from('a:b').toString('base64')}`,
      'Bearer',
      'Bearer not-a-key',
      `Bearer ${unknown}`,
      `Bearer ${wrongSecret}`,
      `Bearer ${admin.token} extra`,
    ]) {
      const res = await t.call('GET', '/v1/me', { token: null, headers: { authorization } });
      expectProblem(res, 401);
      expect(res.headers['www-authenticate']).toContain('error="invalid_token"');
    }
    // The scheme is case-insensitive.
    const lower = await t.call('GET', '/v1/me', {
      token: null,
      headers: { authorization: `bearer ${admin.token}` },
    });
    expect(lower.statusCode).toBe(200);
  });

  it('401 for a revoked key, at once', async () => {
    const { municipality, admin } = await createTenant(t);
    const staff = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    expect((await t.call('GET', '/v1/me', { token: staff.token })).statusCode).toBe(200);
    const revoke = await t.call(
      'POST',
      `/v1/municipalities/${municipality.id}/api-keys/${staff.id}/revoke`,
      { token: admin.token },
    );
    expect(revoke.statusCode, revoke.body).toBe(200);
    const res = await t.call('GET', '/v1/me', { token: staff.token });
    expect(expectProblem(res, 401).detail).toMatch(/revoked/);
  });

  it('401 for an expired key', async () => {
    const { municipality } = await createTenant(t);
    const expiresAt = new Date(t.clock.now().getTime() + 60 * 60 * 1000).toISOString();
    const key = await createKey(t, municipality.id, 'integration', { expiresAt });
    expect((await t.call('GET', '/v1/me', { token: key.token })).statusCode).toBe(200);
    t.clock.advance(60 * 60 * 1000);
    expect(expectProblem(await t.call('GET', '/v1/me', { token: key.token }), 401).detail).toMatch(
      /expired/,
    );
    t.clock.advance(-60 * 60 * 1000);
  });

  it('403 for a role the route does not allow', async () => {
    const { municipality } = await createTenant(t);
    const staff = await createKey(t, municipality.id, 'unit_staff');
    const list = await t.call('GET', '/v1/municipalities', { token: staff.token });
    expect(expectProblem(list, 403).detail).toMatch(/unit_staff.*municipality:list/);
    const keys = await t.call('GET', `/v1/municipalities/${municipality.id}/api-keys`, {
      token: staff.token,
    });
    expectProblem(keys, 403);
    const create = await t.call('POST', '/v1/municipalities', {
      token: staff.token,
      body: { code: '999', name: 'Nope' },
    });
    expectProblem(create, 403);
  });

  it('authenticates before reading the body (401 beats 400/415)', async () => {
    const res = await t.call('POST', '/v1/municipalities', {
      token: null,
      body: 'garbage',
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(res, 401);
  });

  it('GET /v1/me describes the calling key and its permissions', async () => {
    const { municipality } = await createTenant(t);
    const analyst = await createKey(t, municipality.id, 'analyst');
    const res = await t.call('GET', '/v1/me', { token: analyst.token });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      principal: {
        kind: 'api_key',
        id: analyst.id,
        role: 'analyst',
        municipalityId: municipality.id,
        unitIds: [],
      },
      permissions: [
        'session:read',
        'municipality:read',
        'unit:read',
        'ruler:read',
        'round:read',
        'guide:read',
        'analytics:read',
        'unit_analytics:read',
      ],
    });
  });

  it('records last_used_at, at most once a minute', async () => {
    const { municipality } = await createTenant(t);
    const key = await createKey(t, municipality.id, 'analyst');
    const lastUsed = async () =>
      (
        await t.database.transaction(municipalityScope(municipality.id), (trx) =>
          trx
            .selectFrom('api_keys')
            .select(sql<string | null>`last_used_at::text`.as('at'))
            .where('id', '=', key.id)
            .executeTakeFirstOrThrow(),
        )
      ).at;
    expect(await lastUsed()).toBeNull();
    await t.call('GET', '/v1/me', { token: key.token });
    const first = await lastUsed();
    expect(first).not.toBeNull();
    await t.call('GET', '/v1/me', { token: key.token });
    expect(await lastUsed()).toBe(first);
    t.clock.advance(61_000);
    await t.call('GET', '/v1/me', { token: key.token });
    expect(await lastUsed()).not.toBe(first);
  });
});
