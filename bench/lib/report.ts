import type { CpuUse } from './cpu.js';
import type { ServiceExportStats, StreamStats } from './export.js';
import type { IntegrationResults } from './integration.js';
import type { WriteCheck } from './integrity.js';
import type { HttpStats, SequentialStats } from './load.js';
import type { Machine } from './machine.js';
import type { BenchOptions } from './options.js';
import type { WorkPerRequest } from './postgres.js';
import type { ReplayStats } from './replay.js';
import type { SeedCounts } from './seed.js';
import { round } from './stats.js';

export interface SubmissionCase {
  concurrency: number;
  service: HttpStats;
  baseline: ReplayStats;
  writes: WriteCheck;
}

export interface AggregatePoint {
  multiple: number;
  children: number;
  assessments: number;
  zoneDistribution: SequentialStats;
  transitions: SequentialStats;
  /**
   * Requests after a change (a unit renamed), median ms: a question asked before (the kept
   * answer, while the new one is computed in the background) and a question not asked before
   * (waits for the protected cube computed anew).
   */
  cold?: {
    zoneDistribution: number;
    transitions: number;
    zoneComputed: number;
    transitionsComputed: number;
    samples: number;
  };
}

export interface ExportPoint {
  multiple: number;
  expectedRows: number;
  /** Median run by rows/s; every run is listed in `serviceRuns` / `psqlRuns`. */
  service: ServiceExportStats;
  /** The same rows as Parquet (issue 17), measured in the same runs. */
  parquet: ServiceExportStats;
  psql: StreamStats;
  /** The service's RSS (MiB) in the run with the highest peak. */
  memory: {
    rows: number;
    bytes: number;
    beforeMiB: number;
    peakMiB: number;
    firstHalfPeakMiB: number;
    secondHalfPeakMiB: number;
  };
  serviceRuns: ServiceExportStats[];
  parquetRuns: ServiceExportStats[];
  psqlRuns: StreamStats[];
}

export interface PgliteResults {
  children: number;
  assessments: number;
  seedSeconds: number;
  submission: Array<{ concurrency: number; service: HttpStats; writes: WriteCheck }>;
  timeline: HttpStats;
  healthz: HttpStats;
}

export interface TargetCheck {
  name: string;
  target: string;
  value: string;
  holds: boolean;
}

export interface Results {
  mode: BenchOptions['mode'];
  startedAt: string;
  finishedAt: string;
  durationSeconds: number;
  options: Omit<BenchOptions, 'resultsDir'>;
  machine: Machine;
  service: { databasePoolMax: number; nodeEnv: string; logLevel: string; rateLimit: string };
  data: { multiple: number; counts: SeedCounts; databaseBytes?: number; vacuumSeconds?: number }[];
  submission: SubmissionCase[];
  /** The statements one submission issues per level, as replayed by the direct-pg baseline. */
  baselineStatements: Array<{ level: number; created: number; statements: string[] }>;
  /**
   * The statements one request issues in the steady state (its key used just before), recorded
   * through Kysely's log hook on PostgreSQL: one line each, those inside a transaction indented.
   */
  requestStatements: {
    timeline: string[];
    worklist: string[];
    submission: Array<{ level: number; statements: string[] }>;
  } | null;
  reads: {
    concurrency: number;
    healthz: HttpStats;
    timeline: HttpStats;
    /** The timeline's own statements replayed with `pg` (no HTTP): the database's limit. */
    timelineDirect: ReplayStats;
    /**
     * Only the timeline's audit INSERT in its scoped transaction, replayed with `pg`: the least an
     * audited read costs (`null` when the read writes its audit entry within another statement).
     */
    auditOnly: ReplayStats | null;
    timelineStatements: string[];
    worklist: HttpStats;
    /** Open steps per measured unit (mean) for `worklist`. */
    worklistOpenSteps: number;
    /** The same worklist pages with the units' open steps grown `multiple` times. */
    worklistGrown: { multiple: number; openSteps: number; stats: HttpStats };
    /** Transactions the database saw while /healthz was measured (it should do no DB work). */
    healthzDatabaseTransactions: number;
    worklistUnits: number;
  } | null;
  exports: ExportPoint[];
  aggregates: AggregatePoint[];
  /** --history N: submission (c=16) and the timeline measured again with the data at N×. */
  history: { multiple: number; submission: HttpStats | null; timeline: HttpStats | null } | null;
  /** Issue 15: bulk against single submissions, the roster import against COPY. */
  integration: IntegrationResults | null;
  pglite: PgliteResults | null;
  errors: string[];
  targets: TargetCheck[];
  ok: boolean;
}

const n = (value: number, digits = 3) => round(value, digits).toLocaleString('en-US');
const ms = (value: number) => `${n(value)} ms`;
const ratio = (a: number, b: number) => (b > 0 ? a / b : Number.NaN);
const withSign = (value: number) => `${value >= 0 ? '+' : ''}${n(value)}`;
const mark = (holds: boolean) => (holds ? '✅ holds' : '❌ misses');

/** CPU per request (ms) of the service and of PostgreSQL, where they were measured. */
function cpuPer(use: CpuUse, count: number, unit: string, harness?: string): string {
  if (count <= 0) return '';
  const parts: string[] = [];
  if (use.serviceSeconds !== null)
    parts.push(`service ${n((use.serviceSeconds * 1000) / count)} ms`);
  if (use.databaseSeconds !== null) {
    parts.push(`PostgreSQL ${n((use.databaseSeconds * 1000) / count)} ms`);
  }
  if (harness) parts.push(`${harness} ${n((use.harnessSeconds * 1000) / count)} ms`);
  return parts.length ? `; CPU/${unit}: ${parts.join(', ')}` : '';
}

function cpu(stats: HttpStats): string {
  return cpuPer(stats.cpu, stats.ok, 'req', 'autocannon');
}

function http(stats: HttpStats): string {
  return `${n(stats.rps)} req/s · p50 ${ms(stats.p50)} · p99 ${ms(stats.p99)}`;
}

function replay(stats: ReplayStats): string {
  return (
    `${n(stats.rps)} tx/s · p50 ${ms(stats.p50)} · p99 ${ms(stats.p99)}` +
    cpuPer(stats.cpu, stats.completed, 'tx', 'pg client')
  );
}

function seq(stats: SequentialStats): string {
  return `p50 ${ms(stats.p50)} · p99 ${ms(stats.p99)} (n=${stats.count})`;
}

/** Statements per request before issue 13 (its review): the row's point of comparison. */
export const STATEMENTS_BEFORE = { timeline: 7, submission: 21, worklist: 7 } as const;

/** Issue 13: at most 4 statements per read; the submission without its 3 re-reads of rows it wrote. */
export const STATEMENT_TARGETS = { timeline: 4, worklist: 4, submission: 18 } as const;

/** PostgreSQL CPU per page (ms), of every page answered in the case. */
export function databaseMsPerRequest(stats: HttpStats): number {
  return stats.cpu.databaseSeconds !== null && stats.ok > 0
    ? (stats.cpu.databaseSeconds * 1000) / stats.ok
    : Number.NaN;
}

/** "Flat memory" for the import: the service grows by less than this, whatever the file size. */
export const IMPORT_RSS_GROWTH_MIB = 64;
/** …and its second half needs no more than its first (plus noise). */
export const IMPORT_RSS_LATER_MIB = 16;

/** The targets of the issues, evaluated on the results (at the base data size). */
export function evaluateTargets(r: Results): TargetCheck[] {
  const targets: TargetCheck[] = [];
  const statements = r.requestStatements;
  if (statements) {
    const submission = Math.max(...statements.submission.map((s) => s.statements.length));
    for (const [label, key, count] of [
      ['timeline read', 'timeline', statements.timeline.length],
      ['worklist page', 'worklist', statements.worklist.length],
      ['submission (most of the three levels)', 'submission', submission],
    ] as const) {
      targets.push({
        name: `Statements per request: ${label}`,
        target: `≤ ${STATEMENT_TARGETS[key]}`,
        value: String(count),
        holds: count <= STATEMENT_TARGETS[key],
      });
    }
  }
  const c64 = r.submission.find((s) => s.concurrency === 64);
  if (c64) {
    const throughput = ratio(c64.service.rps, c64.baseline.rps);
    targets.push({
      name: 'Submission throughput at c=64 vs its SQL replayed with pg',
      target: '≥ 0.8×',
      value: `${n(throughput, 2)}×`,
      holds: throughput >= 0.8,
    });
    const spread = ratio(c64.service.p99, c64.service.p50);
    targets.push({
      name: 'Submission p99 / p50 at c=64',
      target: '≤ 4',
      value: n(spread, 2),
      holds: spread <= 4,
    });
  }
  if (r.reads) {
    const timeline = ratio(r.reads.timeline.rps, r.reads.timelineDirect.rps);
    targets.push({
      name: 'Timeline throughput vs its SQL replayed with pg',
      target: '≥ 0.8×',
      value: `${n(timeline, 2)}×`,
      holds: timeline >= 0.8,
    });
    const grown = r.reads.worklistGrown;
    const growth = ratio(databaseMsPerRequest(grown.stats), databaseMsPerRequest(r.reads.worklist));
    targets.push({
      name: `Worklist: PostgreSQL CPU per page at ${grown.multiple}× the unit's open steps / 1×`,
      target: '≤ 1.5×',
      value: `${n(growth, 2)}×`,
      holds: growth <= 1.5,
    });
  }
  const base = r.aggregates.find((a) => a.multiple === 1);
  const ten = r.aggregates.find((a) => a.multiple === 10);
  if (base && ten) {
    for (const [label, key] of [
      ['Zone distribution', 'zoneDistribution'],
      ['Transitions', 'transitions'],
    ] as const) {
      const growth = ratio(ten[key].p50, base[key].p50);
      targets.push({
        name: `${label}: latency at 10× data / 1× (p50)`,
        target: '≤ 2×',
        value: `${n(growth, 2)}×`,
        holds: growth <= 2,
      });
    }
  }
  const export1 = r.exports.find((e) => e.multiple === 1);
  if (export1) {
    const throughput = ratio(export1.service.rowsPerSecond, export1.psql.rowsPerSecond);
    targets.push({
      name: 'CSV export rows/s vs psql COPY',
      target: '≥ 0.7×',
      value: `${n(throughput, 2)}×`,
      holds: throughput >= 0.7,
    });
    const parquet = ratio(export1.parquet.rowsPerSecond, export1.psql.rowsPerSecond);
    targets.push({
      name: 'Parquet export rows/s vs psql COPY',
      target: '≥ 0.5×',
      value: `${n(parquet, 2)}×`,
      holds: parquet >= 0.5,
    });
    // Flat: the peak RSS does not rise with 10× the rows (buffering would add at least the
    // body's size). RSS rises and falls with garbage collection, so peaks are compared; the
    // trend within the largest export (second half vs first) is shown too.
    const largest = r.exports.at(-1) ?? export1;
    const withData = largest.memory.peakMiB - export1.memory.peakMiB;
    const trend = largest.memory.secondHalfPeakMiB - largest.memory.firstHalfPeakMiB;
    const sizes =
      largest === export1
        ? `${n(export1.memory.peakMiB)} MiB`
        : `${n(export1.memory.peakMiB)} MiB at 1× (${n(export1.memory.rows)} rows) → ` +
          `${n(largest.memory.peakMiB)} MiB at ${largest.multiple}× (${n(largest.memory.rows)} rows, ` +
          `${n(largest.memory.bytes / 1024 ** 2)} MiB streamed)`;
    targets.push({
      name: 'Service memory flat while streaming',
      target: `peak RSS at ${largest.multiple}× ≤ peak at 1× + 64 MiB`,
      value: `peak RSS ${sizes}: ${withSign(withData)} MiB; within the largest export, 2nd-half peak ${withSign(trend)} MiB over the 1st`,
      holds: withData <= 64,
    });
  }
  const pglite16 = r.pglite?.submission.find((s) => s.concurrency === 16);
  if (pglite16) {
    targets.push({
      name: 'PGlite: submission p99 at c=16',
      target: '≤ 1,000 ms',
      value: ms(pglite16.service.p99),
      holds: pglite16.service.p99 <= 1000,
    });
  }
  const checks = [
    ...r.submission.map((s) => s.writes),
    ...(r.pglite?.submission.map((s) => s.writes) ?? []),
  ];
  const lost = checks.reduce((sum, c) => sum + c.lost, 0);
  const bad = checks.filter((c) => !c.ok).length;
  const integration = r.integration;
  if (integration) {
    const b = integration.bulk;
    targets.push({
      name: 'Bulk assessments ≥ 2× one by one (same items, same concurrency)',
      target: '≥ 2×',
      value: `${n(b.ratio)}× (${n(b.bulk.itemsPerSecond)} vs ${n(b.single.itemsPerSecond)} items/s, c=${b.concurrency})`,
      holds: b.ratio >= 2,
    });
    const i = integration.import;
    targets.push({
      name: `Roster import ≥ 0.3× COPY (${n(i.rows)} rows)`,
      target: '≥ 0.3×',
      value: `${n(i.ratio)}× (${n(i.import.rowsPerSecond)} vs ${n(i.copy.rowsPerSecond)} rows/s)`,
      holds: i.ratio >= 0.3,
    });
    const rss = i.import.rssKiB;
    const growthMiB = (rss.peak - rss.before) / 1024;
    const laterMiB = (rss.secondHalfPeak - rss.firstHalfPeak) / 1024;
    targets.push({
      name: 'Roster import memory flat (service RSS: growth, second half over first)',
      target: `≤ ${IMPORT_RSS_GROWTH_MIB} MiB, ≤ ${IMPORT_RSS_LATER_MIB} MiB`,
      value: `+${n(growthMiB)} MiB, ${withSign(laterMiB)} MiB (${n(rss.before / 1024)} → peak ${n(rss.peak / 1024)} MiB; file ${n(i.fileBytes / 2 ** 20)} MiB)`,
      holds: growthMiB <= IMPORT_RSS_GROWTH_MIB && laterMiB <= IMPORT_RSS_LATER_MIB,
    });
  }
  targets.push({
    name: 'No errors, no lost writes (every run)',
    target: '0',
    value: `${r.errors.length} errors, ${lost} lost writes, ${bad} failed write checks`,
    holds: r.errors.length === 0 && lost === 0 && bad === 0,
  });
  return targets;
}

/** The one table: every case with its baseline, the ratio and, where the issue sets one, the target. */
export function markdownTable(r: Results): string {
  const rows: string[][] = [];
  const target = (name: string) => r.targets.find((t) => t.name.startsWith(name));
  const targetCells = (t: TargetCheck | undefined): [string, string] =>
    t ? [t.target, mark(t.holds)] : ['—', ''];

  const statements = r.requestStatements;
  if (statements) {
    const perLevel = statements.submission
      .map((s) => `level ${s.level}: ${s.statements.length}`)
      .join(', ');
    for (const [label, key, detail] of [
      ['timeline read', 'timeline', ''],
      ['worklist page', 'worklist', ''],
      ['submission (most of the three levels)', 'submission', ` (${perLevel})`],
    ] as const) {
      const t = target(`Statements per request: ${label}`);
      rows.push([
        `0. Statements per request: ${label}`,
        `${t?.value ?? '?'}${detail}`,
        `before issue 13: ${STATEMENTS_BEFORE[key]}`,
        '',
        ...targetCells(t),
      ]);
    }
  }

  for (const s of r.submission) {
    const t = s.concurrency === 64 ? target('Submission throughput at c=64') : undefined;
    rows.push([
      `1. Submit assessment, c=${s.concurrency}`,
      `${http(s.service)}${cpu(s.service)}`,
      `direct pg: ${replay(s.baseline)}`,
      `${n(ratio(s.service.rps, s.baseline.rps), 2)}×`,
      ...targetCells(t),
    ]);
    if (s.concurrency === 64) {
      const spread = target('Submission p99 / p50');
      rows.push([
        '1. Submit assessment, c=64: p99 / p50',
        n(ratio(s.service.p99, s.service.p50), 2),
        `direct pg: ${n(ratio(s.baseline.p99, s.baseline.p50), 2)}`,
        '',
        ...targetCells(spread),
      ]);
    }
  }
  if (r.reads) {
    const h = r.reads.healthz;
    const d = r.reads.timelineDirect;
    rows.push([
      `2. Child timeline vs its own SQL, c=${r.reads.concurrency}`,
      `${http(r.reads.timeline)}${cpu(r.reads.timeline)}`,
      `direct pg (the ${r.reads.timelineStatements.length} statements of one timeline read, no HTTP): ${replay(d)}`,
      `${n(ratio(r.reads.timeline.rps, d.rps), 2)}×`,
      ...targetCells(target('Timeline throughput')),
    ]);
    rows.push([
      `2. Child timeline vs GET /healthz, c=${r.reads.concurrency}`,
      `${n(r.reads.timeline.rps, 0)} req/s`,
      `GET /healthz: ${http(h)}`,
      `${n(ratio(r.reads.timeline.rps, h.rps), 2)}×`,
      '—',
      '',
    ]);
    rows.push([
      `2. The timeline's SQL alone vs GET /healthz, c=${r.reads.concurrency}`,
      `direct pg: ${n(d.rps, 0)} tx/s`,
      `GET /healthz: ${n(h.rps, 0)} req/s`,
      `${n(ratio(d.rps, h.rps), 2)}×`,
      '—',
      '',
    ]);
    const audit = r.reads.auditOnly;
    if (audit) {
      rows.push([
        `2. An audited read's least work: the audit INSERT alone vs GET /healthz, c=${r.reads.concurrency}`,
        `direct pg (the INSERT in its scoped transaction): ${replay(audit)}`,
        `GET /healthz: ${n(h.rps, 0)} req/s`,
        `${n(ratio(audit.rps, h.rps), 2)}×`,
        '—',
        '',
      ]);
    }
    const w = r.reads.worklist;
    const g = r.reads.worklistGrown;
    rows.push([
      `2. Unit worklist (unit_leader key), c=${r.reads.concurrency}, ${n(r.reads.worklistOpenSteps, 0)} open steps per unit`,
      `${http(w)}${cpu(w)}`,
      `GET /healthz: ${http(h)}`,
      `${n(ratio(w.rps, h.rps), 2)}×`,
      '—',
      '',
    ]);
    rows.push([
      `2. Unit worklist, c=${r.reads.concurrency}, ${g.multiple}× the open steps (${n(g.openSteps, 0)} per unit)`,
      `${http(g.stats)}${cpu(g.stats)}`,
      `1× (${n(r.reads.worklistOpenSteps, 0)} per unit): ${http(w)}`,
      `${n(ratio(g.stats.rps, w.rps), 2)}× (req/s)`,
      '—',
      '',
    ]);
    const growth = target('Worklist: PostgreSQL CPU per page');
    rows.push([
      `2. ${growth?.name ?? 'Worklist: PostgreSQL CPU per page'}`,
      `${n(databaseMsPerRequest(g.stats))} ms at ${g.multiple}×`,
      `${n(databaseMsPerRequest(w))} ms at 1×`,
      growth?.value ?? '',
      ...targetCells(growth),
    ]);
  }
  const base = r.aggregates.find((a) => a.multiple === 1);
  for (const a of r.aggregates) {
    for (const [label, key, name] of [
      ['zone distribution (groupBy=round)', 'zoneDistribution', 'Zone distribution'],
      ['transitions (last two rounds)', 'transitions', 'Transitions'],
    ] as const) {
      const isBase = a.multiple === 1;
      const t = a.multiple === 10 ? target(name) : undefined;
      rows.push([
        `3. Analytics ${label}, ${a.multiple}× data (${n(a.assessments)} assessments)`,
        seq(a[key]),
        isBase || !base ? '' : `1×: p50 ${ms(base[key].p50)}`,
        isBase || !base ? '' : `${n(ratio(a[key].p50, base[key].p50), 2)}× (p50)`,
        ...targetCells(t),
      ]);
      if (a.cold) {
        const computed = key === 'zoneDistribution' ? 'zoneComputed' : 'transitionsComputed';
        for (const [what, k] of [
          ['asked before, after a change (the kept answer)', key],
          ['not asked before, after a change (cube computed)', computed],
        ] as const) {
          rows.push([
            `3. Analytics ${label}, ${a.multiple}× data, ${what}`,
            `median ${ms(a.cold[k])} (n=${a.cold.samples})`,
            isBase || !base?.cold ? '' : `1×: ${ms(base.cold[k])}`,
            isBase || !base?.cold ? '' : `${n(ratio(a.cold[k], base.cold[k]), 2)}×`,
            ...targetCells(undefined),
          ]);
        }
      }
    }
  }
  for (const e of r.exports) {
    const isBase = e.multiple === 1;
    rows.push([
      `4. CSV export of all assessments, ${e.multiple}× data (${n(e.service.rows)} rows)`,
      `${n(e.service.rowsPerSecond)} rows/s · ${n(e.service.seconds)} s · RSS ${n(e.memory.beforeMiB)} → peak ${n(e.memory.peakMiB)} MiB` +
        cpuPer(e.service.cpu, e.service.rows / 1000, '1k rows'),
      `psql COPY: ${n(e.psql.rowsPerSecond)} rows/s · ${n(e.psql.seconds)} s` +
        cpuPer(e.psql.cpu, e.psql.rows / 1000, '1k rows'),
      `${n(ratio(e.service.rowsPerSecond, e.psql.rowsPerSecond), 2)}×`,
      ...targetCells(isBase ? target('CSV export') : undefined),
    ]);
    rows.push([
      `4. Parquet export of all assessments, ${e.multiple}× data (${n(e.parquet.rows)} rows)`,
      `${n(e.parquet.rowsPerSecond)} rows/s · ${n(e.parquet.seconds)} s · peak ${n(e.parquet.rssPeakMiB)} MiB` +
        cpuPer(e.parquet.cpu, e.parquet.rows / 1000, '1k rows'),
      `psql COPY: ${n(e.psql.rowsPerSecond)} rows/s`,
      `${n(ratio(e.parquet.rowsPerSecond, e.psql.rowsPerSecond), 2)}×`,
      ...targetCells(isBase ? target('Parquet export') : undefined),
    ]);
  }
  const memory = target('Service memory flat');
  if (memory) rows.push([`4. ${memory.name}`, memory.value, '', '', ...targetCells(memory)]);
  if (r.pglite) {
    const p = r.pglite;
    for (const s of p.submission) {
      const pg = r.submission.find((x) => x.concurrency === s.concurrency);
      const t = s.concurrency === 16 ? target('PGlite: submission p99') : undefined;
      rows.push([
        `5. PGlite: submit assessment, c=${s.concurrency} (${n(p.children)} children)`,
        `${http(s.service)}${cpu(s.service)}`,
        pg ? `PostgreSQL service: ${http(pg.service)}` : '',
        pg ? `${n(ratio(s.service.rps, pg.service.rps), 2)}×` : '',
        ...(t ? ([`p99 ${t.target}`, mark(t.holds)] as [string, string]) : targetCells(t)),
      ]);
    }
    rows.push([
      `5. PGlite: child timeline, c=${p.timeline.connections}`,
      `${http(p.timeline)}${cpu(p.timeline)}`,
      `PGlite GET /healthz: ${http(p.healthz)}`,
      `${n(ratio(p.timeline.rps, p.healthz.rps), 2)}×`,
      '—',
      '',
    ]);
  }
  const integrity = target('No errors');
  if (integrity) rows.push(['Integrity', integrity.value, '', '', ...targetCells(integrity)]);

  const header = [
    'Case',
    'Service',
    'Baseline (same run, same machine)',
    'Ratio',
    'Target',
    'Holds',
  ];
  const cellText = (cell: string) => cell.replaceAll('|', '\\|');
  return [
    `| ${header.join(' | ')} |`,
    `| ${header.map(() => '---').join(' | ')} |`,
    ...rows.map((row) => `| ${row.map(cellText).join(' | ')} |`),
  ].join('\n');
}

export function markdownReport(r: Results): string {
  const m = r.machine;
  const base = r.data.find((d) => d.multiple === 1)?.counts;
  const lines = [
    `### Benchmark (${r.mode}) — ${r.startedAt.slice(0, 10)}`,
    '',
    `Machine: ${m.cpuModel}, ${m.cores} cores, ${m.memoryGiB} GiB RAM, ${m.os}; Node ${m.node}; ` +
      `PostgreSQL ${m.postgres}; PGlite ${m.pglite}; load average at start ${m.loadAverageAtStart}.`,
    `Run: ${r.startedAt} → ${r.finishedAt} (${n(r.durationSeconds)} s); warm-up ${r.options.warmupSeconds} s and ` +
      `${r.options.durationSeconds} s per case; seed ${r.options.seed}; --scale ${r.options.scale}.`,
    base
      ? `Data (1×): ${n(base.children)} children, ${n(base.units)} units, ${r.options.rounds} rounds, ` +
        `${n(base.assessments)} assessments, ${n(base.recommendations)} recommendations, ` +
        `${n(base.steps)} steps, ${n(base.flags)} flags.`
      : '',
    `Service: node dist/src/server.js, NODE_ENV=${r.service.nodeEnv}, LOG_LEVEL=${r.service.logLevel}, ` +
      `rate limit ${r.service.rateLimit}, DATABASE_POOL_MAX=${r.service.databasePoolMax}.`,
    '',
    markdownTable(r),
    '',
  ];
  const history = historyTable(r);
  if (history) lines.push(history, '');
  const integration = integrationTable(r);
  if (integration) lines.push(integration, '');
  if (r.errors.length > 0) {
    lines.push('Errors:', '', ...r.errors.map((e) => `- ${e}`), '');
  }
  return lines.join('\n');
}

/**
 * --history N: the same cases at 1× and N× data, their ratio (N× ÷ 1×: latency, or req/s for
 * throughput), the seeding time and the database size.
 */
export function historyTable(r: Results): string | null {
  const h = r.history;
  if (!h) return null;
  const one = r.data.find((d) => d.multiple === 1);
  const big = r.data.find((d) => d.multiple === h.multiple);
  const gib = (bytes: number | undefined) => (bytes ? `${n(bytes / 2 ** 30)} GiB` : '');
  const rows: string[][] = [];
  const c16 = r.submission.find((s) => s.concurrency === 16)?.service;
  // PostgreSQL's work per request: buffers touched (of them read from the kernel) and
  // execution time, from pg_stat_statements — independent of the machine's other load.
  const work = (label: string, a?: WorkPerRequest, b?: WorkPerRequest) => {
    if (!a || !b) return;
    const buffers = (w: WorkPerRequest) => `${n(w.buffers)} (${n(w.reads)} read)`;
    rows.push([
      `${label}: PostgreSQL buffers per request`,
      buffers(a),
      buffers(b),
      `${n(ratio(b.buffers, a.buffers))}×`,
    ]);
    rows.push([
      `${label}: PostgreSQL execution per request`,
      ms(a.execMs),
      ms(b.execMs),
      `${n(ratio(b.execMs, a.execMs))}×`,
    ]);
  };
  const pair = (label: string, a: HttpStats | undefined | null, b: HttpStats | null) => {
    if (!a || !b) return;
    rows.push([`${label}: req/s`, n(a.rps), n(b.rps), `${n(ratio(b.rps, a.rps))}×`]);
    rows.push([`${label}: p50`, ms(a.p50), ms(b.p50), `${n(ratio(b.p50, a.p50))}×`]);
    rows.push([`${label}: p99`, ms(a.p99), ms(b.p99), `${n(ratio(b.p99, a.p99))}×`]);
    work(label, a.database, b.database);
  };
  pair('POST /v1/assessments, c=16', c16, h.submission);
  pair('GET /v1/children/:childId/timeline, c=16', r.reads?.timeline, h.timeline);
  const a1 = r.aggregates.find((a) => a.multiple === 1);
  const aN = r.aggregates.find((a) => a.multiple === h.multiple);
  if (a1 && aN) {
    for (const [label, x, y] of [
      ['zone distribution (groupBy=round)', a1.zoneDistribution, aN.zoneDistribution],
      ['transitions (last two rounds)', a1.transitions, aN.transitions],
    ] as const) {
      rows.push([`${label}: p50`, ms(x.p50), ms(y.p50), `${n(ratio(y.p50, x.p50))}×`]);
      rows.push([`${label}: p99`, ms(x.p99), ms(y.p99), `${n(ratio(y.p99, x.p99))}×`]);
      work(label, x.database, y.database);
    }
  }
  if (one && big) {
    const total = r.data
      .filter((d) => d.multiple > 1 && d.multiple <= h.multiple)
      .reduce((sum, d) => sum + d.counts.seconds + (d.vacuumSeconds ?? 0), 0);
    const grown = r.data.filter((d) => d.multiple <= h.multiple);
    const sum = (key: 'assessments' | 'audits') =>
      grown.reduce((total, d) => total + (d.counts[key] ?? 0), 0);
    rows.push([
      'seeded assessments (audit entries)',
      `${n(one.counts.assessments)} (${n(one.counts.audits ?? 0)})`,
      `${n(sum('assessments'))} (${n(sum('audits'))})`,
      '',
    ]);
    if (aN) rows.push(['assessments of the measured municipality', '', n(aN.assessments), '']);
    rows.push(['database size', gib(one.databaseBytes), gib(big.databaseBytes), '']);
    rows.push([
      'seeding (SQL, then VACUUM ANALYZE)',
      `${n(one.counts.seconds)} s`,
      `+${n(total)} s`,
      '',
    ]);
  }
  const cell = (c: string) => c.replaceAll('|', '\\|');
  return [
    `History: the same cases at 1× and ${h.multiple}× data (ratio ${h.multiple}× ÷ 1×)`,
    '',
    `| Case | 1× | ${h.multiple}× | Ratio |`,
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.map(cell).join(' | ')} |`),
  ].join('\n');
}

/** Issue 15: bulk against one-by-one submissions, and the roster import against COPY. */
export function integrationTable(r: Results): string | null {
  const x = r.integration;
  if (!x) return null;
  const b = x.bulk;
  const i = x.import;
  const target = (name: string) => r.targets.find((t) => t.name.startsWith(name));
  const cell = (t: TargetCheck | undefined) => (t ? `${t.target} ${mark(t.holds)}` : '');
  const rss = i.import.rssKiB;
  const rows = [
    [
      `Assessments, ${n(b.items)} one by one, each with its Idempotency-Key (c=${b.concurrency})`,
      `${n(b.single.itemsPerSecond)} items/s (${n(b.single.seconds)} s)`,
      '',
      '',
    ],
    ...(b.singleWithoutKeys
      ? [
          [
            '(for reference) one by one without Idempotency-Keys',
            `${n(b.singleWithoutKeys.itemsPerSecond)} items/s (${n(b.singleWithoutKeys.seconds)} s)`,
            `bulk ${n(b.bulk.itemsPerSecond / b.singleWithoutKeys.itemsPerSecond)}×`,
            '',
          ],
        ]
      : []),
    [
      `The same in bulk requests of ${b.batch}, each item with its key (c=${b.concurrency}, ${b.bulk.requests} requests)`,
      `${n(b.bulk.itemsPerSecond)} items/s (${n(b.bulk.seconds)} s)`,
      `${n(b.ratio)}×`,
      cell(target('Bulk assessments')),
    ],
    [
      `Roster import, ${n(i.rows)} rows (${n(i.fileBytes / 2 ** 20)} MiB CSV), end to end`,
      `${n(i.import.rowsPerSecond)} rows/s (${n(i.import.seconds)} s; upload ${n(i.import.uploadSeconds)} s)`,
      '',
      '',
    ],
    [
      'The same rows with COPY (children + enrolments, one transaction)',
      `${n(i.copy.rowsPerSecond)} rows/s (${n(i.copy.seconds)} s)`,
      `import ${n(i.ratio)}× COPY`,
      cell(target('Roster import ≥')),
    ],
    [
      'Service memory during the import (RSS)',
      `${n(rss.before / 1024)} MiB before, peak ${n(rss.peak / 1024)} (first half ${n(rss.firstHalfPeak / 1024)}, second ${n(rss.secondHalfPeak / 1024)}), after ${n(rss.after / 1024)}; ${rss.samples} samples`,
      `+${n((rss.peak - rss.before) / 1024)} MiB`,
      cell(target('Roster import memory')),
    ],
  ];
  const writes = `Writes checked per run (single / bulk): ${b.single.writes.written} / ${b.bulk.writes.written} assessments, ${b.single.writes.recommendations} / ${b.bulk.writes.recommendations} recommendations, ${b.single.writes.events} / ${b.bulk.writes.events} events, ${b.single.writes.audited} / ${b.bulk.writes.audited} audited; import counts ${JSON.stringify(i.import.counts)}.`;
  return [
    '#### Integration (issue 15)',
    '',
    '| Case | Rate | Ratio | Target |',
    '| --- | --- | --- | --- |',
    ...rows.map((row) => `| ${row.join(' | ')} |`),
    '',
    writes,
  ].join('\n');
}
