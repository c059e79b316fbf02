import fc from 'fast-check';
import type { LightMyRequestResponse } from 'fastify';
import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/** Asserts the 400 of the input-strings guard: exactly the one named field. */
function expectBadText(res: LightMyRequestResponse, path: string) {
  const problem = expectProblem(res, 400);
  expect(problem.type).toBe('urn:lineal:problem:validation-error');
  expect(problem.errors, res.body).toEqual([
    { path, message: expect.any(String), code: 'invalid_characters' },
  ]);
  return problem;
}

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

// ---------------------------------------------------------------------------------------------
// Every documented operation, fed a NUL or a lone surrogate through each way it takes input.

interface Parameter {
  in: 'path' | 'query' | 'header';
  name: string;
}
interface Operation {
  operationId: string;
  parameters?: Parameter[];
  requestBody?: { content: Record<string, { schema: Schema }> };
}
interface Schema {
  $ref?: string;
  properties?: Record<string, unknown>;
}
interface Document {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, Schema> };
}

/** Routes only the platform administrator may call; a municipality administrator may call the rest. */
const PLATFORM_ONLY = new Set(['createMunicipality', 'listMunicipalities']);

const BAD_CHARS = ['\u0000', '\ud800', '\udbff', '\udc00', '\udfff'];

/** Well-formed text around the bad character (graphemes: never half of a pair). */
const around = (maxLength: number) => fc.string({ unit: 'grapheme', maxLength });
const badText = (maxLength: number) =>
  fc
    .tuple(around(maxLength), fc.constantFrom(...BAD_CHARS), around(maxLength))
    .map(([a, bad, b]) => ({ text: `${a}${bad}${b}`, nul: bad === '\u0000' }));

const key = fc
  .string({ unit: 'grapheme', maxLength: 8 })
  .filter((k) => k !== '__proto__' && k !== 'constructor');
const { json } = fc.letrec<{ json: unknown; list: unknown[]; record: Record<string, unknown> }>(
  (tie) => ({
    json: fc.oneof(
      { depthSize: 'small' },
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.integer(),
      fc.boolean(),
      fc.constant(null),
      tie('list'),
      tie('record'),
    ),
    list: fc.array(tie('json'), { maxLength: 3 }),
    record: fc.dictionary(key, tie('json'), { maxKeys: 3 }),
  }),
);

type Segment = string | number;
/** Every object and array in `value`, with its path. */
function containers(value: unknown, path: Segment[] = []): { at: object; path: Segment[] }[] {
  if (typeof value !== 'object' || value === null) return [];
  const children = Array.isArray(value)
    ? value.flatMap((v, i) => containers(v, [...path, i]))
    : Object.entries(value).flatMap(([k, v]) => containers(v, [...path, k]));
  return [{ at: value, path }, ...children];
}

/**
 * A JSON body with the operation's own top-level property names (random values), and one bad
 * string put somewhere in it: a new value in any object or array, or a new property name.
 * Returns the body and the path the guard must name.
 */
function bodyWithBadText(properties: string[]) {
  const base = properties.length
    ? fc.record(Object.fromEntries(properties.map((p) => [p, json])), { requiredKeys: [] })
    : fc.dictionary(key, json, { maxKeys: 3 });
  return fc
    .record({ base, bad: badText(10), where: fc.nat(), asKey: fc.boolean(), name: key })
    .map(({ base, bad, where, asKey, name }) => {
      const body = structuredClone(base);
      const all = containers(body);
      const target = all[where % all.length] as { at: object; path: Segment[] };
      let path: Segment[];
      if (Array.isArray(target.at)) {
        target.at.push(asKey ? { [bad.text]: 1 } : bad.text);
        // A new property name is reported at its object, i.e. the new array element.
        path = [...target.path, target.at.length - 1];
      } else {
        const record = target.at as Record<string, unknown>;
        if (asKey) {
          record[bad.text] = 1;
          path = target.path;
        } else {
          const fresh = `injected-${name}`; // longer than any generated key
          record[fresh] = bad.text;
          path = [...target.path, fresh];
        }
      }
      return { body, path: ['body', ...path].join('.') };
    });
}

type Channel = 'body' | 'query' | 'path' | 'header';

describeEngines('bad text, every operation', (t) => {
  it('a NUL or lone surrogate anywhere in any request is a 400 naming it, never a 5xx', {
    timeout: 120_000,
  }, async () => {
    const { admin } = await createTenant(t);
    const doc = t.app.swagger() as unknown as Document;
    const resolve = (schema: Schema | undefined): Schema | undefined =>
      schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop() as string] : schema;
    const ops = Object.entries(doc.paths).flatMap(([path, methods]) =>
      Object.entries(methods).map(([method, op]) => ({ path, method: method.toUpperCase(), op })),
    );
    expect(ops.length).toBeGreaterThan(70);
    let requests = 0;

    for (const { path, method, op } of ops) {
      const params = op.parameters ?? [];
      const pathParams = params.filter((p) => p.in === 'path').map((p) => p.name);
      const queryParams = params.filter((p) => p.in === 'query').map((p) => p.name);
      const headerParams = params.filter((p) => p.in === 'header').map((p) => p.name);
      const bodySchema = resolve(op.requestBody?.content['application/json']?.schema);
      const token = !path.startsWith('/v1')
        ? null
        : PLATFORM_ONLY.has(op.operationId)
          ? t.platformToken
          : admin.token;
      const channels: Channel[] = [
        'header',
        ...(bodySchema ? (['body'] as const) : []),
        ...(queryParams.length ? (['query'] as const) : []),
        ...(pathParams.length ? (['path'] as const) : []),
      ];
      // A request to this operation, well-formed but for the one bad string.
      const send = (o: {
        params?: Record<string, string>;
        query?: string;
        headers?: Record<string, string>;
        body?: unknown;
      }) => {
        requests++;
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => {
          return o.params?.[name] ?? crypto.randomUUID();
        });
        return t.app.inject({
          method: method as 'GET',
          url: `${url}${o.query ? `?${o.query}` : ''}`,
          headers: {
            ...(token ? { authorization: `Bearer ${token}` } : {}),
            ...(bodySchema ? { 'content-type': 'application/json' } : {}),
            ...o.headers,
          },
          ...(bodySchema ? { payload: JSON.stringify(o.body ?? {}) } : {}),
        });
      };

      for (const channel of channels) {
        const run = <T extends unknown[]>(property: fc.IAsyncProperty<T>) =>
          fc.assert(property, { numRuns: 5 }).catch((error: Error) => {
            throw new Error(
              `${method} ${path} (${channel}): ${error.message}\n${String(error.cause)}`,
            );
          });
        if (channel === 'body') {
          const names = Object.keys(bodySchema?.properties ?? {});
          await run(
            fc.asyncProperty(bodyWithBadText(names), async (c) => {
              expectBadText(await send({ body: c.body }), c.path);
            }),
          );
        } else if (channel === 'header') {
          const names = [
            'x-note',
            'user-agent',
            'accept-language',
            'x-request-id',
            ...headerParams,
          ];
          await run(
            fc.asyncProperty(fc.constantFrom(...names), badText(10), async (name, bad) => {
              expectBadText(await send({ headers: { [name]: bad.text } }), `header.${name}`);
            }),
          );
        } else {
          const names = channel === 'query' ? queryParams : pathParams;
          await run(
            fc.asyncProperty(fc.constantFrom(...names), badText(4), async (name, bad) => {
              // A URL carries UTF-8: NUL is %00; a lone surrogate has no UTF-8 form, so a client
              // can only send its WTF-8 bytes, which never decode to a surrogate.
              const encoded = [...bad.text]
                .map((ch) => (isLoneSurrogate(ch) ? wtf8Escape(ch) : encodeURIComponent(ch)))
                .join('');
              const res =
                channel === 'query'
                  ? await send({ query: `${name}=${encoded}` })
                  : await send({ params: { [name]: encoded } });
              if (bad.nul) expectBadText(res, `${channel}.${name}`);
              else expect(res.statusCode, res.body).toBeLessThan(500);
            }),
          );
        }
      }
    }
    expect(requests).toBeGreaterThan(200);
  });
});

/** One code unit of a surrogate pair on its own (spreading a string splits by code points). */
const isLoneSurrogate = (ch: string) => ch.length === 1 && /[\ud800-\udfff]/.test(ch);

/**
 * The percent-escapes of the three bytes a UTF-8 encoder without the surrogate check (WTF-8)
 * writes for a lone surrogate: the only way to put one in a URL.
 */
function wtf8Escape(surrogate: string): string {
  const unit = surrogate.charCodeAt(0);
  return [0xe0 | (unit >> 12), 0x80 | ((unit >> 6) & 0x3f), 0x80 | (unit & 0x3f)]
    .map((b) => `%${b.toString(16).toUpperCase()}`)
    .join('');
}
