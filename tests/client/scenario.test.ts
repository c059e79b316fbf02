import type { AddressInfo } from 'node:net';
import { beforeAll, expect, it } from 'vitest';
import {
  createLinealClient,
  items,
  type LinealClient,
  LinealProblemError,
  unwrap,
} from '../../clients/typescript/index.js';
import { describeEngines } from '../support/engines.js';
import { createTenant } from '../support/factories.js';

/**
 * The typed client against the service on loopback: what an integrator's first hour looks
 * like. It compiles only if the generated types match the service (npm run typecheck), and
 * each step checks the service answers what the types say.
 */
describeEngines('typed TypeScript client', (t) => {
  let lineal: LinealClient;
  let baseUrl: string;

  beforeAll(async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    baseUrl = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
    const { admin } = await createTenant(t);
    lineal = createLinealClient({ baseUrl, apiKey: admin.token });
  });

  it('registers a unit and children, records an assessment, reads it back, pages, fails', async () => {
    const created = await lineal.POST('/v1/units', {
      body: { name: 'Solsikken', kind: 'kindergarten', externalRef: 'inst-client' },
    });
    const unit = unwrap(created);
    expect(created.response.status).toBe(201);
    expect(created.response.headers.get('location')).toBe(`/v1/units/${unit.id}`);
    expect(created.response.headers.get('etag')).toMatch(/^"/);

    const children = [];
    for (const n of [1, 2, 3]) {
      children.push(
        unwrap(
          await lineal.POST('/v1/children', {
            body: {
              externalRef: `client-${n}`,
              birthDate: '2021-05-10',
              enrolment: { unitId: unit.id, startDate: '2024-08-01' },
            },
          }),
        ),
      );
    }
    const rulers = unwrap(await lineal.GET('/v1/rulers'));
    const topi = rulers.items.find((r) => r.key === 'topi-3');
    expect(topi).toBeDefined();

    // `rating.answers` has a server default: optional in the types.
    const recorded = await lineal.POST('/v1/assessments', {
      params: { header: { 'idempotency-key': 'client-scenario-1' } },
      body: {
        childId: children[0]?.id as string,
        unitId: unit.id,
        rulerVersionId: topi?.latestVersion.id as string,
        assessedOn: '2026-11-01',
        raters: [
          { name: 'Anna Pædagog', role: 'unit_staff' },
          { name: 'Bo Leder', role: 'unit_leader' },
        ],
        rating: { overallLevel: 3 },
        parentsInformed: false,
      },
    });
    const assessment = unwrap(recorded);
    expect(assessment.zone).toBe('red');
    expect(assessment.recommendation.steps.length).toBeGreaterThan(0);

    const read = unwrap(
      await lineal.GET('/v1/assessments/{assessmentId}', {
        params: { path: { assessmentId: assessment.id } },
      }),
    );
    expect(read).toMatchObject({ id: assessment.id, zone: 'red', childId: children[0]?.id });

    // Every child, one per page: the iterator follows the cursors.
    const all = [];
    for await (const child of items((cursor) =>
      lineal.GET('/v1/children', { params: { query: { limit: 1, cursor } } }),
    )) {
      all.push(child.externalRef);
    }
    expect(all.sort()).toEqual(['client-1', 'client-2', 'client-3']);

    // The feed's events are typed by their type.
    const feed = unwrap(await lineal.GET('/v1/events'));
    const made = feed.items.find((e) => e.type === 'recommendation.created');
    if (made?.type !== 'recommendation.created') throw new Error('no recommendation event');
    expect(made.data).toMatchObject({ assessmentId: assessment.id, zone: 'red' });

    // A refused request: a typed problem with the failing fields.
    const refused = await lineal
      .POST('/v1/units', { body: { name: '', kind: 'kindergarten' } })
      .then(unwrap)
      .catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(LinealProblemError);
    const problem = (refused as LinealProblemError).problem;
    expect(problem.status).toBe(400);
    expect(problem.errors?.map((e) => e.path)).toContain('body.name');
  });

  it('retries a 429 after its Retry-After, then answers', async () => {
    let calls = 0;
    const flaky: typeof fetch = async (input, init) => {
      calls += 1;
      if (calls === 1) {
        return new Response(JSON.stringify({ title: 'Too Many Requests', status: 429 }), {
          status: 429,
          headers: { 'retry-after': '1', 'content-type': 'application/problem+json' },
        });
      }
      return fetch(input, init);
    };
    const { admin } = await createTenant(t);
    const client = createLinealClient({ baseUrl, apiKey: admin.token, fetch: flaky });
    const started = Date.now();
    const me = unwrap(await client.GET('/v1/me'));
    expect(me.principal.role).toBe('municipality_admin');
    expect(calls).toBe(2);
    expect(Date.now() - started).toBeGreaterThanOrEqual(900);
  });
});
