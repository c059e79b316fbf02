import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { describeEngines, type EngineContext, TEST_CPR_SECRET } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createScreeningTenant,
  createTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const TAG = /^"[A-Za-z0-9_-]{22}"$/;

function etagOf(res: LightMyRequestResponse): string {
  const tag = res.headers.etag;
  expect(typeof tag, res.body).toBe('string');
  expect(tag).toMatch(TAG);
  return tag as string;
}

interface Case {
  token: string;
  /** The resource: GET and the change go here. */
  url: string;
  method: 'PATCH' | 'PUT';
  /** Four changes, each leaving the resource different from before it. */
  change: object;
  stale: object;
  raceA: object;
  raceB: object;
}

/**
 * The conditional-request contract of one resource: GET gives an ETag and honours
 * If-None-Match; a change with the current ETag succeeds and answers the new one; a change with
 * an old one is 412 and changes nothing; of two concurrent changes sent with the same ETag,
 * exactly one succeeds. Returns the bodies of the two successful changes.
 */
async function conditionalContract(t: EngineContext, c: Case) {
  const get = (headers: Record<string, string> = {}) =>
    t.call('GET', c.url, { token: c.token, headers });
  const change = (body: object, ifMatch: string) =>
    t.call(c.method, c.url, { token: c.token, body, headers: { 'if-match': ifMatch } });

  const first = await get();
  expect(first.statusCode, first.body).toBe(200);
  const original = etagOf(first);

  // If-None-Match: 304 without a body while the version is current (weak comparison).
  for (const header of [original, `"other", ${original}`, `W/${original}`]) {
    const notModified = await get({ 'if-none-match': header });
    expect(notModified.statusCode, header).toBe(304);
    expect(notModified.body).toBe('');
    expect(notModified.headers.etag).toBe(original);
  }
  const modified = await get({ 'if-none-match': '"other"' });
  expect(modified.statusCode).toBe(200);
  expect(modified.json()).toEqual(first.json());

  // A change with the current ETag: 200 and the new ETag, which a GET then answers.
  const changed = await change(c.change, original);
  expect(changed.statusCode, changed.body).toBe(200);
  const current = etagOf(changed);
  expect(current).not.toBe(original);
  const after = await get();
  expect(etagOf(after)).toBe(current);
  expect(after.json()).toEqual(changed.json());
  expect((await get({ 'if-none-match': original })).statusCode).toBe(200);

  // A change with the old ETag (or a weak one): 412, nothing changed.
  for (const header of [original, `W/${current}`]) {
    const stale = await change(c.stale, header);
    expect(expectProblem(stale, 412).type).toBe('urn:lineal:problem:precondition-failed');
  }
  const unchanged = await get();
  expect(unchanged.json()).toEqual(changed.json());
  expect(etagOf(unchanged)).toBe(current);

  // A malformed If-Match: 400 naming the header, nothing changed.
  const malformed = await change(c.stale, 'not-a-tag');
  const problem = expectProblem(malformed, 400);
  expect(problem.errors?.map((e) => e.path)).toEqual(['header.if-match']);
  expect(etagOf(await get())).toBe(current);

  // Two changes sent at once with the same ETag: one 200, one 412.
  const race = await Promise.all([change(c.raceA, current), change(c.raceB, current)]);
  expect(race.map((r) => r.statusCode).sort()).toEqual([200, 412]);
  const winner = race.find((r) => r.statusCode === 200) as LightMyRequestResponse;
  const loser = race.find((r) => r.statusCode === 412) as LightMyRequestResponse;
  expectProblem(loser, 412);
  const final = await get();
  expect(final.json()).toEqual(winner.json());
  expect(etagOf(final)).toBe(etagOf(winner));

  // `*` matches any existing version.
  const any = await change(c.change, '*');
  expect(any.statusCode, any.body).toBe(200);
  return { changed: changed.json(), winner: winner.json(), any: any.json() };
}

/**
 * The audit entries of changes of one row: outcome and status, oldest first. The contract makes
 * a change (success), two stale ones (412), a race (the winner's success is written before the
 * loser, which waited for its lock, fails) and a change with `*`.
 */
async function changeEntries(t: EngineContext, resource: string, id: string) {
  const rows = await t.asOwner((db) =>
    db
      .selectFrom('audit_log')
      .select(['outcome', 'status_code'])
      .where('resource_type', '=', resource)
      .where('resource_id', '=', id)
      .where('action', '=', 'update')
      .where('outcome', 'in', ['success', 'conflict'])
      .orderBy('id')
      .execute(),
  );
  return rows.map((r: { outcome: string; status_code: number | null }) => [
    r.outcome,
    r.status_code,
  ]);
}

describeEngines('ETags and conditional requests', (t) => {
  it('units: ETag on create and GET, If-Match on PATCH, If-None-Match on GET', async () => {
    const { admin } = await createTenant(t);
    const created = await t.call('POST', '/v1/units', {
      token: admin.token,
      body: { name: 'Solsikken', kind: 'kindergarten' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const unit = created.json();
    const get = await t.call('GET', `/v1/units/${unit.id}`, { token: admin.token });
    expect(etagOf(get)).toBe(etagOf(created));

    const result = await conditionalContract(t, {
      token: admin.token,
      url: `/v1/units/${unit.id}`,
      method: 'PATCH',
      change: { name: 'Mælkebøtten' },
      stale: { name: 'Stale' },
      raceA: { name: 'Race A' },
      raceB: { name: 'Race B' },
    });
    expect(result.changed.name).toBe('Mælkebøtten');
    expect(['Race A', 'Race B']).toContain(result.winner.name);

    // A unit of another municipality is 404, whatever the If-Match.
    const other = await createTenant(t);
    const res = await t.call('PATCH', `/v1/units/${unit.id}`, {
      token: other.admin.token,
      body: { name: 'X' },
      headers: { 'if-match': '*' },
    });
    expectProblem(res, 404);
  });

  it('children: the contract, and only the successful changes audited as such', async () => {
    const { admin } = await createTenant(t);
    const created = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: 'etag-child-1', birthDate: '2021-05-10', givenName: 'Ida' },
      headers: { 'idempotency-key': 'etag-child-1' },
    });
    expect(created.statusCode, created.body).toBe(201);
    const child = created.json();
    const get = await t.call('GET', `/v1/children/${child.id}`, { token: admin.token });
    expect(etagOf(get)).toBe(etagOf(created));
    // A replay (its body read back from the store) answers the same ETag.
    const replay = await t.call('POST', '/v1/children', {
      token: admin.token,
      body: { externalRef: 'etag-child-1', birthDate: '2021-05-10', givenName: 'Ida' },
      headers: { 'idempotency-key': 'etag-child-1' },
    });
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(etagOf(replay)).toBe(etagOf(created));

    const result = await conditionalContract(t, {
      token: admin.token,
      url: `/v1/children/${child.id}`,
      method: 'PATCH',
      change: { givenName: 'Ida Marie' },
      stale: { givenName: 'Stale' },
      raceA: { givenName: 'Race A' },
      raceB: { givenName: 'Race B' },
    });
    expect(result.changed.givenName).toBe('Ida Marie');
    expect(['Race A', 'Race B']).toContain(result.winner.givenName);
    expect(await changeEntries(t, 'child', child.id)).toEqual([
      ['success', null],
      ['conflict', 412],
      ['conflict', 412],
      ['success', null],
      ['conflict', 412],
      ['success', null],
    ]);
  });

  it('enrolments: the contract on a child enrolment', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token);
    const child = await createChild(t, admin.token, {
      unitId: unit.id,
      enrolledFrom: '2024-08-01',
    });
    const list = await t.call('GET', `/v1/children/${child.id}/enrolments`, {
      token: admin.token,
    });
    const [enrolment] = list.json().items;
    const url = `/v1/children/${child.id}/enrolments/${enrolment.id}`;

    // A new enrolment's 201 carries the ETag a GET answers.
    const school = await createUnit(t, admin.token, { kind: 'school' });
    const made = await t.call('POST', `/v1/children/${child.id}/enrolments`, {
      token: admin.token,
      body: { unitId: school.id, startDate: '2027-08-01' },
    });
    expect(made.statusCode, made.body).toBe(201);
    const read = await t.call('GET', `/v1/children/${child.id}/enrolments/${made.json().id}`, {
      token: admin.token,
    });
    expect(etagOf(read)).toBe(etagOf(made));

    const result = await conditionalContract(t, {
      token: admin.token,
      url,
      method: 'PATCH',
      change: { endDate: '2027-07-31' },
      stale: { endDate: '2027-06-30' },
      raceA: { endDate: '2027-07-15' },
      raceB: { endDate: '2027-07-16' },
    });
    expect(result.changed.endDate).toBe('2027-07-31');
    expect(['2027-07-15', '2027-07-16']).toContain(result.winner.endDate);
    expect(await changeEntries(t, 'enrolment', enrolment.id)).toEqual([
      ['success', null],
      ['conflict', 412],
      ['conflict', 412],
      ['success', null],
      ['conflict', 412],
      ['success', null],
    ]);
  });

  it('steps: GET /v1/steps/{id} and the contract on PATCH', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2024-08-01',
    });
    const assessment = await createAssessment(t, s.admin.token, {
      childId: child.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      rating: { overallLevel: 3 },
    });
    const step = assessment.recommendation.steps.find((x) => x.stepKey === 'parents_meeting');
    if (!step) throw new Error('no parents_meeting step');
    const url = `/v1/steps/${step.id}`;
    const got = await t.call('GET', url, { token: s.admin.token });
    expect(got.statusCode, got.body).toBe(200);
    expect(got.json()).toMatchObject({ id: step.id, stepKey: 'parents_meeting', status: 'open' });

    const result = await conditionalContract(t, {
      token: s.admin.token,
      url,
      method: 'PATCH',
      change: { status: 'done' },
      stale: { status: 'not_applicable', reason: 'stale' },
      raceA: { status: 'open', reason: 'race A' },
      raceB: { status: 'open', reason: 'race B' },
    });
    expect(result.changed.status).toBe('done');
    expect(result.winner.status).toBe('open');
    expect(['race A', 'race B']).toContain(result.winner.statusReason);
    expect(result.any.status).toBe('done');
    expect(await changeEntries(t, 'step', step.id)).toEqual([
      ['success', null],
      ['conflict', 412],
      ['conflict', 412],
      ['success', null],
      ['conflict', 412],
      ['success', null],
    ]);
    // The step of another municipality is 404.
    const other = await createTenant(t);
    expectProblem(await t.call('GET', url, { token: other.admin.token }), 404);
  });

  it('transition guidelines: GET one, If-Match on PUT (412 before it exists)', async () => {
    const { admin } = await createTenant(t);
    const url = '/v1/transition-guidelines/kindergarten/school';
    expectProblem(await t.call('GET', url, { token: admin.token }), 404);
    const early = await t.call('PUT', url, {
      token: admin.token,
      body: { enabled: true },
      headers: { 'if-match': '*' },
    });
    expectProblem(early, 412);
    expectProblem(await t.call('GET', url, { token: admin.token }), 404);

    const created = await t.call('PUT', url, { token: admin.token, body: { enabled: true } });
    expect(created.statusCode, created.body).toBe(200);
    const get = await t.call('GET', url, { token: admin.token });
    expect(etagOf(get)).toBe(etagOf(created));

    const result = await conditionalContract(t, {
      token: admin.token,
      url,
      method: 'PUT',
      change: { enabled: false },
      stale: { enabled: true, reference: 'stale' },
      raceA: { enabled: true, reference: 'race A' },
      raceB: { enabled: true, reference: 'race B' },
    });
    expect(result.changed.enabled).toBe(false);
    expect(['race A', 'race B']).toContain(result.winner.reference);
  });

  it('the OpenAPI document declares ETag, If-Match, If-None-Match, 304 and 412', () => {
    interface Operation {
      parameters?: { in: string; name: string }[];
      responses: Record<string, { headers?: Record<string, unknown>; content?: object }>;
    }
    const doc = t.app.swagger() as unknown as {
      paths: Record<string, Record<string, Operation>>;
    };
    const op = (path: string, method: string) => {
      const found = doc.paths[path]?.[method];
      if (!found) throw new Error(`no ${method} ${path}`);
      return found;
    };
    const headerParams = (o: Operation) =>
      (o.parameters ?? []).filter((p) => p.in === 'header').map((p) => p.name);
    const etagHeader = {
      schema: { type: 'string' },
      description: expect.stringContaining('If-Match'),
    };
    const resources: [string, 'patch' | 'put'][] = [
      ['/v1/units/{unitId}', 'patch'],
      ['/v1/children/{childId}', 'patch'],
      ['/v1/children/{childId}/enrolments/{enrolmentId}', 'patch'],
      ['/v1/steps/{stepId}', 'patch'],
      ['/v1/transition-guidelines/{fromUnitKind}/{toUnitKind}', 'put'],
    ];
    for (const [path, method] of resources) {
      const read = op(path, 'get');
      expect(headerParams(read), path).toContain('if-none-match');
      expect(read.responses['200']?.headers?.ETag, path).toEqual(etagHeader);
      expect(read.responses['304']?.headers?.ETag, path).toEqual(etagHeader);
      expect(read.responses['304']?.content, path).toBeUndefined();
      const write = op(path, method);
      expect(headerParams(write), path).toContain('if-match');
      expect(write.responses['200']?.headers?.ETag, path).toEqual(etagHeader);
      expect(Object.keys(write.responses['412']?.content ?? {}), path).toEqual([
        'application/problem+json',
      ]);
    }
    for (const path of ['/v1/units', '/v1/children', '/v1/children/{childId}/enrolments']) {
      expect(op(path, 'post').responses['201']?.headers?.ETag, path).toEqual(etagHeader);
    }
  });

  it('REQUIRE_IF_MATCH: a change without If-Match is 428; a PUT may create with If-None-Match: *', async () => {
    const strict = await buildApp({
      config: {
        bodyLimitBytes: 64 * 1024,
        trustProxy: false,
        rateLimit: { max: 1_000_000, windowMs: 60_000 },
        etag: { requireIfMatch: true },
      },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: t.clock.now,
    });
    try {
      const { admin } = await createTenant(t);
      const call = (
        method: 'GET' | 'POST' | 'PATCH' | 'PUT',
        url: string,
        body?: object,
        headers: Record<string, string> = {},
      ) =>
        strict.inject({
          method,
          url,
          headers: { authorization: `Bearer ${admin.token}`, ...headers },
          ...(body ? { payload: body } : {}),
        });
      // Creating is unaffected.
      const created = await call('POST', '/v1/units', { name: 'Strict', kind: 'school' });
      expect(created.statusCode, created.body).toBe(201);
      const url = `/v1/units/${created.json().id}`;
      const missing = await call('PATCH', url, { name: 'No tag' });
      expect(expectProblem(missing, 428).type).toBe('urn:lineal:problem:precondition-required');
      expect((await call('GET', url)).json().name).toBe('Strict');
      const tagged = await call('PATCH', url, { name: 'Tagged' }, { 'if-match': etagOf(created) });
      expect(tagged.statusCode, tagged.body).toBe(200);
      expect(tagged.json().name).toBe('Tagged');

      const guideline = '/v1/transition-guidelines/nursery/kindergarten';
      expectProblem(await call('PUT', guideline, { enabled: true }), 428);
      expectProblem(await call('GET', guideline), 404);
      // Two creations at once with If-None-Match: *: one 200, one 412.
      const race = await Promise.all(
        ['race A', 'race B'].map((reference) =>
          call('PUT', guideline, { enabled: true, reference }, { 'if-none-match': '*' }),
        ),
      );
      expect(race.map((r) => r.statusCode).sort()).toEqual([200, 412]);
      const winner = race.find((r) => r.statusCode === 200) as LightMyRequestResponse;
      const read = await call('GET', guideline);
      expect(read.json()).toEqual(winner.json());
      const changed = await call(
        'PUT',
        guideline,
        { enabled: false },
        { 'if-match': etagOf(read) },
      );
      expect(changed.statusCode, changed.body).toBe(200);
      expect(changed.json().enabled).toBe(false);
    } finally {
      await strict.close();
    }
  });
});
