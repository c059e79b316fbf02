import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { describeEngines, openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';
import { expectProblem } from '../support/problem.js';

describeEngines('HTTP problems', (t) => {
  it('404 for an unknown route, as problem+json', async () => {
    const res = await t.call('GET', '/v1/no-such-thing');
    const problem = expectProblem(res, 404);
    expect(problem.type).toBe('about:blank');
  });

  it('405 with Allow for a known path and the wrong method', async () => {
    const res = await t.call('DELETE', '/v1/municipalities');
    const problem = expectProblem(res, 405);
    expect(res.headers.allow).toBe('GET, HEAD, POST');
    expect(problem.detail).toContain('DELETE');
  });

  it('405 also for parametrised paths', async () => {
    const res = await t.call('PUT', `/v1/municipalities/${crypto.randomUUID()}`);
    expectProblem(res, 405);
    expect(res.headers.allow).toBe('GET, HEAD');
  });

  it('400 for malformed JSON', async () => {
    const res = await t.call('POST', '/v1/municipalities', {
      body: '{"code": "101", "name": ',
      headers: { 'content-type': 'application/json' },
    });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('urn:lineal:problem:malformed-json');
  });

  it('400 listing every failing field with its path', async () => {
    const res = await t.call('POST', '/v1/municipalities', {
      body: { code: '12', name: '', extra: true },
    });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('urn:lineal:problem:validation-error');
    const paths = problem.errors?.map((e) => e.path).sort();
    expect(paths).toEqual(['body', 'body.code', 'body.name']);
    expect(problem.errors?.find((e) => e.path === 'body')?.message).toMatch(/extra/);
  });

  it('400 for invalid path and query parameters', async () => {
    expect(expectProblem(await t.call('GET', '/v1/municipalities/not-a-uuid'), 400).errors).toEqual(
      [expect.objectContaining({ path: 'path.municipalityId' })],
    );
    expect(expectProblem(await t.call('GET', '/v1/municipalities?limit=0'), 400).errors).toEqual([
      expect.objectContaining({ path: 'query.limit' }),
    ]);
    expect(
      expectProblem(await t.call('GET', '/v1/municipalities?cursor=garbage'), 400).errors,
    ).toEqual([expect.objectContaining({ path: 'query.cursor' })]);
  });

  it('413 when the body exceeds the limit', async () => {
    const res = await t.call('POST', '/v1/municipalities', {
      body: { code: '101', name: 'x'.repeat(100 * 1024) },
    });
    expectProblem(res, 413);
  });

  it('415 for a body that is not JSON', async () => {
    const res = await t.call('POST', '/v1/municipalities', {
      body: 'code=101',
      headers: { 'content-type': 'text/plain' },
    });
    expectProblem(res, 415);
    const form = await t.call('POST', '/v1/municipalities', {
      body: 'code=101',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
    });
    expectProblem(form, 415);
  });

  it('puts a request id on every response, echoing a well-formed incoming one', async () => {
    const ok = await t.call('GET', '/healthz', { token: null });
    expect(ok.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    const echoed = await t.call('GET', '/healthz', {
      token: null,
      headers: { 'x-request-id': 'school-sys.batch-42:7' },
    });
    expect(echoed.headers['x-request-id']).toBe('school-sys.batch-42:7');
    const replaced = await t.call('GET', '/healthz', {
      token: null,
      headers: { 'x-request-id': 'evil\nline' },
    });
    expect(replaced.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });

  it('500 reveals nothing internal', async () => {
    // A second app whose database has gone away: every query fails inside the driver.
    const { database, drop } = await openTestDatabase(t.engine);
    const app = await buildApp({
      config: { bodyLimitBytes: 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database,
    });
    await drop();
    try {
      const res = await app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${t.platformToken}` },
      });
      const problem = expectProblem(res, 500);
      expect(problem.type).toBe('urn:lineal:problem:internal-error');
      expect(res.body).not.toMatch(/pool|pglite|closed|stack|\.ts|at /i);
    } finally {
      await app.close();
    }
  });
});
