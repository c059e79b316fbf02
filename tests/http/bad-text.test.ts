import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
} from '../support/factories.js';
import { expectBadText, expectProblem } from '../support/problem.js';

/** A raw JSON request body (so the text on the wire is exactly what a client sent). */
const postJson = (t: EngineContext, url: string, token: string, json: string) =>
  t.app.inject({
    method: 'POST',
    url,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    payload: json,
  });

const label = (text: string) => ({ da: text, en: text });
const rulerDefinition = (levelLabel: string) => ({
  levels: [
    { value: 1, label: label(levelLabel), zone: 'green' },
    { value: 2, label: label('worried'), zone: 'red' },
  ],
  higherIsBetter: false,
  items: [],
  rule: { kind: 'assessor_position' },
  minAnsweredItems: 0,
  ratersRequired: 1,
});

describeEngines('bad text in requests', (t) => {
  it('a NUL in a body string is a 400 naming the field, and nothing is stored', async () => {
    const { admin } = await createTenant(t);
    const res = await t.call('POST', '/v1/units', {
      token: admin.token,
      body: { name: 'a\u0000b', kind: 'kindergarten' },
    });
    expectBadText(res, 'body.name');
    const units = await t.call('GET', '/v1/units', { token: admin.token });
    expect(units.json().items).toEqual([]);
  });

  it('a NUL in a query parameter is a 400 naming it (children search, event feed)', async () => {
    const { admin } = await createTenant(t);
    expectBadText(await t.call('GET', '/v1/children?q=%00', { token: admin.token }), 'query.q');
    expectBadText(
      await t.call('GET', '/v1/events?after=%00', { token: admin.token }),
      'query.after',
    );
    expectBadText(
      await t.call('GET', '/v1/children?q=Ida%00Jensen&limit=5', { token: admin.token }),
      'query.q',
    );
  });

  it('a lone surrogate in a ruler or action-guide definition is a 400 naming the field', async () => {
    const { admin } = await createTenant(t);
    for (const bad of ['\\ud800', '\\udfff', 'x\\udc00\\ud800y']) {
      const ruler = JSON.stringify({
        key: 'own-ruler',
        name: 'Own',
        definition: rulerDefinition('LEVEL'),
      }).replace('LEVEL', `go${bad}od`);
      expectBadText(
        await postJson(t, '/v1/rulers', admin.token, ruler),
        'body.definition.levels.0.label.da',
      );
    }
    const guide = JSON.stringify({ key: 'own-guide', name: 'BAD', rulerKey: 'topi-3' }).replace(
      'BAD',
      'Guide \\ud83d',
    );
    expectBadText(await postJson(t, '/v1/action-guides', admin.token, guide), 'body.name');
    // A well-formed pair (an emoji) is of course fine.
    const emoji = await postJson(
      t,
      '/v1/units',
      admin.token,
      '{"name":"Solsikken \\ud83c\\udf3b","kind":"kindergarten"}',
    );
    expect(emoji.statusCode, emoji.body).toBe(201);
    expect(emoji.json().name).toBe('Solsikken 🌻');
  });

  it('a lone surrogate in an ordinary string is refused, not stored as U+FFFD', async () => {
    const { admin } = await createTenant(t);
    const res = await postJson(
      t,
      '/v1/units',
      admin.token,
      '{"name":"Solsikken \\ud800","kind":"kindergarten"}',
    );
    expectBadText(res, 'body.name');
    const units = await t.call('GET', '/v1/units', { token: admin.token });
    expect(units.json().items).toEqual([]);
  });

  it('names bad path parameters, headers, nested fields and property names', async () => {
    const { admin, unit } = await createScreeningTenant(t);
    expectBadText(
      await t.call('GET', `/v1/units/${unit.id}%00`, { token: admin.token }),
      'path.unitId',
    );
    expectBadText(
      await t.call('GET', '/v1/units', { token: admin.token, headers: { 'x-note': 'a\u0000' } }),
      'header.x-note',
    );
    expectBadText(
      await t.call('POST', '/v1/units', {
        token: admin.token,
        body: { name: 'A', kind: 'kindergarten' },
        headers: { 'idempotency-key': 'k\ud800' },
      }),
      'header.idempotency-key',
    );
    const child = await createChild(t, admin.token, { unitId: unit.id });
    expectBadText(
      await t.call('POST', '/v1/assessments', {
        token: admin.token,
        body: {
          childId: child.id,
          unitId: unit.id,
          assessedOn: '2026-11-20',
          raters: [{ name: 'Anna', role: 'unit_staff' }, { name: 'B\u0000o' }],
          rating: { overallLevel: 1 },
        },
      }),
      'body.raters.1.name',
    );
    // A bad property name is reported at its object, without echoing it.
    expectBadText(
      await t.call('POST', '/v1/assessments', {
        token: admin.token,
        body: { childId: child.id, rating: { answers: { 'social\u0000': 1 } } },
      }),
      'body.rating.answers',
    );
    // Several bad fields: each is listed.
    const many = expectProblem(
      await t.call('PATCH', `/v1/units/${unit.id}`, {
        token: admin.token,
        body: { name: '\u0000', district: '\udc00' },
        headers: { 'x-note': '\u0000' },
      }),
      400,
    );
    expect(many.errors?.map((e) => e.path).sort()).toEqual([
      'body.district',
      'body.name',
      'header.x-note',
    ]);
  });

  it('authentication and authorisation still answer first (401, 403)', async () => {
    const { municipality } = await createTenant(t);
    const analyst = await createKey(t, municipality.id, 'analyst');
    expectProblem(await t.call('GET', '/v1/children?q=%00', { token: null }), 401);
    expectProblem(await t.call('GET', '/v1/children?q=%00', { token: analyst.token }), 403);
  });

  it('a deeply nested body is walked without overflowing the stack', async () => {
    const { admin } = await createTenant(t);
    const depth = 30_000;
    const res = await postJson(
      t,
      '/v1/units',
      admin.token,
      `{"name":${'['.repeat(depth)}"\\u0000"${']'.repeat(depth)},"kind":"kindergarten"}`,
    );
    expectBadText(res, `body.name${'.0'.repeat(depth)}`);
  });
});
