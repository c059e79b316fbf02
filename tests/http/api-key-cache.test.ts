import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { ApiKeyCache } from '../../src/auth/api-key-cache.js';
import { parseToken } from '../../src/auth/api-key-token.js';
import { isRevokedKeyError, municipalityScope, platformScope } from '../../src/db/database.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { createKey, createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/**
 * API keys are kept by each service instance after their first look-up; a revocation made
 * anywhere (another instance, the database itself) stops the key's very next request, because
 * every request's transaction has the database check its key as it enters its scope.
 */
describeEngines('API-key cache and revocation', (t) => {
  const me = (app: typeof t.app, token: string) =>
    app.inject({ method: 'GET', url: '/v1/me', headers: { authorization: `Bearer ${token}` } });

  it('a key revoked through another instance is refused by this one at once', async () => {
    const { municipality, admin } = await createTenant(t);
    const staff = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    expect((await me(t.app, staff.token)).statusCode).toBe(200);
    expect((await me(t.app, staff.token)).statusCode).toBe(200);
    const other = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: t.clock.now,
    });
    try {
      const revoke = await other.inject({
        method: 'POST',
        url: `/v1/municipalities/${municipality.id}/api-keys/${staff.id}/revoke`,
        headers: { authorization: `Bearer ${admin.token}` },
      });
      expect(revoke.statusCode, revoke.body).toBe(200);
    } finally {
      await other.close();
    }
    const first = await me(t.app, staff.token);
    expect(expectProblem(first, 401).detail).toMatch(/revoked/);
    expect(first.headers['www-authenticate']).toContain('error="invalid_token"');
    // Dropped from the cache: looked up again, and found revoked before the route runs.
    expect(expectProblem(await me(t.app, staff.token), 401).detail).toMatch(/revoked/);
    // The admin's own (cached) key still works.
    expect((await me(t.app, admin.token)).statusCode).toBe(200);
  });

  it('a key revoked or deleted in the database directly is refused at once', async () => {
    const { municipality, admin } = await createTenant(t);
    const revoked = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    const deleted = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    for (const key of [revoked, deleted]) expect((await me(t.app, key.token)).statusCode).toBe(200);
    await t.asOwner(async (db) => {
      await sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${revoked.id}`.execute(db);
      await sql`DELETE FROM api_keys WHERE id = ${deleted.id}`.execute(db);
    });
    for (const key of [revoked, deleted]) {
      expectProblem(await me(t.app, key.token), 401);
      expectProblem(await me(t.app, key.token), 401);
    }
  });

  it('a write with a revoked cached key changes nothing', async () => {
    const { municipality, admin } = await createTenant(t);
    const integration = await createKey(t, municipality.id, 'integration', { token: admin.token });
    expect((await me(t.app, integration.token)).statusCode).toBe(200);
    await t.asOwner((db) =>
      sql`UPDATE api_keys SET revoked_at = now() WHERE id = ${integration.id}`.execute(db),
    );
    const res = await t.call('POST', '/v1/units', {
      token: integration.token,
      body: { name: 'Ny enhed', kind: 'kindergarten' },
    });
    expectProblem(res, 401);
    const units = await t.database.transaction(municipalityScope(municipality.id), (trx) =>
      trx.selectFrom('units').select('name').where('name', '=', 'Ny enhed').execute(),
    );
    expect(units).toEqual([]);
  });

  it('the database refuses a scope for a revoked, unknown or foreign key', async () => {
    const { municipality, admin } = await createTenant(t);
    const other = await createTenant(t);
    const key = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    const run = (scope: Parameters<typeof t.database.transaction>[0]) =>
      t.database.transaction(scope, async (trx) => (await sql`SELECT 1`.execute(trx)).rows);
    // Its own municipality: entered.
    await expect(run({ ...municipalityScope(municipality.id), apiKeyId: key.id })).resolves.toEqual(
      [{ '?column?': 1 }],
    );
    // Another municipality's scope with this municipality's key: refused.
    await expect(
      run({ ...municipalityScope(other.municipality.id), apiKeyId: key.id }),
    ).rejects.toThrow(/another municipality/);
    // An unknown key, in either kind of scope: refused as revoked.
    const unknown = '00000000-0000-4000-8000-000000000000';
    for (const scope of [municipalityScope(municipality.id), platformScope]) {
      const error = await run({ ...scope, apiKeyId: unknown }).catch((e: unknown) => e);
      expect(isRevokedKeyError(error)).toBe(true);
    }
    // A key id that is not a uuid is never written into the script: the database rejects it.
    await expect(
      run({ ...municipalityScope(municipality.id), apiKeyId: "x'); SELECT 1; --" }),
    ).rejects.toThrow(/uuid/);
  });

  it('keeps at most its size, dropping the least recently used', async () => {
    const { municipality, admin } = await createTenant(t);
    const keys = await Promise.all(
      [1, 2, 3].map(() => createKey(t, municipality.id, 'analyst', { token: admin.token })),
    );
    const ids = keys.map((key) => parseToken(key.token)?.keyId as string);
    const cache = new ApiKeyCache(2);
    for (const id of [ids[0], ids[1], ids[0], ids[2], ids[0]] as string[]) {
      expect((await cache.find(t.database, id))?.role).toBe('analyst');
    }
    // 1, 2 looked up; 1 kept (hit); 3 looked up, dropping 2 (least recently used); 1 hit.
    expect({ lookups: cache.lookups, hits: cache.hits }).toEqual({ lookups: 3, hits: 2 });
    expect(await cache.find(t.database, ids[1] as string)).toBeDefined();
    expect(cache.lookups).toBe(4);
    expect(await cache.find(t.database, 'ffffffffffffffff')).toBeUndefined();
  });
});
