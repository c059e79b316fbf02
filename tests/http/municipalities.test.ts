import { expect, it } from 'vitest';
import { describeEngines } from '../support/engines.js';
import { createKey, createMunicipality, createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

describeEngines('municipalities', (t) => {
  it('platform admins create a municipality, with a Location header', async () => {
    const res = await t.call('POST', '/v1/municipalities', {
      body: { code: '751', name: '  Aarhus Kommune ' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json();
    expect(body).toEqual({
      id: expect.any(String),
      code: '751',
      name: 'Aarhus Kommune',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
    });
    expect(res.headers.location).toBe(`/v1/municipalities/${body.id}`);
    const get = await t.call('GET', `/v1/municipalities/${body.id}`);
    expect(get.json()).toEqual(body);
  });

  it('409 for a second municipality with the same code, and nothing written', async () => {
    const first = await createMunicipality(t);
    const res = await t.call('POST', '/v1/municipalities', {
      body: { code: first.code, name: 'Duplicate' },
    });
    expect(expectProblem(res, 409).detail).toContain(first.code);
    const all = await t.call('GET', '/v1/municipalities?limit=200');
    expect(all.json().items.filter((m: { code: string }) => m.code === first.code)).toHaveLength(1);
  });

  it('lists by code with cursor pagination, every item exactly once', async () => {
    for (let i = 0; i < 5; i++) await createMunicipality(t);
    const seen: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/municipalities?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.call('GET', url);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((m: { code: string }) => m.code));
      cursor = page.nextCursor;
      pages++;
    } while (cursor && pages < 50);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
    const all = (await t.call('GET', '/v1/municipalities?limit=200')).json();
    expect(seen).toEqual(all.items.map((m: { code: string }) => m.code));
    expect(all.nextCursor).toBeNull();
  });

  it('any key reads its own municipality; another municipality is 404', async () => {
    const { municipality, admin } = await createTenant(t);
    const other = await createMunicipality(t);
    const staff = await createKey(t, municipality.id, 'unit_staff');
    for (const token of [admin.token, staff.token]) {
      const own = await t.call('GET', `/v1/municipalities/${municipality.id}`, { token });
      expect(own.statusCode).toBe(200);
      expect(own.json().code).toBe(municipality.code);
      expectProblem(await t.call('GET', `/v1/municipalities/${other.id}`, { token }), 404);
    }
  });

  it('404 for a municipality that does not exist', async () => {
    expectProblem(await t.call('GET', `/v1/municipalities/${crypto.randomUUID()}`), 404);
  });

  it('only platform admins create and list municipalities', async () => {
    const { admin } = await createTenant(t);
    expectProblem(
      await t.call('POST', '/v1/municipalities', {
        token: admin.token,
        body: { code: '998', name: 'X' },
      }),
      403,
    );
    expectProblem(await t.call('GET', '/v1/municipalities', { token: admin.token }), 403);
  });
});
