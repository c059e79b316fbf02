import fc from 'fast-check';
import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant } from '../support/factories.js';
import { expectBadText } from '../support/problem.js';

/*
 * Every operation of the generated OpenAPI document, fed a NUL or a lone surrogate through each
 * way it takes input (body, query, path, headers), and odd but well-formed values: never a 5xx.
 * Examples of the same cases are in bad-text.test.ts.
 */

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
/** Operations the administrator may not perform: the unit's staff do (the child's self-report). */
const STAFF_ONLY = new Set(['createSelfReport']);

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

/** Every operation of the app's generated OpenAPI document, with what input it takes. */
function operationsOf(t: EngineContext) {
  const doc = t.app.swagger() as unknown as Document;
  const resolve = (schema: Schema | undefined): Schema | undefined =>
    schema?.$ref ? doc.components.schemas[schema.$ref.split('/').pop() as string] : schema;
  return Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => {
      const params = op.parameters ?? [];
      const named = (where: Parameter['in']) =>
        params.filter((p) => p.in === where).map((p) => p.name);
      const body = resolve(op.requestBody?.content['application/json']?.schema);
      return {
        where: `${method.toUpperCase()} ${path}`,
        path,
        method: method.toUpperCase() as 'GET',
        operationId: op.operationId,
        pathParams: named('path'),
        queryParams: named('query'),
        headerParams: named('header'),
        body: body ? { properties: Object.keys(body.properties ?? {}) } : undefined,
      };
    }),
  );
}
type Op = ReturnType<typeof operationsOf>[number];

/** Sends one request to `op` with a key that may call it (unnamed path parameters: a uuid). */
/** A parent session of a child of the unit (the parent view's routes take no other token). */
async function parentToken(t: EngineContext, adminToken: string, unitId: string, childId: string) {
  const link = await t.call('POST', `/v1/children/${childId}/parent-links`, {
    token: adminToken,
    body: { unitId },
  });
  expect(link.statusCode, link.body).toBe(201);
  const opened = await t.call('POST', '/v1/parent-sessions', {
    token: null,
    body: { code: link.json().code },
  });
  expect(opened.statusCode, opened.body).toBe(201);
  return opened.json().token as string;
}

interface Tokens {
  admin: string;
  staff: string;
  parent: string;
}

function sender(t: EngineContext, tokens: Tokens, op: Op) {
  const token =
    !op.path.startsWith('/v1') || op.path === '/v1/parent-sessions'
      ? null
      : op.path.startsWith('/v1/parent/')
        ? tokens.parent
        : PLATFORM_ONLY.has(op.operationId)
          ? t.platformToken
          : STAFF_ONLY.has(op.operationId)
            ? tokens.staff
            : tokens.admin;
  return (o: {
    params?: Record<string, string>;
    query?: string;
    headers?: Record<string, string>;
    body?: unknown;
  }) =>
    t.app.inject({
      method: op.method,
      url: `${op.path.replace(/\{(\w+)\}/g, (_, name: string) => o.params?.[name] ?? crypto.randomUUID())}${o.query ? `?${o.query}` : ''}`,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(op.body ? { 'content-type': 'application/json' } : {}),
        ...o.headers,
      },
      ...(op.body ? { payload: JSON.stringify(o.body ?? {}) } : {}),
    });
}

/** Runs a property for one operation, naming the operation when it fails. */
const check = <T extends unknown[]>(
  where: string,
  property: fc.IAsyncProperty<T>,
  numRuns: number,
) =>
  fc.assert(property, { numRuns }).catch((error: Error) => {
    throw new Error(`${where}: ${error.message}\n${String(error.cause)}`);
  });

describeEngines('bad text, every operation', (t) => {
  it('a NUL or lone surrogate anywhere in any request is a 400 naming it, never a 5xx', {
    timeout: 120_000,
  }, async () => {
    const { admin, unit, municipality } = await createScreeningTenant(t);
    const child = await createChild(t, admin.token, { unitId: unit.id });
    const tokens = {
      admin: admin.token,
      staff: (await createKey(t, municipality.id, 'unit_staff', { unitIds: [unit.id] })).token,
      parent: await parentToken(t, admin.token, unit.id, child.id),
    };
    const ops = operationsOf(t);
    expect(ops.length).toBeGreaterThan(70);
    let checked = 0;
    for (const op of ops) {
      const send = sender(t, tokens, op);
      const channels: Channel[] = [
        'header',
        ...(op.body ? (['body'] as const) : []),
        ...(op.queryParams.length ? (['query'] as const) : []),
        ...(op.pathParams.length ? (['path'] as const) : []),
      ];
      for (const channel of channels) {
        checked++;
        const where = `${op.where} (${channel})`;
        if (channel === 'body') {
          await check(
            where,
            fc.asyncProperty(bodyWithBadText(op.body?.properties ?? []), async (c) => {
              expectBadText(await send({ body: c.body }), c.path);
            }),
            5,
          );
        } else if (channel === 'header') {
          const names = ['x-note', 'user-agent', 'accept-language', 'x-request-id'];
          await check(
            where,
            fc.asyncProperty(
              fc.constantFrom(...names, ...op.headerParams),
              badText(10),
              async (name, bad) => {
                expectBadText(await send({ headers: { [name]: bad.text } }), `header.${name}`);
              },
            ),
            5,
          );
        } else {
          const names = channel === 'query' ? op.queryParams : op.pathParams;
          await check(
            where,
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
            5,
          );
        }
      }
    }
    expect(checked).toBeGreaterThan(150);
  });

  it('well-formed but odd values (dates, numbers, ids, lists) are never a 5xx either', {
    timeout: 120_000,
  }, async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const tokens = {
      admin: s.admin.token,
      staff: (await createKey(t, s.municipality.id, 'unit_staff', { unitIds: [s.unit.id] })).token,
      parent: await parentToken(t, s.admin.token, s.unit.id, child.id),
    };
    const ids = [s.unit.id, child.id, s.municipality.id, s.topi, crypto.randomUUID()];
    const text = fc.oneof(
      fc.string({ unit: 'grapheme', maxLength: 12 }),
      fc.constantFrom(...ODD_TEXT),
      fc.constantFrom(...ids),
    );
    const value = fc.oneof(
      text,
      fc.integer(),
      fc.double(),
      fc.constantFrom(0, -1, 2 ** 31, 2 ** 53, 1e308, null, true, [], {}, [''], [ids[0]]),
      fc.array(text, { maxLength: 3 }),
      fc.dictionary(fc.string({ maxLength: 5 }), text, { maxKeys: 3 }),
    );
    for (const op of operationsOf(t)) {
      const send = sender(t, tokens, op);
      const properties = op.body?.properties ?? [];
      await check(
        op.where,
        fc.asyncProperty(
          fc.record({
            params: fc.record(Object.fromEntries(op.pathParams.map((p) => [p, text]))),
            query: fc.array(fc.tuple(fc.constantFrom(...op.queryParams, 'other'), text), {
              maxLength: 4,
            }),
            body: fc.record(Object.fromEntries(properties.map((p) => [p, value])), {
              requiredKeys: [],
            }),
          }),
          async (c) => {
            const res = await send({
              params: Object.fromEntries(
                Object.entries(c.params).map(([k, v]) => [k, encodeURIComponent(v || 'x')]),
              ),
              query: c.query.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'),
              body: c.body,
            });
            expect(res.statusCode, res.body).toBeLessThan(500);
          },
        ),
        6,
      );
    }
  });
});

/** Values that broke other services: impossible dates, huge numbers, separators, escapes. */
const ODD_TEXT = [
  '',
  ' ',
  '0',
  '-1',
  '1e309',
  'NaN',
  '9999999999999999999',
  '2026-02-30',
  '2026-13-01',
  '0000-01-01',
  '+002026-01-01',
  '2026-11-20T25:00:00Z',
  ',',
  'a,b',
  ',,',
  '%',
  '\\',
  "'",
  'null',
  '00000000-0000-0000-0000-000000000000',
];

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
