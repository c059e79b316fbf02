import { expect, it } from 'vitest';
import type { ApiKey } from '../../src/features/api-keys/schemas.js';
import { describeEngines } from '../support/engines.js';
import { bareUnit, createKey, createMunicipality, createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

describeEngines('API keys', (t) => {
  const keysUrl = (municipalityId: string) => `/v1/municipalities/${municipalityId}/api-keys`;

  it('a municipality admin creates a key; the secret is shown once and works', async () => {
    const { municipality, admin } = await createTenant(t);
    const unitId = await bareUnit(t, municipality.id);
    const res = await t.call('POST', keysUrl(municipality.id), {
      token: admin.token,
      body: { name: 'Solsikken tablet', role: 'unit_staff', unitIds: [unitId] },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers['cache-control']).toBe('no-store');
    const key = res.json();
    expect(key).toMatchObject({
      name: 'Solsikken tablet',
      role: 'unit_staff',
      municipalityId: municipality.id,
      unitIds: [unitId],
      status: 'active',
      createdBy: admin.id,
      revokedAt: null,
      lastUsedAt: null,
    });
    expect(key.token).toMatch(new RegExp(`^${key.keyId}_`));
    expect(res.headers.location).toBe(`${keysUrl(municipality.id)}/${key.id}`);

    const me = await t.call('GET', '/v1/me', { token: key.token });
    expect(me.json().principal).toMatchObject({ role: 'unit_staff', unitIds: [unitId] });

    const fetched = await t.call('GET', `${keysUrl(municipality.id)}/${key.id}`, {
      token: admin.token,
    });
    expect(fetched.statusCode).toBe(200);
    expect(fetched.json()).not.toHaveProperty('token');
    const secret = key.token.slice(key.keyId.length + 1);
    expect(secret).toHaveLength(43);
    expect(JSON.stringify(fetched.json())).not.toContain(secret);
  });

  it('422 naming every broken rule, and nothing written', async () => {
    const { municipality, admin } = await createTenant(t);
    const before = (await t.call('GET', keysUrl(municipality.id), { token: admin.token })).json();
    const unit = crypto.randomUUID();
    const cases: Array<[object, string[]]> = [
      [{ name: 'a', role: 'unit_staff' }, ['body.unitIds']],
      [{ name: 'a', role: 'unit_leader', unitIds: [unit, unit] }, ['body.unitIds']],
      [{ name: 'a', role: 'analyst', unitIds: [unit] }, ['body.unitIds']],
      [
        {
          name: 'a',
          role: 'municipality_admin',
          unitIds: [unit],
          expiresAt: '2020-01-01T00:00:00Z',
        },
        ['body.unitIds', 'body.expiresAt'],
      ],
    ];
    for (const [body, paths] of cases) {
      const res = await t.call('POST', keysUrl(municipality.id), { token: admin.token, body });
      const problem = expectProblem(res, 422);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toEqual(paths);
    }
    const after = (await t.call('GET', keysUrl(municipality.id), { token: admin.token })).json();
    expect(after.items).toHaveLength(before.items.length);
  });

  it('422 for a unit of another municipality or no unit at all, and nothing written', async () => {
    const { municipality, admin } = await createTenant(t);
    const other = await createTenant(t);
    const own = await bareUnit(t, municipality.id);
    const foreign = await bareUnit(t, other.municipality.id);
    const before = (await t.call('GET', keysUrl(municipality.id), { token: admin.token })).json();
    for (const unitIds of [[foreign], [own, crypto.randomUUID()]]) {
      const res = await t.call('POST', keysUrl(municipality.id), {
        token: admin.token,
        body: { name: 'Borrowed', role: 'unit_leader', unitIds },
      });
      const problem = expectProblem(res, 422);
      expect(problem.errors).toEqual([
        expect.objectContaining({
          path: `body.unitIds.${unitIds.length - 1}`,
          code: 'unknown_unit',
        }),
      ]);
    }
    const after = (await t.call('GET', keysUrl(municipality.id), { token: admin.token })).json();
    expect(after.items).toHaveLength(before.items.length);
  });

  it('400 for a platform_admin role, an unknown role or a bad unit id', async () => {
    const { municipality, admin } = await createTenant(t);
    for (const body of [
      { name: 'x', role: 'platform_admin' },
      { name: 'x', role: 'janitor' },
      { name: 'x', role: 'unit_staff', unitIds: ['not-a-uuid'] },
      { name: '', role: 'analyst' },
    ]) {
      const res = await t.call('POST', keysUrl(municipality.id), { token: admin.token, body });
      expect(expectProblem(res, 400).errors?.length).toBeGreaterThan(0);
    }
  });

  it("one municipality's admin cannot see or change another's keys (404)", async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const bKey = await createKey(t, b.municipality.id, 'analyst', { token: b.admin.token });
    const as = { token: a.admin.token };
    expectProblem(await t.call('GET', keysUrl(b.municipality.id), as), 404);
    expectProblem(await t.call('GET', `${keysUrl(b.municipality.id)}/${bKey.id}`, as), 404);
    expectProblem(await t.call('POST', `${keysUrl(b.municipality.id)}/${bKey.id}/revoke`, as), 404);
    expectProblem(
      await t.call('POST', keysUrl(b.municipality.id), {
        ...as,
        body: { name: 'sneaky', role: 'municipality_admin' },
      }),
      404,
    );
    // Nor by naming B's key under A's own municipality.
    expectProblem(await t.call('GET', `${keysUrl(a.municipality.id)}/${bKey.id}`, as), 404);
    expectProblem(await t.call('POST', `${keysUrl(a.municipality.id)}/${bKey.id}/revoke`, as), 404);
    // B's key still works and B still lists exactly its own keys.
    expect((await t.call('GET', '/v1/me', { token: bKey.token })).statusCode).toBe(200);
    const bList = (
      await t.call('GET', keysUrl(b.municipality.id), { token: b.admin.token })
    ).json();
    expect(bList.items.map((k: ApiKey) => k.municipalityId)).toEqual([
      b.municipality.id,
      b.municipality.id,
    ]);
  });

  it('platform admins manage keys of any municipality; 404 for one that does not exist', async () => {
    const municipality = await createMunicipality(t);
    const key = await createKey(t, municipality.id, 'municipality_admin');
    expect(key.createdBy).not.toBeNull();
    const missing = crypto.randomUUID();
    expectProblem(
      await t.call('POST', keysUrl(missing), { body: { name: 'x', role: 'analyst' } }),
      404,
    );
    expectProblem(await t.call('GET', keysUrl(missing)), 404);
  });

  it('revoking twice is a conflict; the key stays listed as revoked', async () => {
    const { municipality, admin } = await createTenant(t);
    const key = await createKey(t, municipality.id, 'integration', { token: admin.token });
    const url = `${keysUrl(municipality.id)}/${key.id}/revoke`;
    const first = await t.call('POST', url, { token: admin.token });
    expect(first.statusCode).toBe(200);
    expect(first.json()).toMatchObject({
      status: 'revoked',
      revokedBy: admin.id,
      revokedAt: t.clock.now().toISOString(),
    });
    expectProblem(await t.call('POST', url, { token: admin.token }), 409);
    expectProblem(
      await t.call('POST', `${keysUrl(municipality.id)}/${crypto.randomUUID()}/revoke`, {
        token: admin.token,
      }),
      404,
    );
  });

  it('lists newest first with pagination and a status filter', async () => {
    const { municipality, admin } = await createTenant(t);
    const created: string[] = [admin.id];
    for (let i = 0; i < 4; i++) {
      t.clock.advance(1000);
      created.push((await createKey(t, municipality.id, 'analyst', { token: admin.token })).id);
    }
    const revoked = created[1] as string;
    await t.call('POST', `${keysUrl(municipality.id)}/${revoked}/revoke`, { token: admin.token });

    const ids: string[] = [];
    let cursor: string | null = null;
    do {
      const query: string = `?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const page: { items: ApiKey[]; nextCursor: string | null } = (
        await t.call('GET', `${keysUrl(municipality.id)}${query}`, { token: admin.token })
      ).json();
      ids.push(...page.items.map((k: ApiKey) => k.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(ids).toEqual([...created].reverse());

    const onlyRevoked = (
      await t.call('GET', `${keysUrl(municipality.id)}?status=revoked`, { token: admin.token })
    ).json();
    expect(onlyRevoked.items.map((k: ApiKey) => k.id)).toEqual([revoked]);
    const active = (
      await t.call('GET', `${keysUrl(municipality.id)}?status=active`, { token: admin.token })
    ).json();
    expect(active.items.map((k: ApiKey) => k.id).sort()).toEqual(
      created.filter((id) => id !== revoked).sort(),
    );
  });

  it('refuses Idempotency-Key, since a replay would need the never-stored secret', async () => {
    const { municipality, admin } = await createTenant(t);
    const res = await t.call('POST', keysUrl(municipality.id), {
      token: admin.token,
      body: { name: 'x', role: 'analyst' },
      headers: { 'idempotency-key': 'abc' },
    });
    expect(expectProblem(res, 400).errors?.[0]?.path).toBe('header.idempotency-key');
    const list = (await t.call('GET', keysUrl(municipality.id), { token: admin.token })).json();
    expect(list.items).toHaveLength(1);
  });

  it('lists expired keys as expired', async () => {
    const { municipality, admin } = await createTenant(t);
    const soon = new Date(t.clock.now().getTime() + 1000).toISOString();
    const key = await createKey(t, municipality.id, 'analyst', {
      token: admin.token,
      expiresAt: soon,
    });
    t.clock.advance(2000);
    const expired = (
      await t.call('GET', `${keysUrl(municipality.id)}?status=expired`, { token: admin.token })
    ).json();
    expect(expired.items.map((k: ApiKey) => [k.id, k.status])).toEqual([[key.id, 'expired']]);
  });
});
