/**
 * `npx tsx bench/hidden-cells.ts [--children N] [--seed S]`: the share of hidden cells in the
 * analytics' default views and the re-identification risk of the default row export, on the
 * demo municipality (an embedded database in memory). Figures for issue notes and the README:
 * run before and after a change to the suppression rules.
 */
import { parseArgs } from 'node:util';
import { buildApp } from '../src/app.js';
import { openEmbeddedDatabase } from '../src/db/pglite.js';
import { createDemoData } from '../src/demo/generate.js';
import { syncPresetGuides } from '../src/features/guides/service.js';
import { syncPresetRulers } from '../src/features/rulers/service.js';

const { values } = parseArgs({
  options: { children: { type: 'string' }, seed: { type: 'string' } },
});
const children = Number(values.children ?? 300);
const seed = Number(values.seed ?? 42);

interface CellLike {
  value: number | null;
  suppressed: boolean;
}
const isCell = (v: unknown): v is CellLike =>
  typeof v === 'object' && v !== null && 'suppressed' in v && 'value' in v;

/** Every published cell of a response, wherever it sits. */
function cells(value: unknown, out: CellLike[] = []): CellLike[] {
  if (isCell(value)) out.push(value);
  else if (Array.isArray(value)) for (const v of value) cells(v, out);
  else if (typeof value === 'object' && value !== null) {
    // A row's coarser fallback group is counted apart (below), not as cells of the view.
    for (const [k, v] of Object.entries(value)) if (k !== 'coarser') cells(v, out);
  }
  return out;
}

const database = await openEmbeddedDatabase({});
await syncPresetRulers(database);
await syncPresetGuides(database);
const app = await buildApp({
  config: {
    bodyLimitBytes: 1024 * 1024,
    trustProxy: false,
    rateLimit: { max: 0, windowMs: 60_000 },
  },
  database,
  cprSecret: 'hidden-cells-measurement-secret-0123456789',
});
const demo = await createDemoData(app, database, { children, seed });
const auth = { authorization: `Bearer ${demo.analystToken}` };
const get = async (url: string) => {
  const res = await app.inject({ method: 'GET', url, headers: auth });
  if (res.statusCode !== 200) throw new Error(`${url}: ${res.statusCode} ${res.body}`);
  return res;
};

const rounds = demo.rounds;
const views: Array<[string, string]> = [
  ['zone shares by round (default)', '/v1/analytics/zone-distribution'],
  ['zone by round × district', '/v1/analytics/zone-distribution?groupBy=round,district'],
  ['zone by round × unit', '/v1/analytics/zone-distribution?groupBy=round,unit'],
  ['zone by round × age band × sex', '/v1/analytics/zone-distribution?groupBy=round,ageBand,sex'],
  ...rounds
    .slice(1)
    .map((r, i): [string, string] => [
      `transitions ${rounds[i]?.name} → ${r.name}`,
      `/v1/analytics/transitions?fromRoundId=${rounds[i]?.id}&toRoundId=${r.id}`,
    ]),
  ['coverage by round × unit (default)', '/v1/analytics/coverage'],
  ['early detection (default)', '/v1/analytics/early-detection'],
  ['follow-through by unit (default)', '/v1/analytics/follow-through'],
  ['concern reports (default)', '/v1/analytics/concern-reports'],
];
console.log(`Demo: ${children} children, seed ${seed}, ${demo.counts.assessments} assessments\n`);
console.log('view | cells | hidden | share | rows with a hidden cell and a coarser group offered');
for (const [name, url] of views) {
  const body = (await get(url)).json();
  const all = cells(body);
  const hidden = all.filter((c) => c.suppressed).length;
  const pct = all.length === 0 ? 0 : (100 * hidden) / all.length;
  const rows = (body.rows ?? []) as Array<{ coarser?: unknown }>;
  const withHidden = rows.filter((r) => cells(r).some((c) => c.suppressed));
  const offered = withHidden.filter((r) => r.coarser !== undefined).length;
  console.log(
    `${name} | ${all.length} | ${hidden} | ${pct.toFixed(1)} % | ${offered} of ${withHidden.length}`,
  );
}

const exported = await get('/v1/exports/assessments.csv');
const csv = exported.body.trim().split('\r\n');
const header = (csv[0] ?? '').split(',');
const qi = ['round_id', 'district', 'unit_kind', 'age_band', 'sex'].map((c) => header.indexOf(c));
const classes = new Map<string, number>();
for (const line of csv.slice(1)) {
  const fields = line.split(',');
  const key = qi.map((i) => fields[i]).join('|');
  classes.set(key, (classes.get(key) ?? 0) + 1);
}
const smallest = Math.min(...classes.values());
console.log(
  `\ndefault export: ${csv.length - 1} rows in ${classes.size} classes of round, district, ` +
    `unit kind, age band and sex (smallest ${smallest}); ` +
    `generalised ${exported.headers['lineal-export-generalised']}, ` +
    `suppressed ${exported.headers['lineal-export-suppressed']}`,
);
await app.close();
await database.close();
