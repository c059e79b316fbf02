import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import type { Child } from '../../src/features/children/schemas.js';
import type { Enrolment } from '../../src/features/enrolments/schemas.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createKey, createTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

interface ChildPage {
  items: Child[];
  nextCursor: string | null;
}

let serial = 0;
/**
 * A CPR number for a child born 2000-2036 (7th digit 4), unique in this file:
 * `DDMMYY-4NNN`, or with `sep` between the parts ('' for the 10 digits).
 */
function cprFor(birthDate: string, sep = '-', n = ++serial): string {
  const ddmmyy = `${birthDate.slice(8, 10)}${birthDate.slice(5, 7)}${birthDate.slice(2, 4)}`;
  return `${ddmmyy}${sep}4${String(n).padStart(3, '0')}`;
}
/** The written forms of a CPR number that must never show up in a response. */
const cprForms = (cpr: string) => {
  const digits = cpr.replace(/[^0-9]/g, '');
  return [
    digits,
    `${digits.slice(0, 6)}-${digits.slice(6)}`,
    `${digits.slice(0, 6)} ${digits.slice(6)}`,
  ];
};

describeEngines('children and enrolments', (t) => {
  const list = async (token: string, query = ''): Promise<ChildPage> => {
    const res = await t.call('GET', `/v1/children${query}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  const listIds = async (token: string, query = '') =>
    (await list(token, query)).items.map((c) => c.id);
  const count = async (token: string) => (await list(token, '?limit=200')).items.length;
  const enrolmentsOf = async (token: string, childId: string): Promise<Enrolment[]> => {
    const res = await t.call('GET', `/v1/children/${childId}/enrolments`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  };
  const enrol = (token: string, childId: string, body: object) =>
    t.call('POST', `/v1/children/${childId}/enrolments`, { token, body });
  const patchEnrolment = (token: string, childId: string, enrolmentId: string, body: object) =>
    t.call('PATCH', `/v1/children/${childId}/enrolments/${enrolmentId}`, { token, body });
  const lookup = (token: string, cpr: string) =>
    t.call('POST', '/v1/children/lookup', { token, body: { cpr } });
  const errorPaths = (res: LightMyRequestResponse, status: number) =>
    (expectProblem(res, status).errors ?? []).map((e) => e.path);

  it('creates a child without enrolment: 201, Location, every field, hasCpr false', async () => {
    const { admin } = await createTenant(t);
    const res = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: {
        externalRef: ' elev-1001 ',
        givenName: ' Ida ',
        familyName: 'Holm',
        birthDate: '2021-05-10',
        sex: 'female',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const child = res.json();
    expect(child).toEqual({
      id: expect.stringMatching(/^[0-9a-f-]{36}$/),
      externalRef: 'elev-1001',
      givenName: 'Ida',
      familyName: 'Holm',
      birthDate: '2021-05-10',
      sex: 'female',
      hasCpr: false,
      createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      updatedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
    });
    expect(res.headers.location).toBe(`/v1/children/${child.id}`);
    const get = await t.call('GET', `/v1/children/${child.id}`, { token: admin.token });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual(child);
    expect(await enrolmentsOf(admin.token, child.id)).toEqual([]);

    // Only externalRef and birthDate are required; the rest is null.
    const minimal = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: 'elev-1002', birthDate: '2020-01-31' },
    });
    expect(minimal.statusCode, minimal.body).toBe(201);
    expect(minimal.json()).toMatchObject({
      givenName: null,
      familyName: null,
      sex: null,
      hasCpr: false,
      birthDate: '2020-01-31',
    });
    // Born today is not in the future.
    const today = await createChild(t, admin.token, { birthDate: '2026-11-22' });
    expect(today.birthDate).toBe('2026-11-22');
  });

  it('creates a child with a CPR number and an enrolment; the CPR never comes back', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const cpr = cprFor('2021-05-10');
    const res = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: {
        externalRef: 'c-cpr-1',
        givenName: 'Oskar',
        birthDate: '2021-05-10',
        sex: 'male',
        cpr,
        enrolment: { unitId: unit.id, startDate: '2024-08-01' },
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const child = res.json();
    expect(child).toMatchObject({ externalRef: 'c-cpr-1', hasCpr: true, sex: 'male' });
    expect(child).not.toHaveProperty('cpr');
    expect(child).not.toHaveProperty('cprHash');

    const enrolments = await enrolmentsOf(admin.token, child.id);
    expect(enrolments).toEqual([
      {
        id: expect.any(String),
        childId: child.id,
        unitId: unit.id,
        unitKind: 'kindergarten',
        startDate: '2024-08-01',
        endDate: null,
        createdAt: expect.any(String),
        updatedAt: expect.any(String),
      },
    ]);
    expect(await listIds(admin.token, `?unitId=${unit.id}`)).toEqual([child.id]);

    // Every response that concerns the child is free of the number, in any written form.
    const responses = [
      res,
      await t.call('GET', `/v1/children/${child.id}`, { token: admin.token }),
      await t.call('GET', '/v1/children', { token: admin.token }),
      await lookup(admin.token, cpr),
      await t.call('PATCH', `/v1/children/${child.id}`, {
        token: admin.token,
        body: { givenName: 'Oskar Emil', cpr },
      }),
      await t.call('POST', '/v1/children', {
        token: admin.token,
        body: { externalRef: 'c-cpr-2', birthDate: '2021-05-10', cpr },
      }),
      await t.call('POST', '/v1/children', {
        token: admin.token,
        body: { externalRef: 'c-cpr-3', birthDate: '2021-05-11', cpr },
      }),
      await t.call('PATCH', `/v1/children/${child.id}`, {
        token: admin.token,
        body: { cpr: `${cpr}9` },
      }),
    ];
    expect(responses.map((r) => r.statusCode)).toEqual([201, 200, 200, 200, 200, 409, 422, 422]);
    for (const r of responses) {
      for (const form of cprForms(cpr)) expect(r.body).not.toContain(form);
      expect(r.body).not.toMatch(/"cpr"/);
    }
  });

  it('409 for a duplicate externalRef, and nothing written', async () => {
    const { admin } = await createTenant(t);
    const first = await createChild(t, admin.token, { externalRef: 'same-ref' });
    const res = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: 'same-ref', birthDate: '2020-02-02', givenName: 'Other' },
    });
    expect(expectProblem(res, 409).type).toBe('urn:lineal:problem:duplicate-child');
    const again = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: '  same-ref  ', birthDate: '2020-02-02' },
    });
    expectProblem(again, 409);
    expect(await listIds(admin.token)).toEqual([first.id]);
  });

  it('the same CPR twice in a municipality is 409, however written; another municipality is fine', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const birthDate = '2022-03-04';
    const cpr = cprFor(birthDate);
    const digits = cpr.replace('-', '');
    const first = await createChild(t, a.admin.token, { birthDate, cpr });
    expect(first.hasCpr).toBe(true);
    for (const written of [cpr, digits, ` ${digits.slice(0, 6)} ${digits.slice(6)} `]) {
      const res = await t.call('POST', '/v1/children', {
        token: a.admin.token,
        body: { externalRef: `dup-${written.trim()}`, birthDate, cpr: written },
      });
      const problem = expectProblem(res, 409);
      expect(problem.type, written).toBe('urn:lineal:problem:duplicate-child');
      expect(problem.detail).toContain('CPR');
    }
    expect(await listIds(a.admin.token)).toEqual([first.id]);

    const inB = await createChild(t, b.admin.token, { birthDate, cpr: digits });
    expect(inB.hasCpr).toBe(true);
    expect((await lookup(b.admin.token, cpr)).json().id).toBe(inB.id);
    expect((await lookup(a.admin.token, cpr)).json().id).toBe(first.id);
  });

  it('422 naming body.cpr for a malformed CPR or one whose date is not birthDate; nothing written', async () => {
    const { admin } = await createTenant(t);
    await createChild(t, admin.token);
    const before = await count(admin.token);
    const birthDate = '2021-11-22';
    const cases: Array<[string, string]> = [
      ['12345', 'invalid_cpr_format'],
      ['221121-41234', 'invalid_cpr_format'],
      ['22-11-21-4123', 'invalid_cpr_format'],
      ['221121/4123', 'invalid_cpr_format'],
      ['abcdef-ghij', 'invalid_cpr_format'],
      ['310221-4123', 'invalid_cpr_date'], // 31 February
      ['221221-4123', 'cpr_birth_date_mismatch'], // 22 December 2021
      ['221121-1234', 'cpr_birth_date_mismatch'], // 7th digit 1: born 1921, not 2021
      ['231121-4123', 'cpr_birth_date_mismatch'],
    ];
    for (const [cpr, code] of cases) {
      const res = await t.call('POST', '/v1/children', {
        token: admin.token,
        body: { externalRef: `bad-cpr-${cpr}`, birthDate, cpr },
      });
      const problem = expectProblem(res, 422);
      expect(problem.type).toBe('urn:lineal:problem:validation-failed');
      expect(
        problem.errors?.map((e) => [e.path, e.code]),
        cpr,
      ).toEqual([['body.cpr', code]]);
    }
    // The matching number with the right century is accepted (the control).
    const ok = await createChild(t, admin.token, { birthDate, cpr: '221121-4123' });
    expect(ok.hasCpr).toBe(true);
    expect(await count(admin.token)).toBe(before + 1);
  });

  // Regression: create once treated `cpr: ""` as no CPR.
  it('an empty CPR string is rejected on create as on update (422 body.cpr)', async () => {
    const { admin } = await createTenant(t);
    const child = await createChild(t, admin.token);
    const patch = await t.call('PATCH', `/v1/children/${child.id}`, {
      token: admin.token,
      body: { cpr: '' },
    });
    expect(errorPaths(patch, 422)).toEqual(['body.cpr']);
    const res = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: 'empty-cpr', birthDate: '2021-05-10', cpr: '' },
    });
    expect(errorPaths(res, 422)).toEqual(['body.cpr']);
  });

  it('422 for a future birth date and an enrolment before birth; every error at once; nothing written', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { kind: 'nursery' });
    await createChild(t, admin.token, { unitId: unit.id });
    const before = await count(admin.token);
    const cases: Array<[object, string[]]> = [
      [{ birthDate: '2026-11-23' }, ['body.birthDate']],
      [{ birthDate: '2030-01-01', cpr: cprFor('2030-01-01') }, ['body.birthDate']],
      [
        { birthDate: '2024-03-01', enrolment: { unitId: unit.id, startDate: '2024-02-29' } },
        ['body.enrolment.startDate'],
      ],
      [
        {
          birthDate: '2026-12-01',
          cpr: 'nope',
          enrolment: { unitId: unit.id, startDate: '2026-11-30' },
        },
        ['body.birthDate', 'body.cpr', 'body.enrolment.startDate'],
      ],
      // Checked while enrolling, after the child row: must roll the child back.
      [
        {
          birthDate: '2021-01-01',
          enrolment: { unitId: unit.id, startDate: '2024-08-01', endDate: '2024-07-31' },
        },
        ['body.enrolment.endDate'],
      ],
    ];
    for (const [body, paths] of cases) {
      const res = await t.call('POST', '/v1/children', {
        token: admin.token,
        body: { externalRef: `invalid-${paths.join()}`, ...body },
      });
      expect(errorPaths(res, 422), JSON.stringify(body)).toEqual(paths);
    }
    // An unknown unit is 404, also after the child row was inserted: rolled back too.
    const noUnit = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: {
        externalRef: 'no-unit',
        birthDate: '2021-01-01',
        enrolment: { unitId: crypto.randomUUID(), startDate: '2024-08-01' },
      },
    });
    expectProblem(noUnit, 404);
    expect(await count(admin.token)).toBe(before);
    // The externalRefs used above are still free.
    const retry = await createChild(t, admin.token, { externalRef: 'no-unit' });
    expect(retry.externalRef).toBe('no-unit');
  });

  it('400 for malformed input: bad dates, unknown fields, missing externalRef', async () => {
    const { admin } = await createTenant(t);
    const cases: Array<[object, string]> = [
      [{ externalRef: 'x', birthDate: '2021-02-30' }, 'body.birthDate'],
      [{ externalRef: 'x', birthDate: '10-05-2021' }, 'body.birthDate'],
      [{ birthDate: '2021-05-10' }, 'body.externalRef'],
      [{ externalRef: 'x', birthDate: '2021-05-10', sex: 'unknown' }, 'body.sex'],
      [{ externalRef: 'x', birthDate: '2021-05-10', cpr: '1'.repeat(21) }, 'body.cpr'],
    ];
    for (const [body, path] of cases) {
      const res = await t.call('POST', '/v1/children', { token: admin.token, body });
      expect(errorPaths(res, 400), JSON.stringify(body)).toContain(path);
    }
    const strict = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: 'x', birthDate: '2021-05-10', nickname: 'X' },
    });
    expectProblem(strict, 400);
    expect(await count(admin.token)).toBe(0);
  });

  it('PATCH changes master data; cpr: null removes the number; CPR and birthDate stay consistent', async () => {
    const { admin } = await createTenant(t);
    const other = await createChild(t, admin.token, { externalRef: 'taken' });
    const cpr = cprFor('2021-05-10');
    const child = await createChild(t, admin.token, {
      birthDate: '2021-05-10',
      cpr,
      givenName: 'Alma',
      familyName: 'Dahl',
      sex: 'female',
    });
    const url = `/v1/children/${child.id}`;
    const patch = (body: object) => t.call('PATCH', url, { token: admin.token, body });

    const changed = await patch({ givenName: 'Alma Sofie', familyName: null, sex: null });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toEqual({
      ...child,
      givenName: 'Alma Sofie',
      familyName: null,
      sex: null,
      updatedAt: t.clock.now().toISOString(),
    });
    expect((await t.call('GET', url, { token: admin.token })).json()).toEqual(changed.json());

    // A birth date that contradicts the CPR on file: 422, nothing changed.
    const mismatch = await patch({ birthDate: '2021-05-11' });
    const problem = expectProblem(mismatch, 422);
    expect(problem.errors?.map((e) => [e.path, e.code])).toEqual([
      ['body.birthDate', 'cpr_birth_date_mismatch'],
    ]);
    // The same birth date again is no change and fine.
    expect((await patch({ birthDate: '2021-05-10' })).statusCode).toBe(200);
    // A new CPR that contradicts the birth date: 422.
    expect(errorPaths(await patch({ cpr: cprFor('2021-05-12') }), 422)).toEqual(['body.cpr']);
    expect(errorPaths(await patch({ cpr: '0000' }), 422)).toEqual(['body.cpr']);
    expect(errorPaths(await patch({ birthDate: '2026-11-23', cpr: null }), 422)).toEqual([
      'body.birthDate',
    ]);
    const unchanged = (await t.call('GET', url, { token: admin.token })).json();
    expect(unchanged).toMatchObject({ birthDate: '2021-05-10', hasCpr: true });
    expect((await lookup(admin.token, cpr)).json().id).toBe(child.id);

    // Removing the CPR.
    const removed = await patch({ cpr: null });
    expect(removed.statusCode, removed.body).toBe(200);
    expect(removed.json()).toMatchObject({ hasCpr: false, birthDate: '2021-05-10' });
    expectProblem(await lookup(admin.token, cpr), 404);
    // Without a CPR the birth date may change freely.
    const moved = await patch({ birthDate: '2021-05-11' });
    expect(moved.statusCode, moved.body).toBe(200);
    expect(moved.json().birthDate).toBe('2021-05-11');
    // Birth date and matching CPR together.
    const newCpr = cprFor('2021-05-12');
    const both = await patch({ birthDate: '2021-05-12', cpr: newCpr });
    expect(both.statusCode, both.body).toBe(200);
    expect(both.json()).toMatchObject({ hasCpr: true, birthDate: '2021-05-12' });
    expect((await lookup(admin.token, newCpr.replace('-', ''))).json().id).toBe(child.id);
    // Birth date change with cpr: null in one request.
    const dropped = await patch({ birthDate: '2021-05-13', cpr: null });
    expect(dropped.json()).toMatchObject({ hasCpr: false, birthDate: '2021-05-13' });

    // Conflicts: another child's externalRef or CPR.
    const otherCpr = cprFor('2021-05-13');
    await t.call('PATCH', `/v1/children/${other.id}`, {
      token: admin.token,
      body: { birthDate: '2021-05-13', cpr: otherCpr },
    });
    expect(expectProblem(await patch({ externalRef: 'taken' }), 409).type).toBe(
      'urn:lineal:problem:duplicate-child',
    );
    expectProblem(await patch({ cpr: otherCpr }), 409);
    expect((await t.call('GET', url, { token: admin.token })).json()).toMatchObject({
      externalRef: child.externalRef,
      hasCpr: false,
    });

    // 404 for an unknown child, 400 for an empty or unknown body.
    expectProblem(
      await t.call('PATCH', `/v1/children/${crypto.randomUUID()}`, {
        token: admin.token,
        body: { givenName: 'X' },
      }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/children/${crypto.randomUUID()}`, { token: admin.token }),
      404,
    );
    expectProblem(await patch({}), 400);
    expectProblem(await patch({ hasCpr: true }), 400);
  });

  // Regression: a birth date after an enrolment start was once accepted.
  it('PATCH birthDate after an enrolment start is rejected like an enrolment before birth', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { kind: 'nursery' });
    const child = await createChild(t, admin.token, {
      birthDate: '2021-05-10',
      unitId: unit.id,
      enrolledFrom: '2022-01-01',
    });
    const res = await t.call('PATCH', `/v1/children/${child.id}`, {
      token: admin.token,
      body: { birthDate: '2022-06-01' },
    });
    expect([409, 422]).toContain(res.statusCode);
    expect(
      (await t.call('GET', `/v1/children/${child.id}`, { token: admin.token })).json().birthDate,
    ).toBe('2021-05-10');
  });

  it('POST /v1/children/lookup finds a child by CPR in any written form; 404 unknown; 422 invalid', async () => {
    const { admin } = await createTenant(t);
    const birthDate = '2020-07-15';
    const cpr = cprFor(birthDate);
    await createChild(t, admin.token, { birthDate, cpr: cprFor(birthDate) }); // a neighbour
    const child = await createChild(t, admin.token, { birthDate, cpr, givenName: 'Liva' });
    const digits = cpr.replace('-', '');
    for (const written of [cpr, digits, `${digits.slice(0, 6)} ${digits.slice(6)}`, ` ${cpr} `]) {
      const res = await lookup(admin.token, written);
      expect(res.statusCode, written).toBe(200);
      expect(res.json()).toEqual(
        (await t.call('GET', `/v1/children/${child.id}`, { token: admin.token })).json(),
      );
    }
    const unknown = expectProblem(await lookup(admin.token, cprFor(birthDate)), 404);
    expect(unknown.type).toBe('urn:lineal:problem:not-found');
    for (const invalid of ['123', '150720-4', '320720-4000', 'xx0720-4000']) {
      const res = await lookup(admin.token, invalid);
      expect(errorPaths(res, 422), invalid).toEqual(['body.cpr']);
    }
    expectProblem(
      await t.call('POST', '/v1/children/lookup', { token: admin.token, body: {} }),
      400,
    );
  });

  it('lists children enrolled in a unit on asOf (default today)', async () => {
    const { admin } = await createTenant(t);
    const a = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const b = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const inA = await createChild(t, admin.token, { unitId: a.id, enrolledFrom: '2024-08-01' });
    const moved = await createChild(t, admin.token, {
      unitId: a.id,
      enrolledFrom: '2023-08-01',
      enrolledTo: '2025-07-31',
    });
    expect(
      (await enrol(admin.token, moved.id, { unitId: b.id, startDate: '2025-08-01' })).statusCode,
    ).toBe(201);
    const inB = await createChild(t, admin.token, { unitId: b.id, enrolledFrom: '2024-01-01' });
    const future = await createChild(t, admin.token, { unitId: a.id, enrolledFrom: '2027-01-01' });
    const endsToday = await createChild(t, admin.token, {
      unitId: a.id,
      enrolledFrom: '2024-01-01',
      enrolledTo: '2026-11-22',
    });
    const none = await createChild(t, admin.token);

    expect(await listIds(admin.token)).toEqual([
      inA.id,
      moved.id,
      inB.id,
      future.id,
      endsToday.id,
      none.id,
    ]);
    expect(await listIds(admin.token, `?unitId=${a.id}`)).toEqual([inA.id, endsToday.id]);
    expect(await listIds(admin.token, `?unitId=${b.id}`)).toEqual([moved.id, inB.id]);
    expect(await listIds(admin.token, `?unitId=${a.id}&asOf=2025-07-31`)).toEqual([
      inA.id,
      moved.id,
      endsToday.id,
    ]);
    expect(await listIds(admin.token, `?unitId=${b.id}&asOf=2025-07-31`)).toEqual([inB.id]);
    expect(await listIds(admin.token, `?unitId=${a.id}&asOf=2027-01-01`)).toEqual([
      inA.id,
      future.id,
    ]);
    expect(await listIds(admin.token, `?unitId=${a.id}&asOf=2024-07-31`)).toEqual([
      moved.id,
      endsToday.id,
    ]);
    expect(await listIds(admin.token, `?unitId=${crypto.randomUUID()}`)).toEqual([]);
    expectProblem(await t.call('GET', '/v1/children?asOf=2025-02-30', { token: admin.token }), 400);
    expectProblem(await t.call('GET', '/v1/children?unitId=nope', { token: admin.token }), 400);
  });

  it('filters by age in whole years on asOf, exact at the birthday', async () => {
    const { admin } = await createTenant(t);
    const six = await createChild(t, admin.token, { birthDate: '2020-11-22' }); // 6 today, 5 yesterday
    const five = await createChild(t, admin.token, { birthDate: '2021-11-22' }); // 5 today, 4 yesterday
    const fourTomorrowFive = await createChild(t, admin.token, { birthDate: '2021-11-23' }); // 4, 4
    const four = await createChild(t, admin.token, { birthDate: '2022-11-22' }); // 4 today, 3 yesterday
    const baby = await createChild(t, admin.token, { birthDate: '2026-11-22' }); // 0 today

    const ages = async (query: string) => listIds(admin.token, `?limit=200&${query}`);
    expect(await ages('minAge=5')).toEqual([six.id, five.id]);
    expect(await ages('minAge=5&maxAge=5')).toEqual([five.id]);
    expect(await ages('maxAge=4')).toEqual([fourTomorrowFive.id, four.id, baby.id]);
    expect(await ages('minAge=4&maxAge=4')).toEqual([fourTomorrowFive.id, four.id]);
    expect(await ages('minAge=0&maxAge=0')).toEqual([baby.id]);
    expect(await ages('minAge=6&maxAge=30')).toEqual([six.id]);
    expect(await ages('minAge=7')).toEqual([]);
    // The day before: the birthdays have not happened yet.
    expect(await ages('asOf=2026-11-21&minAge=5&maxAge=5')).toEqual([six.id]);
    expect(await ages('asOf=2026-11-21&minAge=4&maxAge=4')).toEqual([five.id, fourTomorrowFive.id]);
    expect(await ages('asOf=2026-11-21&minAge=3&maxAge=3')).toEqual([four.id]);
    // Tomorrow the third child turns 5 too.
    expect(await ages('asOf=2026-11-23&minAge=5&maxAge=5')).toEqual([five.id, fourTomorrowFive.id]);

    const empty = expectProblem(
      await t.call('GET', '/v1/children?minAge=5&maxAge=4', { token: admin.token }),
      422,
    );
    expect(empty.errors?.map((e) => e.path)).toEqual(['query.minAge']);
    expectProblem(await t.call('GET', '/v1/children?minAge=-1', { token: admin.token }), 400);
    expectProblem(await t.call('GET', '/v1/children?maxAge=2.5', { token: admin.token }), 400);
  });

  // Regression: the age filter once disagreed with ageInYears for leap-day births.
  it('a child born on 29 February is one year old on 28 February of the next year', async () => {
    const { admin } = await createTenant(t);
    const leap = await createChild(t, admin.token, { birthDate: '2020-02-29' });
    expect(await listIds(admin.token, '?asOf=2021-02-28&minAge=1&maxAge=1')).toEqual([leap.id]);
    expect(await listIds(admin.token, '?asOf=2021-02-28&maxAge=0')).toEqual([]);
  });

  it('searches q in names (case-insensitive, part of a name) and by externalRef prefix', async () => {
    const { admin } = await createTenant(t);
    const anna = await createChild(t, admin.token, {
      givenName: 'Anna',
      familyName: 'Holm',
      externalRef: 'dagtilbud-001',
    });
    const johanna = await createChild(t, admin.token, {
      givenName: 'Johanna',
      familyName: 'Berg',
      externalRef: 'dagtilbud-002',
    });
    const karl = await createChild(t, admin.token, {
      givenName: 'Karl',
      familyName: 'Vestergaard',
      externalRef: 'skole-001',
    });
    const q = (term: string) => listIds(admin.token, `?q=${encodeURIComponent(term)}`);
    expect(await q('ANN')).toEqual([anna.id, johanna.id]);
    expect(await q('hol')).toEqual([anna.id]);
    expect(await q('gaard')).toEqual([karl.id]);
    expect(await q('anna holm')).toEqual([anna.id]);
    expect(await q('Johanna B')).toEqual([johanna.id]);
    expect(await q('dagtilbud-')).toEqual([anna.id, johanna.id]);
    expect(await q('skole-001')).toEqual([karl.id]);
    expect(await q('tilbud')).toEqual([]); // not a prefix of a ref, not in a name
    expect(await q('001')).toEqual([]);
    // LIKE wildcards are searched for literally.
    expect(await q('%')).toEqual([]);
    expect(await q('_')).toEqual([]);
    expect(await q('nobody')).toEqual([]);
    // Combined with another filter.
    expect(await listIds(admin.token, '?q=ann&minAge=30')).toEqual([]);
  });

  it('cursor pagination returns every child exactly once, oldest first', async () => {
    const { admin } = await createTenant(t);
    const created: string[] = [];
    for (let i = 0; i < 7; i++) {
      created.push((await createChild(t, admin.token, { givenName: `Barn ${i}` })).id);
    }
    for (const limit of [1, 2, 3]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const query: string = `?limit=${limit}${cursor ? `&cursor=${cursor}` : ''}`;
        const page = await list(admin.token, query);
        expect(page.items.length).toBeLessThanOrEqual(limit);
        seen.push(...page.items.map((c) => c.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen, `limit ${limit}`).toEqual(created);
      expect(pages).toBe(Math.ceil(created.length / limit));
    }
    // Paging through a filtered list.
    const page1 = await list(admin.token, '?q=barn&limit=4');
    expect(page1.items.map((c) => c.id)).toEqual(created.slice(0, 4));
    expect(page1.nextCursor).not.toBeNull();
    const page2 = await list(admin.token, `?q=barn&limit=4&cursor=${page1.nextCursor}`);
    expect(page2.items.map((c) => c.id)).toEqual(created.slice(4));
    expect(page2.nextCursor).toBeNull();

    const bad = expectProblem(
      await t.call('GET', '/v1/children?cursor=abc', { token: admin.token }),
      400,
    );
    expect(bad.errors?.map((e) => e.path)).toEqual(['query.cursor']);
  });

  it("another municipality's child is 404 for GET, PATCH and enrolments", async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const aUnit = await createUnit(t, a.admin.token);
    const bUnit = await createUnit(t, b.admin.token);
    const cpr = cprFor('2021-05-10');
    const bChild = await createChild(t, b.admin.token, { unitId: bUnit.id, cpr });
    const [bEnrolment] = await enrolmentsOf(b.admin.token, bChild.id);
    if (!bEnrolment) throw new Error('no enrolment');
    const as = { token: a.admin.token };

    expectProblem(await t.call('GET', `/v1/children/${bChild.id}`, as), 404);
    expectProblem(
      await t.call('PATCH', `/v1/children/${bChild.id}`, { ...as, body: { givenName: 'X' } }),
      404,
    );
    expectProblem(await t.call('GET', `/v1/children/${bChild.id}/enrolments`, as), 404);
    expectProblem(
      await enrol(a.admin.token, bChild.id, { unitId: aUnit.id, startDate: '2025-01-01' }),
      404,
    );
    expectProblem(
      await patchEnrolment(a.admin.token, bChild.id, bEnrolment.id, { endDate: '2025-01-01' }),
      404,
    );
    expectProblem(await lookup(a.admin.token, cpr), 404);
    expect(await listIds(a.admin.token, '?limit=200')).toEqual([]);
    expect(await listIds(a.admin.token, `?unitId=${bUnit.id}`)).toEqual([]);

    // Nor may A enrol its own child in B's unit.
    const aChild = await createChild(t, a.admin.token);
    expectProblem(
      await enrol(a.admin.token, aChild.id, { unitId: bUnit.id, startDate: '2025-01-01' }),
      404,
    );
    expect(await enrolmentsOf(a.admin.token, aChild.id)).toEqual([]);

    // B's child is untouched.
    expect(
      (await t.call('GET', `/v1/children/${bChild.id}`, { token: b.admin.token })).json(),
    ).toEqual(bChild);
    expect(await enrolmentsOf(b.admin.token, bChild.id)).toEqual([bEnrolment]);
  });

  it('a unit_staff key sees only children enrolled in its units', async () => {
    const { municipality, admin } = await createTenant(t);
    const unitA = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const unitB = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const staff = await createKey(t, municipality.id, 'unit_staff', {
      unitIds: [unitA.id],
      token: admin.token,
    });
    const cprB = cprFor('2021-05-10');
    const inA = await createChild(t, admin.token, { unitId: unitA.id });
    const inB = await createChild(t, admin.token, { unitId: unitB.id, cpr: cprB });
    const nowhere = await createChild(t, admin.token);
    const as = { token: staff.token };

    const get = await t.call('GET', `/v1/children/${inA.id}`, as);
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual(inA);
    expect((await enrolmentsOf(staff.token, inA.id)).map((e) => e.unitId)).toEqual([unitA.id]);
    for (const child of [inB, nowhere]) {
      expectProblem(await t.call('GET', `/v1/children/${child.id}`, as), 404);
      expectProblem(
        await t.call('PATCH', `/v1/children/${child.id}`, { ...as, body: { givenName: 'X' } }),
        404,
      );
      expectProblem(await t.call('GET', `/v1/children/${child.id}/enrolments`, as), 404);
      expectProblem(
        await enrol(staff.token, child.id, { unitId: unitA.id, startDate: '2026-12-01' }),
        404,
      );
    }
    expectProblem(await lookup(staff.token, cprB), 404);
    const cprA = cprFor('2021-05-10');
    await t.call('PATCH', `/v1/children/${inA.id}`, {
      token: admin.token,
      body: { birthDate: '2021-05-10', cpr: cprA },
    });
    expect((await lookup(staff.token, cprA)).json().id).toBe(inA.id);
    expect(await listIds(staff.token)).toEqual([inA.id]);
    expect(await listIds(staff.token, `?unitId=${unitB.id}`)).toEqual([]);
    expect(await listIds(staff.token, `?q=${inB.externalRef}`)).toEqual([]);
    expect(await listIds(admin.token)).toEqual([inA.id, inB.id, nowhere.id]);

    // The staff key may change a child of its unit, but not enrol it in another unit.
    const renamed = await t.call('PATCH', `/v1/children/${inA.id}`, {
      ...as,
      body: { givenName: 'Viggo' },
    });
    expect(renamed.statusCode, renamed.body).toBe(200);
    expect(renamed.json().givenName).toBe('Viggo');
    expectProblem(
      await enrol(staff.token, inA.id, { unitId: unitB.id, startDate: '2020-01-01' }),
      403,
    );
    expect(await enrolmentsOf(admin.token, inA.id)).toHaveLength(1);

    // A child visible through A may still have an enrolment elsewhere: the staff key neither
    // sees nor changes it.
    const club = await createUnit(t, admin.token, { kind: 'club' });
    const clubEnrolment = await enrol(admin.token, inA.id, {
      unitId: club.id,
      startDate: '2025-01-01',
    });
    expect(clubEnrolment.statusCode, clubEnrolment.body).toBe(201);
    expect((await enrolmentsOf(staff.token, inA.id)).map((e) => e.unitId)).toEqual([unitA.id]);
    expect((await enrolmentsOf(admin.token, inA.id)).map((e) => e.unitId)).toEqual([
      unitA.id,
      club.id,
    ]);
    expectProblem(
      await patchEnrolment(staff.token, inA.id, clubEnrolment.json().id, { endDate: '2025-12-31' }),
      404,
    );
    expect((await enrolmentsOf(admin.token, inA.id))[1]?.endDate).toBeNull();
  });

  it('a unit-limited key must enrol a new child in one of its units (422 without, 403 elsewhere)', async () => {
    const { municipality, admin } = await createTenant(t);
    const unitA = await createUnit(t, admin.token, { kind: 'nursery' });
    const unitB = await createUnit(t, admin.token, { kind: 'nursery' });
    const staff = await createKey(t, municipality.id, 'unit_staff', {
      unitIds: [unitA.id],
      token: admin.token,
    });
    const without = await t.call('POST', '/v1/children', {
      token: staff.token,
      body: { externalRef: 'staff-1', birthDate: '2024-02-01' },
    });
    const problem = expectProblem(without, 422);
    expect(problem.errors?.map((e) => [e.path, e.code])).toEqual([
      ['body.enrolment', 'required_for_key'],
    ]);
    const elsewhere = await t.call('POST', '/v1/children', {
      token: staff.token,
      body: {
        externalRef: 'staff-1',
        birthDate: '2024-02-01',
        enrolment: { unitId: unitB.id, startDate: '2025-01-01' },
      },
    });
    expectProblem(elsewhere, 403);
    expect(await count(admin.token)).toBe(0);

    const ok = await t.call('POST', '/v1/children', {
      token: staff.token,
      body: {
        externalRef: 'staff-1',
        birthDate: '2024-02-01',
        enrolment: { unitId: unitA.id, startDate: '2025-01-01' },
      },
    });
    expect(ok.statusCode, ok.body).toBe(201);
    expect(await listIds(staff.token)).toEqual([ok.json().id]);
    expect((await enrolmentsOf(staff.token, ok.json().id)).map((e) => e.unitId)).toEqual([
      unitA.id,
    ]);
  });

  it("after the child's enrolment in A ends, A's unit_staff key no longer sees the child", async () => {
    const { municipality, admin } = await createTenant(t);
    const unitA = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const staff = await createKey(t, municipality.id, 'unit_staff', {
      unitIds: [unitA.id],
      token: admin.token,
    });
    const stays = await createChild(t, admin.token, { unitId: unitA.id });
    const leaves = await createChild(t, admin.token, {
      unitId: unitA.id,
      enrolledFrom: '2024-08-01',
    });
    const [enrolment] = await enrolmentsOf(admin.token, leaves.id);
    if (!enrolment) throw new Error('no enrolment');
    expect(await listIds(staff.token)).toEqual([stays.id, leaves.id]);

    // The last day is today: still enrolled.
    const endsToday = await patchEnrolment(admin.token, leaves.id, enrolment.id, {
      endDate: '2026-11-22',
    });
    expect(endsToday.statusCode, endsToday.body).toBe(200);
    expect(
      (await t.call('GET', `/v1/children/${leaves.id}`, { token: staff.token })).statusCode,
    ).toBe(200);

    // Ended yesterday: gone for the unit's staff, still there for the municipality.
    const ended = await patchEnrolment(admin.token, leaves.id, enrolment.id, {
      endDate: '2026-11-21',
    });
    expect(ended.statusCode, ended.body).toBe(200);
    expectProblem(await t.call('GET', `/v1/children/${leaves.id}`, { token: staff.token }), 404);
    expectProblem(
      await t.call('GET', `/v1/children/${leaves.id}/enrolments`, { token: staff.token }),
      404,
    );
    expect(await listIds(staff.token)).toEqual([stays.id]);
    expect(await listIds(admin.token)).toEqual([stays.id, leaves.id]);
    expect(await listIds(admin.token, `?unitId=${unitA.id}&asOf=2026-11-21`)).toEqual([
      stays.id,
      leaves.id,
    ]);
  });

  it('409 enrolment-overlap for overlapping daycare places; consecutive ones are fine', async () => {
    const { admin } = await createTenant(t);
    const nursery = await createUnit(t, admin.token, { kind: 'nursery' });
    const kindergarten = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const family = await createUnit(t, admin.token, { kind: 'family_daycare' });
    const child = await createChild(t, admin.token, { birthDate: '2021-05-10' });

    const first = await enrol(admin.token, child.id, {
      unitId: nursery.id,
      startDate: '2022-01-01',
      endDate: '2024-08-01',
    });
    expect(first.statusCode, first.body).toBe(201);
    const firstId = first.json().id;
    expect(first.headers.location).toBe(`/v1/children/${child.id}/enrolments/${firstId}`);
    expect(first.json()).toEqual({
      id: firstId,
      childId: child.id,
      unitId: nursery.id,
      unitKind: 'nursery',
      startDate: '2022-01-01',
      endDate: '2024-08-01',
      createdAt: expect.any(String),
      updatedAt: expect.any(String),
    });

    // Kindergarten from the nursery's last day: one day of overlap.
    const overlap = await enrol(admin.token, child.id, {
      unitId: kindergarten.id,
      startDate: '2024-08-01',
    });
    const problem = expectProblem(overlap, 409);
    expect(problem.type).toBe('urn:lineal:problem:enrolment-overlap');
    expect(problem.detail).toContain(firstId);
    // Open-ended one started earlier, another daycare kind, the same unit again: all overlap.
    for (const body of [
      { unitId: family.id, startDate: '2021-06-01' },
      { unitId: family.id, startDate: '2023-01-01', endDate: '2023-01-01' },
      { unitId: nursery.id, startDate: '2024-08-01', endDate: '2024-12-31' },
    ]) {
      const res = await enrol(admin.token, child.id, body);
      expect(expectProblem(res, 409).type, JSON.stringify(body)).toBe(
        'urn:lineal:problem:enrolment-overlap',
      );
    }
    expect((await enrolmentsOf(admin.token, child.id)).map((e) => e.id)).toEqual([firstId]);

    // The next day is fine.
    const next = await enrol(admin.token, child.id, {
      unitId: kindergarten.id,
      startDate: '2024-08-02',
    });
    expect(next.statusCode, next.body).toBe(201);

    // Consecutive in another child: end 2025-07-31, start 2025-08-01.
    const other = await createChild(t, admin.token, {
      unitId: nursery.id,
      enrolledFrom: '2023-01-01',
      enrolledTo: '2025-07-31',
    });
    const consecutive = await enrol(admin.token, other.id, {
      unitId: kindergarten.id,
      startDate: '2025-08-01',
    });
    expect(consecutive.statusCode, consecutive.body).toBe(201);
    expect(
      (await enrolmentsOf(admin.token, other.id)).map((e) => [e.unitKind, e.startDate, e.endDate]),
    ).toEqual([
      ['nursery', '2023-01-01', '2025-07-31'],
      ['kindergarten', '2025-08-01', null],
    ]);
  });

  it('school and after-school care at once are fine; two after-school offers are not', async () => {
    const { admin } = await createTenant(t);
    const school = await createUnit(t, admin.token, { kind: 'school' });
    const sfo = await createUnit(t, admin.token, { kind: 'after_school' });
    const club = await createUnit(t, admin.token, { kind: 'club' });
    const health = await createUnit(t, admin.token, { kind: 'health_visiting' });
    const child = await createChild(t, admin.token, {
      birthDate: '2019-03-03',
      unitId: school.id,
      enrolledFrom: '2025-08-01',
    });
    const after = await enrol(admin.token, child.id, { unitId: sfo.id, startDate: '2025-08-01' });
    expect(after.statusCode, after.body).toBe(201);
    expect(after.json().unitKind).toBe('after_school');
    const visiting = await enrol(admin.token, child.id, {
      unitId: health.id,
      startDate: '2019-03-10',
    });
    expect(visiting.statusCode, visiting.body).toBe(201);
    const twoAfter = await enrol(admin.token, child.id, {
      unitId: club.id,
      startDate: '2026-01-01',
    });
    expect(expectProblem(twoAfter, 409).type).toBe('urn:lineal:problem:enrolment-overlap');
    // School and after-school start the same day; their order among themselves is by id.
    const kinds = (await enrolmentsOf(admin.token, child.id)).map((e) => e.unitKind);
    expect(kinds[0]).toBe('health_visiting');
    expect(kinds.slice(1).sort()).toEqual(['after_school', 'school']);
  });

  it('422 for an end before the start or a start before birth; 404 for an unknown unit', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { kind: 'nursery' });
    const child = await createChild(t, admin.token, { birthDate: '2023-06-01' });
    expect(
      errorPaths(
        await enrol(admin.token, child.id, {
          unitId: unit.id,
          startDate: '2024-08-01',
          endDate: '2024-07-31',
        }),
        422,
      ),
    ).toEqual(['body.endDate']);
    expect(
      errorPaths(
        await enrol(admin.token, child.id, { unitId: unit.id, startDate: '2023-05-31' }),
        422,
      ),
    ).toEqual(['body.startDate']);
    expectProblem(
      await enrol(admin.token, child.id, { unitId: crypto.randomUUID(), startDate: '2024-01-01' }),
      404,
    );
    expectProblem(
      await enrol(admin.token, crypto.randomUUID(), { unitId: unit.id, startDate: '2024-01-01' }),
      404,
    );
    expectProblem(await enrol(admin.token, child.id, { unitId: unit.id }), 400);
    expectProblem(
      await enrol(admin.token, child.id, { unitId: unit.id, startDate: '2024-13-01' }),
      400,
    );
    // Same-day enrolment (start = end) and one on the birth date are fine.
    const oneDay = await enrol(admin.token, child.id, {
      unitId: unit.id,
      startDate: '2023-06-01',
      endDate: '2023-06-01',
    });
    expect(oneDay.statusCode, oneDay.body).toBe(201);
    expect((await enrolmentsOf(admin.token, child.id)).map((e) => e.id)).toEqual([
      oneDay.json().id,
    ]);
  });

  it('PATCH an enrolment: set the end date at a transition; 409 on overlap; 422 end before start', async () => {
    const { admin } = await createTenant(t);
    const nursery = await createUnit(t, admin.token, { kind: 'nursery' });
    const kindergarten = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const child = await createChild(t, admin.token, {
      birthDate: '2022-02-02',
      unitId: nursery.id,
      enrolledFrom: '2022-09-01',
    });
    const [open] = await enrolmentsOf(admin.token, child.id);
    if (!open) throw new Error('no enrolment');
    // While the nursery place is open, the kindergarten cannot start.
    expectProblem(
      await enrol(admin.token, child.id, { unitId: kindergarten.id, startDate: '2025-08-01' }),
      409,
    );

    // The transition: end the nursery, start the kindergarten the next day.
    const ended = await patchEnrolment(admin.token, child.id, open.id, { endDate: '2025-07-31' });
    expect(ended.statusCode, ended.body).toBe(200);
    expect(ended.json()).toEqual({
      ...open,
      endDate: '2025-07-31',
      updatedAt: t.clock.now().toISOString(),
    });
    const started = await enrol(admin.token, child.id, {
      unitId: kindergarten.id,
      startDate: '2025-08-01',
    });
    expect(started.statusCode, started.body).toBe(201);
    const kg = started.json();

    // Changes that would overlap the two places.
    for (const [id, body] of [
      [open.id, { endDate: '2025-08-01' }],
      [open.id, { endDate: null }],
      [kg.id, { startDate: '2025-07-31' }],
      [kg.id, { startDate: '2022-03-01', endDate: '2022-09-01' }],
    ] as const) {
      const res = await patchEnrolment(admin.token, child.id, id, body);
      expect(expectProblem(res, 409).type, JSON.stringify(body)).toBe(
        'urn:lineal:problem:enrolment-overlap',
      );
    }
    // 422: end before start, start before birth.
    expect(
      errorPaths(
        await patchEnrolment(admin.token, child.id, kg.id, { endDate: '2025-07-31' }),
        422,
      ),
    ).toEqual(['body.endDate']);
    expect(
      errorPaths(
        await patchEnrolment(admin.token, child.id, open.id, { startDate: '2022-02-01' }),
        422,
      ),
    ).toEqual(['body.startDate']);
    // 404: unknown enrolment, or one of another child; 400: empty body.
    expectProblem(
      await patchEnrolment(admin.token, child.id, crypto.randomUUID(), { endDate: null }),
      404,
    );
    const sibling = await createChild(t, admin.token, { unitId: nursery.id });
    const [siblingEnrolment] = await enrolmentsOf(admin.token, sibling.id);
    if (!siblingEnrolment) throw new Error('no enrolment');
    expectProblem(
      await patchEnrolment(admin.token, child.id, siblingEnrolment.id, { endDate: '2025-01-01' }),
      404,
    );
    expectProblem(await patchEnrolment(admin.token, child.id, kg.id, {}), 400);

    // Nothing of the refused changes was written.
    expect(
      (await enrolmentsOf(admin.token, child.id)).map((e) => [e.id, e.startDate, e.endDate]),
    ).toEqual([
      [open.id, '2022-09-01', '2025-07-31'],
      [kg.id, '2025-08-01', null],
    ]);
    expect((await enrolmentsOf(admin.token, sibling.id))[0]?.endDate).toBeNull();

    // A change that keeps the periods apart is fine; moving the start earlier is too.
    const earlier = await patchEnrolment(admin.token, child.id, open.id, {
      startDate: '2022-08-15',
    });
    expect(earlier.statusCode, earlier.body).toBe(200);
    expect(earlier.json()).toMatchObject({ startDate: '2022-08-15', endDate: '2025-07-31' });
  });

  it('lists enrolments oldest first, whatever the order they were made in', async () => {
    const { admin } = await createTenant(t);
    const nursery = await createUnit(t, admin.token, { kind: 'nursery' });
    const kindergarten = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const school = await createUnit(t, admin.token, { kind: 'school' });
    const child = await createChild(t, admin.token, { birthDate: '2020-04-04' });
    const made: Array<[string, object]> = [
      [school.id, { startDate: '2026-08-01' }],
      [kindergarten.id, { startDate: '2023-08-01', endDate: '2026-07-31' }],
      [nursery.id, { startDate: '2021-01-04', endDate: '2023-07-31' }],
    ];
    for (const [unitId, dates] of made) {
      const res = await enrol(admin.token, child.id, { unitId, ...dates });
      expect(res.statusCode, res.body).toBe(201);
    }
    const listed = await enrolmentsOf(admin.token, child.id);
    expect(listed.map((e) => [e.unitKind, e.startDate, e.endDate])).toEqual([
      ['nursery', '2021-01-04', '2023-07-31'],
      ['kindergarten', '2023-08-01', '2026-07-31'],
      ['school', '2026-08-01', null],
    ]);
    expect(listed.every((e) => e.childId === child.id)).toBe(true);
  });

  it('analyst keys cannot read or write children (403); social workers read but do not write', async () => {
    const { municipality, admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token);
    const cpr = cprFor('2021-05-10');
    const child = await createChild(t, admin.token, { unitId: unit.id, cpr });
    const analyst = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    const social = await createKey(t, municipality.id, 'social_worker', { token: admin.token });

    const as = { token: analyst.token };
    expectProblem(await t.call('GET', '/v1/children', as), 403);
    expectProblem(await t.call('GET', `/v1/children/${child.id}`, as), 403);
    expectProblem(await t.call('GET', `/v1/children/${child.id}/enrolments`, as), 403);
    expectProblem(await lookup(analyst.token, cpr), 403);
    expectProblem(
      await t.call('POST', '/v1/children', {
        ...as,
        body: { externalRef: 'a-1', birthDate: '2021-01-01' },
      }),
      403,
    );
    expectProblem(
      await t.call('PATCH', `/v1/children/${child.id}`, { ...as, body: { givenName: 'X' } }),
      403,
    );

    // Social workers see the children they are involved with (tests/http/visibility.test.ts):
    // a concern report involves child services.
    expect(await listIds(social.token)).toEqual([]);
    expectProblem(await lookup(social.token, cpr), 404);
    const report = await t.call('POST', `/v1/children/${child.id}/concern-reports`, {
      token: admin.token,
      body: { reportedOn: '2026-11-21', reportedBy: { name: 'Bo', role: 'unit_leader' } },
    });
    expect(report.statusCode, report.body).toBe(201);
    expect(await listIds(social.token)).toEqual([child.id]);
    expect((await lookup(social.token, cpr)).json().id).toBe(child.id);
    expectProblem(
      await t.call('PATCH', `/v1/children/${child.id}`, {
        token: social.token,
        body: { givenName: 'X' },
      }),
      403,
    );
    expectProblem(
      await enrol(social.token, child.id, { unitId: unit.id, startDate: '2020-01-01' }),
      403,
    );

    // Platform administrators act in no municipality.
    expectProblem(await t.call('GET', '/v1/children'), 403);
    expect(
      (await t.call('GET', `/v1/children/${child.id}`, { token: admin.token })).json(),
    ).toEqual(child);
  });

  it('children not yet born on asOf match no age filter', async () => {
    const { admin } = await createTenant(t);
    const baby = await createChild(t, admin.token, { birthDate: '2026-11-22' });
    const ids = async (query: string) =>
      (await t.call('GET', `/v1/children?limit=200&${query}`, { token: admin.token }))
        .json()
        .items.map((c: Child) => c.id);
    expect(await ids('asOf=2026-11-21&maxAge=3')).not.toContain(baby.id);
    expect(await ids('asOf=2026-11-22&maxAge=3')).toContain(baby.id);
    expect(await ids('asOf=2026-11-21')).toContain(baby.id);
  });

  it('a crafted cursor is 400, not 500; an enrolment is readable at its Location', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token);
    const child = await createChild(t, admin.token);
    const crafted = Buffer.from(JSON.stringify(['x', crypto.randomUUID()])).toString('base64url');
    expectProblem(
      await t.call('GET', `/v1/children?cursor=${crafted}`, { token: admin.token }),
      400,
    );
    expectProblem(await t.call('GET', `/v1/rounds?cursor=${crafted}`, { token: admin.token }), 400);
    const res = await t.call('POST', `/v1/children/${child.id}/enrolments`, {
      token: admin.token,
      body: { unitId: unit.id, startDate: '2025-01-01' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const got = await t.call('GET', String(res.headers.location), { token: admin.token });
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(res.json());
  });
});
