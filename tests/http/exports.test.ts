import { createHmac } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import fc from 'fast-check';
import Fastify, { type FastifyInstance, type FastifyRequest } from 'fastify';
import {
  serializerCompiler,
  validatorCompiler,
  type ZodTypeProvider,
} from 'fastify-type-provider-zod';
import { sql } from 'kysely';
import { pino } from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ApiKeyCache } from '../../src/auth/api-key-cache.js';
import { authPlugin } from '../../src/auth/plugin.js';
import type { Principal } from '../../src/auth/principal.js';
import { municipalityScope } from '../../src/db/database.js';
import {
  childPseudonym,
  csvField,
  csvLine,
  pseudonymizer,
} from '../../src/features/exports/format.js';
import { acceptsGzip, exportRoutes } from '../../src/features/exports/routes.js';
import { type DetailedRow, detailedColumns } from '../../src/features/exports/schemas.js';
import {
  EXPORT_PAGE_SIZE,
  type ExportSummary,
  openAssessmentExport,
} from '../../src/features/exports/service.js';
import { errorHandlerPlugin } from '../../src/http/error-handler.js';
import { openApiPlugin } from '../../src/http/openapi.js';
import { requestProblemDocsPlugin } from '../../src/http/request-problem-docs.js';
import { Runner } from '../../src/request/runner.js';
import { Session, sessionPlugin } from '../../src/request/session.js';
import { describeEngines, type EngineContext, TEST_CPR_SECRET } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { TEST_APP_ROLE } from '../support/postgres-admin.js';
import { expectProblem } from '../support/problem.js';

// ---------------------------------------------------------------------------------------------
// Helpers

/** RFC 4180 CSV (CRLF or LF line ends) → rows of fields. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (ch === '"') quoted = false;
      else field += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      row.push(field);
      field = '';
    } else if (ch === '\n' || ch === '\r') {
      if (ch === '\r' && text[i + 1] === '\n') i++;
      row.push(field);
      rows.push(row);
      row = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || row.length > 0) {
    row.push(field);
    rows.push(row);
  }
  return rows;
}

type Row = Record<(typeof detailedColumns)[number], unknown>;

/** A CSV export as NDJSON-typed rows (numbers, nulls and the flags array restored). */
function csvToRows(text: string): Row[] {
  const [header, ...lines] = parseCsv(text);
  expect(header).toEqual([...detailedColumns]);
  const numeric = new Set(['age_months', 'level', 'score', 'red_flag_count']);
  return lines.map((fields) => {
    expect(fields).toHaveLength(detailedColumns.length);
    const row = {} as Row;
    detailedColumns.forEach((column, i) => {
      const value = fields[i] as string;
      if (column === 'flags') row[column] = value === '' ? [] : value.split(',');
      else if (value === '') row[column] = null;
      else row[column] = numeric.has(column) ? Number(value) : value;
    });
    return row;
  });
}

const ndjsonToRows = (text: string): Row[] =>
  text
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line));

/**
 * An app with only what exports need (errors, authentication, OpenAPI and the export routes),
 * on the engine's database, logging into `logs`. Once src/app.ts registers exportRoutes, the
 * same tests can use `t.app`.
 */
async function buildExportApp(t: EngineContext, logs: Record<string, unknown>[]) {
  const logger = pino({ level: 'info' }, { write: (line: string) => logs.push(JSON.parse(line)) });
  const app = Fastify({ loggerInstance: logger }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
  });
  const apiKeys = new ApiKeyCache();
  const deps = {
    runner: new Runner(t.database, TEST_CPR_SECRET, apiKeys),
    apiKeys,
    database: t.database,
    now: t.clock.now,
    cprSecret: TEST_CPR_SECRET,
  };
  await app.register(openApiPlugin, { version: 'test' });
  await app.register(errorHandlerPlugin);
  await app.register(requestProblemDocsPlugin);
  await app.register(authPlugin, deps);
  await app.register(sessionPlugin, deps);
  await app.register(exportRoutes, deps);
  await app.ready();
  return app as unknown as FastifyInstance;
}

/** The first log line matching `match`, waiting up to 5 s for it. */
async function waitForLog(
  logs: Record<string, unknown>[],
  match: (line: Record<string, unknown>) => boolean,
): Promise<Record<string, unknown> | undefined> {
  const deadline = Date.now() + 5000;
  for (;;) {
    const line = logs.find(match);
    if (line || Date.now() > deadline) return line;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

const raters = [
  { name: 'Anna Rasmussen', role: 'unit_staff' },
  { name: 'Bo Nielsen', role: 'unit_leader' },
];

const JUSTIFICATION = 'Trækker sig fra legen, fortrolig begrundelse';
const PERSPECTIVE = 'Barnet siger at det er ked af det';

/**
 * Municipality with two units and three children:
 *   A (female, born 2021-03-31, CPR): green in round 1, red with a violence red flag in round 2;
 *   B (male, born 2020-01-31): yellow in round 1, corrected to green (only the correction counts);
 *   C (no sex, born 2024-02-29, nursery without district): yellow outside any round, and an
 *     assessment in round 1 that was withdrawn (not exported).
 * Another municipality has an assessment that must never appear.
 */
async function fixture(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const kindergarten = await createUnit(t, s.admin.token, {
    name: 'Børnehuset Solsikken',
    kind: 'kindergarten',
    district: 'Nord, "Øst"',
  });
  const nursery = await createUnit(t, s.admin.token, {
    name: 'Vuggestuen Mælkebøtten',
    kind: 'nursery',
  });
  const round = async (name: string, windowStart: string, windowEnd: string) => {
    const res = await t.call('POST', '/v1/rounds', {
      token: s.admin.token,
      body: { name, windowStart, windowEnd, rulerVersionId: s.topi },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; name: string };
  };
  const r1 = await round('Forår 2026', '2026-04-01', '2026-05-31');
  const r2 = await round('Efterår 2026', '2026-10-01', '2026-11-30');
  const a = await createChild(t, s.admin.token, {
    givenName: 'Ida',
    familyName: 'Jensen',
    externalRef: 'elev-4711-ida',
    birthDate: '2021-03-31',
    cpr: '310321-4711',
    sex: 'female',
    unitId: kindergarten.id,
    enrolledFrom: '2025-08-01',
  });
  const b = await createChild(t, s.admin.token, {
    givenName: 'Karl',
    familyName: 'Hansen',
    externalRef: 'elev-4712-karl',
    birthDate: '2020-01-31',
    sex: 'male',
    unitId: kindergarten.id,
    enrolledFrom: '2025-08-01',
  });
  const c = await createChild(t, s.admin.token, {
    givenName: 'Liv',
    familyName: 'Skov',
    externalRef: 'elev-4713-liv',
    birthDate: '2024-02-29',
    unitId: nursery.id,
    enrolledFrom: '2025-01-01',
  });
  const assess = async (body: Record<string, unknown>, path = '/v1/assessments') => {
    const res = await t.call('POST', path, {
      token: s.admin.token,
      body: {
        raters,
        parentsInformed: true,
        justification: JUSTIFICATION,
        childPerspective: PERSPECTIVE,
        ...body,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as {
      id: string;
      zone: string | null;
      level: number | null;
      score: number | null;
      recommendation: { flags: { kind: string }[] };
    };
  };
  const a1 = await assess({
    childId: a.id,
    unitId: kindergarten.id,
    roundId: r1.id,
    assessedOn: '2026-04-15',
    rating: { overallLevel: 1 },
  });
  const a2 = await assess({
    childId: a.id,
    unitId: kindergarten.id,
    roundId: r2.id,
    assessedOn: '2026-11-02',
    rating: { overallLevel: 2 },
    redFlags: ['violence'],
  });
  const b1 = await assess({
    childId: b.id,
    unitId: kindergarten.id,
    roundId: r1.id,
    assessedOn: '2026-04-30',
    rating: { overallLevel: 2 },
  });
  const b1c = await assess(
    {
      reason: 'Forkert niveau registreret',
      unitId: kindergarten.id,
      assessedOn: '2026-04-30',
      rating: { overallLevel: 1 },
    },
    `/v1/assessments/${b1.id}/corrections`,
  );
  const c1 = await assess({
    childId: c.id,
    unitId: nursery.id,
    rulerVersionId: s.topi,
    assessedOn: '2026-03-31',
    rating: { overallLevel: 2 },
  });
  const c2 = await assess({
    childId: c.id,
    unitId: nursery.id,
    roundId: r1.id,
    assessedOn: '2026-05-31',
    rating: { overallLevel: 3 },
  });
  const withdrawn = await t.call('POST', `/v1/assessments/${c2.id}/withdraw`, {
    token: s.admin.token,
    body: { reason: 'Registreret på det forkerte barn' },
  });
  expect(withdrawn.statusCode, withdrawn.body).toBe(200);

  const other = await createScreeningTenant(t);
  const otherChild = await createChild(t, other.admin.token, {
    givenName: 'Ole',
    unitId: other.unit.id,
    enrolledFrom: '2025-08-01',
  });
  const otherRes = await t.call('POST', '/v1/assessments', {
    token: other.admin.token,
    body: {
      childId: otherChild.id,
      unitId: other.unit.id,
      rulerVersionId: other.topi,
      assessedOn: '2026-04-20',
      raters,
      rating: { overallLevel: 3 },
      parentsInformed: false,
    },
  });
  expect(otherRes.statusCode, otherRes.body).toBe(201);

  // The detailed export is the municipality administrator's.
  const exporter = await createKey(t, s.municipality.id, 'municipality_admin', {
    token: s.admin.token,
  });
  const otherExporter = await createKey(t, other.municipality.id, 'municipality_admin', {
    token: other.admin.token,
  });
  const pseudonym = (childId: string) =>
    createHmac('sha256', TEST_CPR_SECRET)
      .update(`export-pseudonym\n${s.municipality.id}\n${childId}`)
      .digest('hex')
      .slice(0, 20);
  const flagsOf = (x: { recommendation: { flags: { kind: string }[] } }) =>
    x.recommendation.flags.map((f) => f.kind).sort();
  const base = { sex: null, district: null, round_id: null, round_name: null, score: null };
  // In export order: (assessed_on, id).
  const expected: Row[] = [
    {
      ...base,
      child_pseudonym: pseudonym(c.id),
      age_months: 25,
      unit_id: nursery.id,
      unit_kind: 'nursery',
      assessed_on: '2026-03-31',
      ruler_key: 'topi-3',
      zone: 'yellow',
      level: 2,
      score: c1.score,
      red_flag_count: 0,
      flags: flagsOf(c1),
      status: 'current',
    },
    {
      ...base,
      child_pseudonym: pseudonym(a.id),
      age_months: 60, // 2021-03-31 → 2026-04-15: not yet 61 months (the 15th < the 31st)
      sex: 'female',
      unit_id: kindergarten.id,
      unit_kind: 'kindergarten',
      district: 'Nord, "Øst"',
      round_id: r1.id,
      round_name: 'Forår 2026',
      assessed_on: '2026-04-15',
      ruler_key: 'topi-3',
      zone: 'green',
      level: 1,
      score: a1.score,
      red_flag_count: 0,
      flags: flagsOf(a1),
      status: 'current',
    },
    {
      ...base,
      child_pseudonym: pseudonym(b.id),
      age_months: 75, // 2020-01-31 → 2026-04-30, the last day of April: 75 whole months
      sex: 'male',
      unit_id: kindergarten.id,
      unit_kind: 'kindergarten',
      district: 'Nord, "Øst"',
      round_id: r1.id,
      round_name: 'Forår 2026',
      assessed_on: '2026-04-30',
      ruler_key: 'topi-3',
      zone: 'green',
      level: 1,
      score: b1c.score,
      red_flag_count: 0,
      flags: flagsOf(b1c),
      status: 'current',
    },
    {
      ...base,
      child_pseudonym: pseudonym(a.id),
      age_months: 67,
      sex: 'female',
      unit_id: kindergarten.id,
      unit_kind: 'kindergarten',
      district: 'Nord, "Øst"',
      round_id: r2.id,
      round_name: 'Efterår 2026',
      assessed_on: '2026-11-02',
      ruler_key: 'topi-3',
      zone: 'red',
      level: 2,
      score: a2.score,
      red_flag_count: 1,
      flags: ['deterioration', 'red_flag'],
      status: 'current',
    },
  ];
  expect(flagsOf(a2)).toEqual(['deterioration', 'red_flag']);
  return {
    ...s,
    kindergarten,
    nursery,
    r1,
    r2,
    children: { a, b, c },
    assessments: { a1, a2, b1, b1c, c1, c2 },
    exporter,
    other,
    otherExporter,
    expected,
  };
}

// ---------------------------------------------------------------------------------------------
// Pure parts

describe('export formatting', () => {
  it('quotes CSV fields per RFC 4180 and defuses formulas in free text', () => {
    expect(csvField(null)).toBe('');
    expect(csvField(3.5)).toBe('3.5');
    expect(csvField('Nord')).toBe('Nord');
    expect(csvField('Nord, "Øst"')).toBe('"Nord, ""Øst"""');
    expect(csvField('two\nlines')).toBe('"two\nlines"');
    expect(csvField(['deterioration', 'red_flag'])).toBe('"deterioration,red_flag"');
    expect(csvField('=HYPERLINK("x")', 'district')).toBe('"\'=HYPERLINK(""x"")"');
    expect(csvField('-1', 'round_name')).toBe("'-1");
    expect(csvField('2026-04-15', 'assessed_on')).toBe('2026-04-15');
  });

  it('pseudonyms are stable, 20 hex digits, and differ per municipality and secret', () => {
    const child = '0b6c1c62-3f0e-4a8e-9d55-5d2b8a3f1a11';
    const m1 = '6f1d2d55-1111-4c4c-8d8d-000000000001';
    const m2 = '6f1d2d55-1111-4c4c-8d8d-000000000002';
    const p = childPseudonym(TEST_CPR_SECRET, m1, child);
    expect(p).toMatch(/^[0-9a-f]{20}$/);
    expect(childPseudonym(TEST_CPR_SECRET, m1, child)).toBe(p);
    expect(childPseudonym(TEST_CPR_SECRET, m2, child)).not.toBe(p);
    expect(childPseudonym(`${TEST_CPR_SECRET}x`, m1, child)).not.toBe(p);
  });

  it('writes a CSV line exactly as csvField writes each column (property)', () => {
    const text = fc.option(fc.string({ unit: 'grapheme', maxLength: 12 }), { nil: null });
    const uuid = fc.uuid();
    const row = fc.record({
      child_pseudonym: fc.stringMatching(/^[0-9a-f]{20}$/),
      age_months: fc.nat(240),
      sex: text,
      unit_id: uuid,
      unit_kind: fc.string({ maxLength: 12 }),
      district: text,
      round_id: fc.option(uuid, { nil: null }),
      round_name: text,
      assessed_on: fc
        .date({ min: new Date('2000-01-01'), max: new Date('2099-12-31'), noInvalidDate: true })
        .map((d) => d.toISOString().slice(0, 10)),
      ruler_key: fc.string({ maxLength: 12 }),
      zone: text,
      level: fc.option(fc.integer({ min: 1, max: 3 }), { nil: null }),
      score: fc.option(fc.double({ noNaN: true, noDefaultInfinity: true }), { nil: null }),
      red_flag_count: fc.nat(10),
      flags: fc.array(fc.string({ maxLength: 8 }), { maxLength: 3 }),
      status: fc.constant('current'),
    }) satisfies fc.Arbitrary<DetailedRow>;
    fc.assert(
      fc.property(row, (r) => {
        const reference = `${detailedColumns.map((c) => csvField(r[c], c)).join(',')}\r\n`;
        expect(csvLine(detailedColumns, r)).toBe(reference);
        expect(parseCsv(csvLine(detailedColumns, r))[0]).toHaveLength(detailedColumns.length);
      }),
    );
  });

  it('memoised pseudonyms equal computed ones, also past the memo size (property)', () => {
    const m = '6f1d2d55-1111-4c4c-8d8d-000000000001';
    fc.assert(
      fc.property(fc.array(fc.uuid(), { maxLength: 50 }), (ids) => {
        const pseudonym = pseudonymizer(TEST_CPR_SECRET, m);
        for (const id of [...ids, ...ids]) {
          expect(pseudonym(id)).toBe(childPseudonym(TEST_CPR_SECRET, m, id));
        }
      }),
    );
    // More children than the memo holds: it starts afresh and stays correct.
    const pseudonym = pseudonymizer(TEST_CPR_SECRET, m);
    const ids = Array.from({ length: 60_001 }, (_, i) => `child-${i}`);
    for (const id of ids) pseudonym(id);
    for (const id of [ids[0] as string, ids[49_999] as string, ids[60_000] as string]) {
      expect(pseudonym(id)).toBe(childPseudonym(TEST_CPR_SECRET, m, id));
    }
  });

  it('reads Accept-Encoding', () => {
    expect(acceptsGzip(undefined)).toBe(false);
    expect(acceptsGzip('identity')).toBe(false);
    expect(acceptsGzip('gzip, deflate, br')).toBe(true);
    expect(acceptsGzip('br;q=1.0, GZIP;q=0.5')).toBe(true);
    expect(acceptsGzip('gzip;q=0')).toBe(false);
    expect(acceptsGzip('*')).toBe(true);
    expect(acceptsGzip('*, gzip;q=0')).toBe(false);
  });
});

// ---------------------------------------------------------------------------------------------
// Over HTTP, on both engines

describeEngines('exports', (t) => {
  let app: FastifyInstance;
  const logs: Record<string, unknown>[] = [];
  let f: Awaited<ReturnType<typeof fixture>>;

  beforeAll(async () => {
    app = await buildExportApp(t, logs);
    f = await fixture(t);
  });
  afterAll(async () => {
    await app?.close();
  });

  const get = (url: string, token: string | null, headers: Record<string, string> = {}) =>
    app.inject({
      method: 'GET',
      url,
      headers: { ...(token ? { authorization: `Bearer ${token}` } : {}), ...headers },
    });

  /** The words that identify the fixture's children and must never be exported. */
  const expectNothingIdentifying = (body: string) => {
    // Random ids (unit, round) and keyed pseudonyms may contain a digit run such as 4711 by
    // chance (a flaky failure seen in CI): the words are looked for outside ids and pseudonyms;
    // the children's own ids on the whole body.
    const withoutIds = body
      .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
      .replace(/\b[0-9a-f]{20}\b/g, '<pseudonym>');
    for (const word of [
      'Ida',
      'Jensen',
      'Karl',
      'Hansen',
      'Liv',
      'Skov',
      'elev-47',
      '310321',
      '4711',
      '2021-03-31',
      '2020-01-31',
      '2024-02-29',
      'Trækker',
      'fortrolig',
      'ked af det',
      'Rasmussen',
      'Nielsen',
      'Forkert niveau',
      'forkerte barn',
    ]) {
      expect(withoutIds, word).not.toContain(word);
    }
    for (const id of [
      f.children.a.id,
      f.children.b.id,
      f.children.c.id,
      f.assessments.a1.id,
      f.municipality.id,
    ]) {
      expect(body, id).not.toContain(id);
    }
  };

  it('exports the current assessments as CSV, pseudonymised, parsed back exactly', async () => {
    const res = await get('/v1/exports/detailed/assessments.csv', f.exporter.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('text/csv; charset=utf-8; header=present');
    expect(res.headers['content-encoding']).toBeUndefined();
    expect(res.headers['cache-control']).toBe('no-store');
    expect(res.headers['content-disposition']).toBe('attachment; filename="assessments.csv"');
    expect(res.body.startsWith(`${detailedColumns.join(',')}\r\n`)).toBe(true);
    expect(csvToRows(res.body)).toEqual(f.expected);
    expectNothingIdentifying(res.body);
    // The completed export is logged, without the filter or any row.
    const line = await waitForLog(
      logs,
      (l) => l.msg === 'export completed' && l.format === 'csv' && l.rows === 4,
    );
    expect(line).toMatchObject({ export: 'assessments', rows: 4, pages: 1, completed: true });
  });

  it('exports the same rows as NDJSON', async () => {
    const res = await get('/v1/exports/detailed/assessments.ndjson', f.admin.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['content-type']).toBe('application/x-ndjson; charset=utf-8');
    const rows = ndjsonToRows(res.body);
    expect(rows).toEqual(f.expected);
    for (const row of rows) expect(Object.keys(row)).toEqual([...detailedColumns]);
    expectNothingIdentifying(res.body);
  });

  it('gzips with ?gzip=true or Accept-Encoding: gzip, and round-trips', async () => {
    const plain = await get('/v1/exports/detailed/assessments.csv', f.exporter.token);
    for (const [url, headers] of [
      ['/v1/exports/detailed/assessments.csv?gzip=true', {}],
      ['/v1/exports/detailed/assessments.csv', { 'accept-encoding': 'gzip, deflate' }],
    ] as const) {
      const res = await get(url, f.exporter.token, headers);
      expect(res.statusCode).toBe(200);
      expect(res.headers['content-encoding']).toBe('gzip');
      expect(res.headers.vary).toBe('Accept-Encoding');
      expect(gunzipSync(res.rawPayload).toString('utf8')).toBe(plain.body);
    }
    const ndjson = await get('/v1/exports/detailed/assessments.ndjson?gzip=true', f.exporter.token);
    expect(ndjsonToRows(gunzipSync(ndjson.rawPayload).toString('utf8'))).toEqual(f.expected);
    for (const [url, headers] of [
      ['/v1/exports/detailed/assessments.csv?gzip=false', { 'accept-encoding': 'gzip' }],
      ['/v1/exports/detailed/assessments.csv', { 'accept-encoding': 'gzip;q=0, identity' }],
    ] as const) {
      const res = await get(url, f.exporter.token, headers);
      expect(res.headers['content-encoding']).toBeUndefined();
      expect(res.body).toBe(plain.body);
    }
  });

  it('applies the analytics filters', async () => {
    const rowsOf = async (query: string) => {
      const res = await get(`/v1/exports/detailed/assessments.ndjson?${query}`, f.exporter.token);
      expect(res.statusCode, res.body).toBe(200);
      return ndjsonToRows(res.body);
    };
    const [c1, a1, b1c, a2] = f.expected;
    expect(await rowsOf(`unitIds=${f.nursery.id}`)).toEqual([c1]);
    expect(await rowsOf(`roundIds=${f.r1.id}`)).toEqual([a1, b1c]);
    expect(await rowsOf(`roundIds=${f.r1.id},${f.r2.id}&sex=female`)).toEqual([a1, a2]);
    expect(await rowsOf('from=2026-10-01')).toEqual([a2]);
    expect(await rowsOf('to=2026-04-01')).toEqual([a1, b1c]);
    expect(await rowsOf('unitKinds=kindergarten&ageBands=6-9')).toEqual([b1c]);
    expect(await rowsOf('sex=other')).toEqual([]);
    const csv = await get(
      `/v1/exports/detailed/assessments.csv?unitKinds=school`,
      f.exporter.token,
    );
    expect(csv.body).toBe(`${detailedColumns.join(',')}\r\n`);
  });

  it("never contains another municipality's rows", async () => {
    const res = await get('/v1/exports/detailed/assessments.ndjson', f.otherExporter.token);
    expect(res.statusCode).toBe(200);
    const rows = ndjsonToRows(res.body);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ unit_id: f.other.unit.id, zone: 'red' });
    const mine = new Set(f.expected.map((r) => r.child_pseudonym));
    expect(mine.has(rows[0]?.child_pseudonym)).toBe(false);
    // Filtering by another municipality's unit finds nothing rather than its rows.
    const cross = await get(
      `/v1/exports/detailed/assessments.csv?unitIds=${f.kindergarten.id}`,
      f.otherExporter.token,
    );
    expect(csvToRows(cross.body)).toEqual([]);
  });

  it('only municipality administrators may export in detail', async () => {
    const analyst = await createKey(t, f.municipality.id, 'analyst', { token: f.admin.token });
    const staff = await createKey(t, f.municipality.id, 'unit_staff', {
      token: f.admin.token,
      unitIds: [f.kindergarten.id],
    });
    const leader = await createKey(t, f.municipality.id, 'unit_leader', {
      token: f.admin.token,
      unitIds: [f.kindergarten.id],
    });
    const social = await createKey(t, f.municipality.id, 'social_worker', {
      token: f.admin.token,
    });
    for (const format of ['csv', 'ndjson']) {
      const url = `/v1/exports/detailed/assessments.${format}`;
      expectProblem(await get(url, analyst.token), 403);
      expectProblem(await get(url, staff.token), 403);
      expectProblem(await get(url, leader.token), 403);
      expectProblem(await get(url, social.token), 403);
      expectProblem(await get(url, t.platformToken), 403);
      expectProblem(await get(url, null), 401);
    }
    const bad = expectProblem(
      await get(
        '/v1/exports/detailed/assessments.csv?unitKinds=castle&gzip=maybe',
        f.exporter.token,
      ),
      400,
    );
    expect(bad.errors?.map((e) => e.path).sort()).toEqual(['query.gzip', 'query.unitKinds.0']);
    // No automatic HEAD route (it would read the whole export to throw it away).
    const head = await app.inject({
      method: 'HEAD',
      url: '/v1/exports/detailed/assessments.csv',
      headers: { authorization: `Bearer ${f.exporter.token}` },
    });
    expect(head.statusCode).toBe(405);
  });

  it('streams page by page, each page in its own short transaction', async () => {
    const principal: Principal = {
      kind: 'api_key',
      id: f.exporter.id,
      role: 'municipality_admin',
      municipalityId: f.municipality.id,
      unitIds: [],
      requestId: `pages-${t.engine}`,
    };
    // What the runner reads of a request: its session, route config, method and path.
    const request = {
      session: new Session(principal, t.clock.now(), TEST_CPR_SECRET),
      method: 'GET',
      params: {},
      routeOptions: {
        url: '/v1/exports/detailed/assessments.ndjson',
        config: { audit: { resource: 'export', action: 'export' } },
      },
    } as unknown as FastifyRequest;
    const summaries: ExportSummary[] = [];
    const { stream } = await new Runner(t.database, TEST_CPR_SECRET, new ApiKeyCache()).runThen(
      request,
      openAssessmentExport,
      {
        filter: {},
        format: 'ndjson',
        detail: 'detailed',
        signal: new AbortController().signal,
        pageSize: 1,
        onClose: (summary) => summaries.push(summary),
      },
    );
    let body = '';
    for await (const chunk of stream) {
      body += String(chunk);
      // No transaction is held between pages: another one runs meanwhile (on PGlite, whose one
      // connection a held transaction would keep, this would wait forever).
      await t.database.transaction(municipalityScope(f.municipality.id), (trx) =>
        sql`SELECT 1`.execute(trx),
      );
    }
    expect(ndjsonToRows(body)).toEqual(f.expected);
    expect(summaries).toEqual([{ format: 'ndjson', rows: 4, pages: 4, completed: true }]);
    // One audit entry, written with the first page's transaction.
    const audited = await t.asOwner((db) =>
      sql<{ action: string; resource_type: string }>`
        SELECT action, resource_type FROM audit_log WHERE request_id = ${principal.requestId}`
        .execute(db)
        .then((r) => r.rows),
    );
    expect(audited).toEqual([{ action: 'export', resource_type: 'export' }]);
  });

  it('documents both routes in OpenAPI as streamed text', () => {
    const doc = app.swagger() as {
      paths: Record<string, { get: Record<string, unknown> }>;
    };
    for (const [format, type, operationId] of [
      ['csv', 'text/csv', 'exportDetailedAssessmentsCsv'],
      ['ndjson', 'application/x-ndjson', 'exportDetailedAssessmentsNdjson'],
    ] as const) {
      const op = doc.paths[`/v1/exports/detailed/assessments.${format}`]?.get as {
        operationId: string;
        tags: string[];
        security: unknown;
        parameters: { name: string }[];
        responses: Record<string, { content: Record<string, unknown> }>;
      };
      expect(op.operationId).toBe(operationId);
      expect(op.tags).toEqual(['Exports']);
      expect(op.security).toEqual([{ bearerAuth: [] }]);
      expect(Object.keys(op.responses['200']?.content ?? {})).toEqual([type]);
      expect(Object.keys(op.responses['403']?.content ?? {})).toEqual(['application/problem+json']);
      expect(op.parameters.map((p) => p.name)).toEqual(
        expect.arrayContaining(['roundIds', 'unitIds', 'districts', 'ageBands', 'sex', 'gzip']),
      );
    }
  });

  // Several pages of a larger export: every page streamed, and a client that hangs up mid-way.
  // The 200,000-row case with its memory check is in the benchmark (bench/lib/export.ts:
  // 100,000 and 1,000,000 rows, the service's RSS flat, every row, a complete CSV).
  describe('several pages', () => {
    const PAGES = 4;
    const TOTAL = PAGES * EXPORT_PAGE_SIZE;
    const CHILDREN = 5_000;
    let big: Awaited<ReturnType<typeof createScreeningTenant>> & {
      exporter: { token: string };
    };
    let baseUrl: string;

    beforeAll(async () => {
      const s = await createScreeningTenant(t);
      const exporter = await createKey(t, s.municipality.id, 'municipality_admin', {
        token: s.admin.token,
      });
      big = { ...s, exporter };
      const m = s.municipality.id;
      const started = Date.now();
      await t.asOwner(async (db) => {
        await sql`
          INSERT INTO children (id, municipality_id, external_ref, birth_date, sex)
          SELECT md5(${m} || 'child' || g)::uuid, ${m}, 'bulk-' || g,
                 date '2019-01-01' + (g % 1800), (ARRAY['female', 'male', 'other'])[g % 3 + 1]
          FROM generate_series(0, ${CHILDREN - 1}) g
        `.execute(db);
        await sql`
          INSERT INTO rounds (id, municipality_id, name, window_start, window_end, ruler_version_id)
          SELECT md5(${m} || 'round' || k)::uuid, ${m}, 'Runde ' || k,
                 date '2020-01-01' + k * 120, date '2020-01-01' + k * 120 + 60, ${s.topi}
          FROM generate_series(0, ${TOTAL / CHILDREN - 1}) k
        `.execute(db);
        await sql`
          INSERT INTO assessments (id, municipality_id, child_id, unit_id, round_id,
            ruler_version_id, assessed_on, raters, overall_level, answers, red_flags,
            justification, parents_informed, zone, level, score, explanation, status, version,
            lineage_id, created_by)
          SELECT x.id, ${m}, md5(${m} || 'child' || (g % ${CHILDREN}))::uuid, ${s.unit.id},
                 md5(${m} || 'round' || (g / ${CHILDREN}))::uuid, ${s.topi},
                 date '2020-01-01' + (g / ${CHILDREN}) * 120 + (g % 60), '[]', g % 3 + 1, '{}',
                 CASE WHEN g % 97 = 0 THEN ARRAY['violence'] ELSE '{}'::text[] END,
                 'Fortrolig tekst ' || g, true,
                 (ARRAY['green', 'yellow', 'red'])[g % 3 + 1], g % 3 + 1, NULL, '{}',
                 'current', 1, x.id, ${s.admin.id}
          FROM generate_series(0, ${TOTAL - 1}) g
          CROSS JOIN LATERAL (SELECT md5(${m} || 'assessment' || g)::uuid AS id) x
        `.execute(db);
        await sql`ANALYZE assessments`.execute(db);
        await sql`ANALYZE children`.execute(db);
      });
      console.info(`[${t.engine}] inserted ${TOTAL} assessments in ${Date.now() - started} ms`);
      await app.listen({ port: 0, host: '127.0.0.1' });
      baseUrl = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
    }, 120_000);

    it('streams every page to a complete CSV', { timeout: 120_000 }, async () => {
      const started = Date.now();
      const res = await fetch(`${baseUrl}/v1/exports/detailed/assessments.csv`, {
        headers: { authorization: `Bearer ${big.exporter.token}`, 'accept-encoding': 'identity' },
      });
      expect(res.status).toBe(200);
      const reader = (res.body as ReadableStream<Uint8Array>).getReader();
      const decoder = new TextDecoder();
      let lines = 0;
      let bytes = 0;
      let tail = '';
      let sample = '';
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        bytes += value.byteLength;
        const text = tail + decoder.decode(value, { stream: true });
        const parts = text.split('\r\n');
        tail = parts.pop() ?? '';
        lines += parts.length;
        if (lines > 1000 && sample === '') sample = parts[1] ?? '';
      }
      console.info(
        `[${t.engine}] exported ${lines - 1} rows, ${(bytes / 1e6).toFixed(1)} MB in ${Date.now() - started} ms`,
      );
      expect(tail).toBe('');
      expect(lines).toBe(TOTAL + 1);
      expect(sample.split(',')).toHaveLength(detailedColumns.length);
      expect(sample).not.toContain('Fortrolig');
      const line = await waitForLog(logs, (l) => l.msg === 'export completed' && l.rows === TOTAL);
      expect(line).toMatchObject({
        format: 'csv',
        pages: TOTAL / EXPORT_PAGE_SIZE,
        completed: true,
      });
    });

    it('a client aborting mid-export leaves no open transaction or connection', async () => {
      const openConnections = () =>
        new Promise<number>((resolve, reject) =>
          app.server.getConnections((error, n) => (error ? reject(error) : resolve(n))),
        );
      const connectionsBefore = await openConnections();
      // A plain HTTP client without keep-alive: it reads the first chunk, then hangs up.
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.get(
          `${baseUrl}/v1/exports/detailed/assessments.ndjson?gzip=true`,
          { agent: false, headers: { authorization: `Bearer ${big.exporter.token}` } },
          (res) => {
            res.once('data', () => {
              req.destroy();
              resolve(res.statusCode ?? 0);
            });
          },
        );
        req.on('error', (error) => {
          if (!req.destroyed) reject(error);
        });
      });
      expect(status).toBe(200);

      // The server stops at the next page and says so.
      const aborted = await waitForLog(logs, (l) => l.msg === 'export aborted');
      expect(aborted).toMatchObject({ format: 'ndjson', gzip: true, completed: false });
      expect(aborted?.rows as number).toBeLessThan(TOTAL);
      expect(await openConnections()).toBe(connectionsBefore);

      if (t.engine === 'postgres') {
        // Nothing of the app's role is running or holds a transaction open.
        const busy = await t.asOwner(async (db) => {
          const { rows } = await sql<{ state: string; query: string }>`
            SELECT state, query FROM pg_stat_activity
            WHERE datname = current_database() AND usename = ${TEST_APP_ROLE}
              AND state IS DISTINCT FROM 'idle'
          `.execute(db);
          return rows;
        });
        expect(busy).toEqual([]);
      }
      // The database answers the next request at once (PGlite has a single connection).
      const started = Date.now();
      const next = await get(
        `/v1/exports/detailed/assessments.csv?unitIds=${f.nursery.id}`,
        big.exporter.token,
      );
      expect(next.statusCode).toBe(200);
      expect(Date.now() - started).toBeLessThan(3000);
      const again = await get('/v1/exports/detailed/assessments.ndjson', f.exporter.token);
      expect(ndjsonToRows(again.body)).toEqual(f.expected);
    });
  });
});
