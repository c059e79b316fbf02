import { expect, it } from 'vitest';
import type { Unit } from '../../src/features/units/schemas.js';
import { describeEngines } from '../support/engines.js';
import { createKey, createTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

interface UnitPage {
  items: Unit[];
  nextCursor: string | null;
}

describeEngines('units', (t) => {
  const list = async (token: string, query = ''): Promise<UnitPage> => {
    const res = await t.call('GET', `/v1/units${query}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const names = (page: UnitPage) => page.items.map((u) => u.name);

  it('creates a unit: 201 with Location and every field; GET returns the same', async () => {
    const { admin } = await createTenant(t);
    const res = await t.call('POST', '/v1/units', {
      token: admin.token,
      body: {
        name: '  Børnehuset Solsikken ',
        kind: 'integrated_daycare',
        district: ' Syd ',
        externalRef: ' inst-4711 ',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const unit = res.json();
    expect(unit).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      name: 'Børnehuset Solsikken',
      kind: 'integrated_daycare',
      district: 'Syd',
      externalRef: 'inst-4711',
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(res.headers.location).toBe(`/v1/units/${unit.id}`);

    const get = await t.call('GET', `/v1/units/${unit.id}`, { token: admin.token });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual(unit);

    // Optional fields default to null.
    const bare = await createUnit(t, admin.token, { name: 'Skolen ved Søen', kind: 'school' });
    expect(bare).toMatchObject({ name: 'Skolen ved Søen', kind: 'school' });
    expect(bare.district).toBeNull();
    expect(bare.externalRef).toBeNull();
  });

  it('400 for an unknown kind, an empty name, an unknown field; nothing written', async () => {
    const { admin } = await createTenant(t);
    const cases: Array<[object, string]> = [
      [{ name: 'X', kind: 'prison' }, 'body.kind'],
      [{ name: '   ', kind: 'nursery' }, 'body.name'],
      [{ kind: 'nursery' }, 'body.name'],
      [{ name: 'X', kind: 'nursery', externalRef: '' }, 'body.externalRef'],
    ];
    for (const [body, path] of cases) {
      const res = await t.call('POST', '/v1/units', { token: admin.token, body });
      const problem = expectProblem(res, 400);
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
    const strict = await t.call('POST', '/v1/units', {
      token: admin.token,
      body: { name: 'X', kind: 'nursery', capacity: 40 },
    });
    expect(expectProblem(strict, 400).errors?.length).toBeGreaterThan(0);
    expect((await list(admin.token)).items).toHaveLength(0);
  });

  it('externalRef is unique per municipality (409), but free in another municipality', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const first = await createUnit(t, a.admin.token, { externalRef: 'dup-ref', name: 'Første' });
    const dup = await t.call('POST', '/v1/units', {
      token: a.admin.token,
      body: { name: 'Anden', kind: 'nursery', externalRef: 'dup-ref' },
    });
    const problem = expectProblem(dup, 409);
    expect(problem.type).toBe('urn:lineal:problem:conflict');
    expect(problem.detail).toContain('dup-ref');
    // After trimming it is the same ref too.
    expectProblem(
      await t.call('POST', '/v1/units', {
        token: a.admin.token,
        body: { name: 'Tredje', kind: 'nursery', externalRef: ' dup-ref ' },
      }),
      409,
    );
    const inA = await list(a.admin.token);
    expect(inA.items.map((u) => u.id)).toEqual([first.id]);

    const inB = await createUnit(t, b.admin.token, { externalRef: 'dup-ref', name: 'Første' });
    expect(inB.externalRef).toBe('dup-ref');
    expect(inB.id).not.toBe(first.id);
    expect((await list(b.admin.token, '?externalRef=dup-ref')).items.map((u) => u.id)).toEqual([
      inB.id,
    ]);

    // Units without externalRef never collide.
    await createUnit(t, a.admin.token, { name: 'Uden ref 1' });
    await createUnit(t, a.admin.token, { name: 'Uden ref 2' });
    expect((await list(a.admin.token)).items).toHaveLength(3);
  });

  it('PATCH changes fields (200), clears district, stamps updatedAt; GET agrees', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, {
      name: 'Vuggestuen Myretuen',
      kind: 'nursery',
      district: 'Nord',
      externalRef: 'v-1',
    });
    const res = await t.call('PATCH', `/v1/units/${unit.id}`, {
      token: admin.token,
      body: { name: ' Myretuen ', kind: 'integrated_daycare', district: null },
    });
    expect(res.statusCode, res.body).toBe(200);
    const changed = res.json();
    expect(changed).toEqual({
      ...unit,
      name: 'Myretuen',
      kind: 'integrated_daycare',
      district: null,
      updatedAt: t.clock.now().toISOString(),
    });
    expect((await t.call('GET', `/v1/units/${unit.id}`, { token: admin.token })).json()).toEqual(
      changed,
    );

    // Setting the externalRef to its own value is not a conflict; null clears it.
    const same = await t.call('PATCH', `/v1/units/${unit.id}`, {
      token: admin.token,
      body: { externalRef: 'v-1' },
    });
    expect(same.statusCode, same.body).toBe(200);
    expect(same.json().externalRef).toBe('v-1');
    const cleared = await t.call('PATCH', `/v1/units/${unit.id}`, {
      token: admin.token,
      body: { externalRef: null },
    });
    expect(cleared.statusCode, cleared.body).toBe(200);
    expect(cleared.json()).toMatchObject({ externalRef: null, name: 'Myretuen' });
  });

  it('PATCH: 404 for an unknown unit, 409 for a taken externalRef, 400 for an empty body', async () => {
    const { admin } = await createTenant(t);
    const one = await createUnit(t, admin.token, { externalRef: 'ref-one', name: 'En' });
    const two = await createUnit(t, admin.token, { externalRef: 'ref-two', name: 'To' });

    const missing = crypto.randomUUID();
    const notFound = expectProblem(
      await t.call('PATCH', `/v1/units/${missing}`, { token: admin.token, body: { name: 'X' } }),
      404,
    );
    expect(notFound.detail).toContain(missing);
    expectProblem(await t.call('GET', `/v1/units/${missing}`, { token: admin.token }), 404);

    const conflict = expectProblem(
      await t.call('PATCH', `/v1/units/${two.id}`, {
        token: admin.token,
        body: { externalRef: 'ref-one', name: 'Changed' },
      }),
      409,
    );
    expect(conflict.detail).toContain('ref-one');
    // Nothing of the failed change was written.
    expect((await t.call('GET', `/v1/units/${two.id}`, { token: admin.token })).json()).toEqual(
      two,
    );

    const empty = expectProblem(
      await t.call('PATCH', `/v1/units/${one.id}`, { token: admin.token, body: {} }),
      400,
    );
    expect(empty.errors?.length).toBeGreaterThan(0);
    for (const body of [{ kind: 'castle' }, { name: '' }, { id: two.id }]) {
      expectProblem(
        await t.call('PATCH', `/v1/units/${one.id}`, { token: admin.token, body }),
        400,
      );
    }
    expectProblem(
      await t.call('PATCH', '/v1/units/not-a-uuid', { token: admin.token, body: { name: 'X' } }),
      400,
    );
    expect((await t.call('GET', `/v1/units/${one.id}`, { token: admin.token })).json()).toEqual(
      one,
    );
  });

  it('lists with kind, district and externalRef filters', async () => {
    const { admin } = await createTenant(t);
    const nursery = await createUnit(t, admin.token, {
      name: 'Alfa',
      kind: 'nursery',
      district: 'Nord',
      externalRef: 'a-1',
    });
    const kindergarten = await createUnit(t, admin.token, {
      name: 'Bravo',
      kind: 'kindergarten',
      district: 'Nord',
      externalRef: 'b-1',
    });
    const school = await createUnit(t, admin.token, {
      name: 'Charlie',
      kind: 'school',
      district: 'Syd',
      externalRef: 'c-1',
    });
    const ids = (page: UnitPage) => page.items.map((u) => u.id);

    expect(ids(await list(admin.token))).toEqual([nursery.id, kindergarten.id, school.id]);
    expect(ids(await list(admin.token, '?kind=nursery'))).toEqual([nursery.id]);
    expect(ids(await list(admin.token, '?kind=club'))).toEqual([]);
    expect(ids(await list(admin.token, '?district=Nord'))).toEqual([nursery.id, kindergarten.id]);
    expect(ids(await list(admin.token, '?district=Syd'))).toEqual([school.id]);
    expect(ids(await list(admin.token, '?district=Nord&kind=kindergarten'))).toEqual([
      kindergarten.id,
    ]);
    expect(ids(await list(admin.token, '?externalRef=c-1'))).toEqual([school.id]);
    expect(ids(await list(admin.token, '?externalRef=c'))).toEqual([]);
    expect(ids(await list(admin.token, '?district=Syd&kind=nursery'))).toEqual([]);

    const badKind = expectProblem(
      await t.call('GET', '/v1/units?kind=castle', { token: admin.token }),
      400,
    );
    expect(badKind.errors?.map((e) => e.path)).toContain('query.kind');
  });

  it('cursor pagination returns every unit exactly once, in name order', async () => {
    const { admin } = await createTenant(t);
    const created: Unit[] = [];
    // Same names several times: the order falls back to the id, and pages must not skip ties.
    for (const name of ['Mosen', 'Egebo', 'Bikuben', 'Mosen', 'Toppen', 'Egebo', 'Mosen']) {
      created.push(await createUnit(t, admin.token, { name }));
    }
    const expected = [...created]
      .sort((x, y) =>
        x.name < y.name ? -1 : x.name > y.name ? 1 : x.id < y.id ? -1 : x.id > y.id ? 1 : 0,
      )
      .map((u) => u.id);

    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await list(admin.token, query);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((u) => u.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen, `limit ${limit}`).toEqual(expected);
      expect(pages).toBe(Math.ceil(created.length / limit));
    }
    const all = await list(admin.token, '?limit=200');
    expect(names(all)).toEqual(['Bikuben', 'Egebo', 'Egebo', 'Mosen', 'Mosen', 'Mosen', 'Toppen']);
    expect(all.nextCursor).toBeNull();

    const bad = expectProblem(
      await t.call('GET', '/v1/units?cursor=garbage', { token: admin.token }),
      400,
    );
    expect(bad.errors?.map((e) => e.path)).toEqual(['query.cursor']);
    for (const limit of ['0', '201', 'x']) {
      const res = await t.call('GET', `/v1/units?limit=${limit}`, { token: admin.token });
      expect(expectProblem(res, 400).errors?.map((e) => e.path)).toContain('query.limit');
    }
  });

  it("another municipality's unit is 404 on GET and PATCH, and stays unchanged", async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const bUnit = await createUnit(t, b.admin.token, { name: 'Bs børnehave', externalRef: 'b-x' });
    await createUnit(t, a.admin.token, { name: 'As børnehave' });

    expectProblem(await t.call('GET', `/v1/units/${bUnit.id}`, { token: a.admin.token }), 404);
    expectProblem(
      await t.call('PATCH', `/v1/units/${bUnit.id}`, {
        token: a.admin.token,
        body: { name: 'Hijacked' },
      }),
      404,
    );
    expect(names(await list(a.admin.token))).toEqual(['As børnehave']);
    expect((await list(a.admin.token, '?externalRef=b-x')).items).toEqual([]);
    expect((await t.call('GET', `/v1/units/${bUnit.id}`, { token: b.admin.token })).json()).toEqual(
      bUnit,
    );
  });

  it('unit_staff and analysts read units but may not write them; integration keys may', async () => {
    const { municipality, admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { name: 'Fælles', kind: 'nursery' });
    const staff = await createKey(t, municipality.id, 'unit_staff', {
      unitIds: [unit.id],
      token: admin.token,
    });
    const analyst = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    const integration = await createKey(t, municipality.id, 'integration', {
      token: admin.token,
    });

    for (const token of [staff.token, analyst.token]) {
      expect((await list(token)).items.map((u) => u.id)).toEqual([unit.id]);
      const get = await t.call('GET', `/v1/units/${unit.id}`, { token });
      expect(get.statusCode).toBe(200);
      expect(get.json()).toEqual(unit);
      expectProblem(
        await t.call('POST', '/v1/units', { token, body: { name: 'Ny', kind: 'nursery' } }),
        403,
      );
      expectProblem(
        await t.call('PATCH', `/v1/units/${unit.id}`, { token, body: { name: 'Omdøbt' } }),
        403,
      );
    }
    expect((await list(admin.token)).items).toEqual([unit]);

    const byIntegration = await createUnit(t, integration.token, { name: 'Import' });
    expect(byIntegration.name).toBe('Import');
    const renamed = await t.call('PATCH', `/v1/units/${byIntegration.id}`, {
      token: integration.token,
      body: { district: 'Vest' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().district).toBe('Vest');
  });

  it('a platform administrator key gets 403 on /v1/units (it has no municipality); no key 401', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token);
    expectProblem(await t.call('GET', '/v1/units'), 403);
    expectProblem(await t.call('GET', `/v1/units/${unit.id}`), 403);
    expectProblem(await t.call('POST', '/v1/units', { body: { name: 'X', kind: 'nursery' } }), 403);
    expectProblem(await t.call('PATCH', `/v1/units/${unit.id}`, { body: { name: 'X' } }), 403);
    expectProblem(await t.call('GET', '/v1/units', { token: null }), 401);
    expect((await list(admin.token)).items).toEqual([unit]);
  });
});
