import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DuckDBInstance } from '@duckdb/node-api';
import type { FastifyRequest } from 'fastify';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { ApiKeyCache } from '../../src/auth/api-key-cache.js';
import type { Principal } from '../../src/auth/principal.js';
import { createDemoData, type DemoResult } from '../../src/demo/generate.js';
import {
  answerColumnSpecs,
  detailedColumnSpecs,
  exportColumnSpecs,
} from '../../src/features/exports/columns.js';
import { openAssessmentExport } from '../../src/features/exports/service.js';
import { Runner } from '../../src/request/runner.js';
import { Session } from '../../src/request/session.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { createKey } from '../support/factories.js';

/*
 * The exports as analysts read them: DuckDB (its Node.js API) opens the CSV, the NDJSON and the
 * Parquet without options, and finds the same rows, with the types of the data dictionary.
 */

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'lineal-exports-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const duckdbTypes: Record<string, string> = {
  string: 'VARCHAR',
  integer: 'INTEGER',
  number: 'DOUBLE',
  date: 'DATE',
  list: 'VARCHAR[]',
  boolean: 'BOOLEAN',
};

/** The column types DuckDB reads from a Parquet file are those of the data dictionary. */
async function expectTypes(
  duck: Awaited<ReturnType<DuckDBInstance['connect']>>,
  file: string,
  specs: readonly { name: string; type: string }[],
) {
  const described = await duck.runAndReadAll(`DESCRIBE SELECT * FROM ${file}`);
  const types = Object.fromEntries(
    described.getRowObjects().map((r) => [String(r.column_name), String(r.column_type)]),
  );
  expect(types).toEqual(Object.fromEntries(specs.map((c) => [c.name, duckdbTypes[c.type]])));
}

describeEngines('exports in analysts’ formats', (t) => {
  let demo: DemoResult;
  let admin: string;
  beforeAll(async () => {
    t.clock.set('2026-11-22T09:00:00.000Z');
    demo = await createDemoData(t.app, t.database, {
      children: 80,
      seed: 7,
      today: new Date('2026-11-22T09:00:00.000Z'),
    });
    admin = (
      await createKey(t, demo.municipalityId, 'municipality_admin', { token: demo.adminToken })
    ).token;
  }, 120_000);

  const download = async (url: string, token: string, file: string) => {
    const res = await t.call('GET', url, { token, headers: { 'accept-encoding': 'identity' } });
    expect(res.statusCode, res.body.slice(0, 300)).toBe(200);
    await writeFile(path.join(dir, file), res.rawPayload);
    return res;
  };

  it('reads the same rows from CSV, NDJSON and Parquet, typed as the dictionary says', async () => {
    const base = '/v1/exports/assessments';
    const csv = await download(`${base}.csv`, demo.analystToken, `${t.engine}.csv`);
    await download(`${base}.ndjson`, demo.analystToken, `${t.engine}.ndjson`);
    const parquet = await download(`${base}.parquet`, demo.analystToken, `${t.engine}.parquet`);
    expect(parquet.headers['content-type']).toBe('application/vnd.apache.parquet');
    expect(parquet.rawPayload.subarray(0, 4).toString()).toBe('PAR1');
    expect(parquet.headers['lineal-export-rows']).toBe(csv.headers['lineal-export-rows']);

    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();
    const file = (ext: string) => `'${path.join(dir, `${t.engine}.${ext}`)}'`;
    await expectTypes(duck, file('parquet'), exportColumnSpecs);
    const count = async (ext: string) =>
      Number(
        (await duck.runAndReadAll(`SELECT count(*) AS n FROM ${file(ext)}`)).getRows()[0]?.[0],
      );
    const rows = Number(csv.headers['lineal-export-rows']);
    expect(rows).toBeGreaterThan(50);
    expect(await count('parquet')).toBe(rows);
    expect(await count('csv')).toBe(rows);
    expect(await count('ndjson')).toBe(rows);

    // Row for row the same (flags as a list in Parquet and NDJSON, one field in CSV).
    const canonical = `round_id, round_name, round_start::DATE AS round_start, district,
      unit_kind, age_band, sex, ruler_key, zone, level::INTEGER AS level,
      score::DOUBLE AS score, red_flag_count::INTEGER AS red_flag_count`;
    const listed = (ext: string) =>
      `SELECT ${canonical}, array_to_string(flags, ',') AS flags FROM ${file(ext)}`;
    const fromCsv = `SELECT ${canonical}, coalesce(flags, '') AS flags FROM ${file('csv')}`;
    const difference = async (a: string, b: string) =>
      (
        await duck.runAndReadAll(`SELECT count(*) FROM ((${a}) EXCEPT ALL (${b}))`)
      ).getRows()[0]?.[0];
    expect(Number(await difference(listed('parquet'), fromCsv))).toBe(0);
    expect(Number(await difference(fromCsv, listed('parquet')))).toBe(0);
    expect(Number(await difference(listed('parquet'), listed('ndjson')))).toBe(0);
    // Every class of round, district, unit kind, age band, sex and zone has 5 rows or more.
    const smallest = await duck.runAndReadAll(
      `SELECT min(n) FROM (SELECT count(*) AS n FROM ${file('parquet')}
       GROUP BY round_id, district, unit_kind, age_band, sex, zone)`,
    );
    expect(Number(smallest.getRows()[0]?.[0])).toBeGreaterThanOrEqual(5);
    duck.closeSync();
  });

  it('publishes a data dictionary for each export, and a typed detailed Parquet', async () => {
    for (const [url, specs, token] of [
      ['/v1/exports/assessments.schema.json', exportColumnSpecs, demo.analystToken],
      ['/v1/exports/detailed/assessments.schema.json', detailedColumnSpecs, admin],
    ] as const) {
      const res = await t.call('GET', url, { token });
      expect(res.statusCode, res.body).toBe(200);
      const schema = res.json();
      expect(schema.fields.map((f: { name: string }) => f.name)).toEqual(specs.map((s) => s.name));
      expect(schema.missingValues).toEqual(['']);
    }
    const zone = (
      await t.call('GET', '/v1/exports/assessments.schema.json', {
        token: demo.analystToken,
      })
    )
      .json()
      .fields.find((f: { name: string }) => f.name === 'zone');
    expect(zone.constraints).toEqual({ required: false, enum: ['green', 'yellow', 'red'] });
    expect(
      (
        await t.call('GET', '/v1/exports/detailed/assessments.schema.json', {
          token: demo.analystToken,
        })
      ).statusCode,
    ).toBe(403);

    await download(
      '/v1/exports/detailed/assessments.parquet',
      admin,
      `${t.engine}-detailed.parquet`,
    );
    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();
    const file = `'${path.join(dir, `${t.engine}-detailed.parquet`)}'`;
    await expectTypes(duck, file, detailedColumnSpecs);
    const n = await duck.runAndReadAll(`SELECT count(*) FROM ${file}`);
    expect(Number(n.getRows()[0]?.[0])).toBe(demo.counts.assessments);
    duck.closeSync();
  });

  it('serves every aggregate as CSV too, hidden counts empty and flagged, never 0', async () => {
    const [r1, r2] = demo.rounds.slice(-2);
    const aggregates = [
      'zone-distribution?groupBy=round,district',
      `transitions?fromRoundId=${r1?.id}&toRoundId=${r2?.id}`,
      'coverage',
      'early-detection',
      'follow-through',
      'concern-reports',
    ];
    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();
    for (const [i, query] of aggregates.entries()) {
      const [name, params = ''] = query.split('?');
      const json = await t.call('GET', `/v1/analytics/${name}?${params}`, {
        token: demo.analystToken,
      });
      expect(json.statusCode, json.body).toBe(200);
      const csv = await download(
        `/v1/analytics/${name}.csv?${params}`,
        demo.analystToken,
        `${t.engine}-aggregate-${i}.csv`,
      );
      expect(csv.headers['content-type']).toMatch(/^text\/csv/);
      const body = json.json();
      const file = `'${path.join(dir, `${t.engine}-aggregate-${i}.csv`)}'`;
      const lines = await duck.runAndReadAll(`SELECT * FROM ${file}`);
      const rows = lines.getRowObjectsJson() as Array<Record<string, unknown>>;
      expect(rows, name).toHaveLength(body.rows.length + (body.overall ? 1 : 0));
      // A hidden count: an empty field next to <name>_suppressed = true.
      for (const row of rows) {
        for (const [column, value] of Object.entries(row)) {
          if (!column.endsWith('_suppressed')) continue;
          const figure = row[column.slice(0, -'_suppressed'.length)];
          if (value === true) expect(figure, `${name} ${column}`).toBeNull();
          else expect(figure, `${name} ${column}`).not.toBeNull();
        }
      }
      if (name === 'zone-distribution') {
        // (DuckDB reads the counts as BIGINT, which its JSON rows give as strings.)
        expect(rows.map((r) => (r.counts_green === null ? null : Number(r.counts_green)))).toEqual(
          body.rows.map(
            (r: { counts: { green: { value: number | null } } }) => r.counts.green.value,
          ),
        );
        expect(Object.keys(rows[0] ?? {})).toEqual(
          expect.arrayContaining(['row', 'round_id', 'round_name', 'round_start', 'district']),
        );
      }
      if (name === 'transitions') {
        expect(Object.keys(rows[0] ?? {})).toContain('matrix_green_yellow');
      }
    }
    duck.closeSync();
  });

  it('groups by calendar year', async () => {
    const years = (
      await t.call('GET', '/v1/analytics/zone-distribution?groupBy=year', {
        token: demo.analystToken,
      })
    ).json();
    const byRound = (
      await t.call('GET', '/v1/analytics/zone-distribution', {
        token: demo.analystToken,
      })
    ).json();
    // The demo's three rounds: autumn 2025, spring and autumn 2026.
    expect(years.rows.map((r: { group: { year: number } }) => r.group.year)).toEqual([2025, 2026]);
    const total = (rows: { total: { value: number } }[]) =>
      rows.reduce((n, r) => n + r.total.value, 0);
    expect(total(years.rows)).toBe(total(byRound.rows));
    const [autumn2025] = byRound.rows;
    expect(years.rows[0].total).toEqual(autumn2025.total);
    for (const aggregate of ['early-detection', 'follow-through', 'concern-reports']) {
      const res = await t.call('GET', `/v1/analytics/${aggregate}?groupBy=year`, {
        token: demo.analystToken,
      });
      expect(res.statusCode, res.body).toBe(200);
      for (const row of res.json().rows) expect(row.group.year).toBeGreaterThan(2020);
    }
  });

  it('exports item answers in long format, released as the assessments are', async () => {
    const base = '/v1/exports/answers';
    const parquet = await download(
      `${base}.parquet`,
      demo.analystToken,
      `${t.engine}-answers.parquet`,
    );
    await download(`${base}.csv`, demo.analystToken, `${t.engine}-answers.csv`);
    const assessments = await t.call('GET', '/v1/exports/assessments.csv', {
      token: demo.analystToken,
    });
    expect(parquet.headers['lineal-export-rows']).toBe(assessments.headers['lineal-export-rows']);
    const db = await DuckDBInstance.create(':memory:');
    const duck = await db.connect();
    const file = (ext: string) => `'${path.join(dir, `${t.engine}-answers.${ext}`)}'`;
    await expectTypes(duck, file('parquet'), answerColumnSpecs);
    const [summary] = (
      await duck.runAndReadAll(
        `SELECT count(*) AS items, count(DISTINCT assessment) AS assessments,
                count(*) FILTER (WHERE domain IS NOT NULL) AS with_domain,
                count(*) FILTER (WHERE answer IS NULL AND NOT not_applicable) AS unexplained
         FROM ${file('parquet')}`,
      )
    ).getRowObjectsJson() as Array<Record<string, string>>;
    expect(Number(summary?.items)).toBeGreaterThan(0);
    expect(Number(summary?.with_domain)).toBeGreaterThan(0);
    expect(Number(summary?.unexplained)).toBe(0);
    // Every assessment's class as in the default export (which has 5 or more of each).
    const [same] = (
      await duck.runAndReadAll(
        `SELECT count(*) AS n FROM (
           SELECT DISTINCT round_id, district, unit_kind, age_band, sex, zone
           FROM ${file('parquet')}
           EXCEPT
           SELECT round_id, district, unit_kind, age_band, sex, zone
           FROM read_csv(${file('csv')}))`,
      )
    ).getRowObjectsJson() as Array<Record<string, string>>;
    expect(Number(same?.n)).toBe(0);
    expect(
      Number(
        await duck
          .runAndReadAll(`SELECT count(*) FROM ${file('csv')}`)
          .then((r) => r.getRows()[0]?.[0]),
      ),
    ).toBe(Number(summary?.items));
    duck.closeSync();
  });

  it('gives the same bytes however many pages it is read in', async () => {
    const { id: analystId } = (await t.call('GET', '/v1/me', { token: demo.analystToken })).json()
      .principal as { id: string };
    for (const [detail, url] of [
      ['default', '/v1/exports/assessments.ndjson'],
      ['answers', '/v1/exports/answers.ndjson'],
      ['default', '/v1/exports/assessments.parquet'],
    ] as const) {
      const format = url.endsWith('.parquet') ? 'parquet' : 'ndjson';
      const principal: Principal = {
        kind: 'api_key',
        id: analystId,
        role: 'analyst',
        municipalityId: demo.municipalityId,
        unitIds: [],
        requestId: `pages-${t.engine}-${detail}-${format}`,
      };
      const request = {
        session: new Session(principal, t.clock.now(), TEST_CPR_SECRET),
        method: 'GET',
        params: {},
        routeOptions: { url, config: { audit: { resource: 'export', action: 'export' } } },
      } as unknown as FastifyRequest;
      const { stream } = await new Runner(t.database, TEST_CPR_SECRET, new ApiKeyCache()).runThen(
        request,
        openAssessmentExport,
        { filter: {}, format, detail, signal: new AbortController().signal, pageSize: 7 },
      );
      const chunks: Buffer[] = [];
      for await (const chunk of stream) chunks.push(chunk as Buffer);
      const paged = Buffer.concat(chunks);
      const whole = (
        await t.call('GET', url, {
          token: demo.analystToken,
          headers: { 'accept-encoding': 'identity' },
        })
      ).rawPayload;
      if (format === 'ndjson') expect(paged.toString()).toBe(whole.toString());
      else {
        // Parquet row groups follow the pages: compare what DuckDB reads instead.
        await writeFile(path.join(dir, `${t.engine}-paged.parquet`), paged);
        await writeFile(path.join(dir, `${t.engine}-whole.parquet`), whole);
        const db = await DuckDBInstance.create(':memory:');
        const duck = await db.connect();
        const read = (name: string) =>
          `SELECT * FROM '${path.join(dir, `${t.engine}-${name}.parquet`)}'`;
        const diff = await duck.runAndReadAll(
          `SELECT count(*) FROM ((${read('paged')}) EXCEPT ALL (${read('whole')}))`,
        );
        expect(Number(diff.getRows()[0]?.[0])).toBe(0);
        const count = async (name: string) =>
          String(
            (await duck.runAndReadAll(`SELECT count(*) FROM (${read(name)})`)).getRows()[0]?.[0],
          );
        expect(await count('paged')).toBe(await count('whole'));
        duck.closeSync();
      }
    }
  });
});
