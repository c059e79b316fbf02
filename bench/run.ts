/**
 * The benchmark suite: `npm run bench` (see bench/README.md). Starts from the PostgreSQL cluster
 * of .ci/with-postgres.sh (TEST_DATABASE_URL), generates the data, runs the built service on
 * loopback and measures it against baselines taken in the same run; then the embedded engine.
 * Prints one table and writes it to bench/results/.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { CompiledQuery, type Kysely, sql } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../src/db/migrations.js';
import { openEmbeddedDatabase } from '../src/db/pglite.js';
import { openPostgresDatabase, prepareStatements } from '../src/db/postgres.js';
import type { DB } from '../src/db/schema.js';
import { type CpuMeters, postgresCpuMeter, postmasterPid } from './lib/cpu.js';
import {
  psqlCopy,
  type ServiceExportStats,
  type StreamStats,
  serviceExport,
} from './lib/export.js';
import { measureBulk, measureImport } from './lib/integration.js';
import {
  checkWrites,
  countReadAudits,
  countRows,
  countTagged,
  currentAssessments,
  settle,
  type WriteCheck,
} from './lib/integrity.js';
import { type HttpStats, httpLoad, sequentialGets } from './lib/load.js';
import { describeMachine } from './lib/machine.js';
import { type BenchOptions, parseOptions } from './lib/options.js';
import {
  autovacuumRuns,
  createBenchDatabase,
  databaseTransactions,
  ownerKysely,
  statementWorkMeter,
  type WorkMeter,
} from './lib/postgres.js';
import {
  type ReplayStats,
  replayLoad,
  type Statement,
  StatementRecorder,
  type Template,
  toTemplate,
  withoutPreexisting,
} from './lib/replay.js';
import {
  type AggregatePoint,
  type ExportPoint,
  evaluateTargets,
  markdownReport,
  type PgliteResults,
  type Results,
  type SubmissionCase,
} from './lib/report.js';
import { addCounts, type SeedCounts, Seeder } from './lib/seed.js';
import { type ServiceProcess, startService } from './lib/service.js';
import { buildBenchApp, setUpTenant, type Tenant, unitLeaderKeys } from './lib/setup.js';
import { median } from './lib/stats.js';
import {
  type Enrolled,
  enrolledChildren,
  getRequests,
  submissionBody,
  submissionRequests,
  submissionSubject,
} from './lib/workload.js';

const started = performance.now();
const log = (message: string) =>
  process.stderr.write(
    `[bench ${((performance.now() - started) / 1000).toFixed(0).padStart(4)} s] ${message}\n`,
  );

/**
 * Waits (at most 40 s) until the database's transaction count has not moved for 11 s: the
 * service's start-up housekeeping and the benchmark's own queries are done and counted. An idle
 * backend reports its counts up to 10 s late (PostgreSQL's PGSTAT_IDLE_INTERVAL), so the owner's
 * write checks would otherwise land in the next case's count.
 */
async function databaseQuiet(adminUrl: string, database: string): Promise<void> {
  const started = Date.now();
  let last = await databaseTransactions(adminUrl, database);
  let changed = Date.now();
  while (Date.now() - changed < 11_000) {
    if (Date.now() - started > 40_000) {
      log('  the database did not become idle within 40 s');
      return;
    }
    await sleep(1000);
    const now = await databaseTransactions(adminUrl, database);
    if (now !== last) {
      last = now;
      changed = Date.now();
    }
  }
}

/** The worklist is measured again with its units' open steps grown to this multiple. */
const WORKLIST_GROWTH = 10;

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** PostgreSQL's CPU (postmaster and children), while the PostgreSQL part runs. */
let databaseMeter: (() => number) | undefined;
/** PostgreSQL's buffers and execution time per request (pg_stat_statements), when loaded. */
let workMeter: WorkMeter | null = null;
const meters = (service?: ServiceProcess): CpuMeters => ({
  service: service ? () => service.cpuSeconds() : undefined,
  database: databaseMeter,
});

/** Errors are collected, reported in the table and make the run exit non-zero. */
const errors: string[] = [];
function fail(message: string) {
  errors.push(message);
  log(`ERROR: ${message}`);
}

function checkHttp(label: string, stats: HttpStats) {
  if (stats.errors > 0 || stats.non2xx > 0 || stats.timeouts > 0) {
    fail(
      `${label}: ${stats.non2xx} non-2xx, ${stats.errors} errors, ${stats.timeouts} timeouts ` +
        `(${JSON.stringify(stats.statusCodes)}) ${stats.errorSamples.join(' | ')}`,
    );
  }
}

function checkWritesOk(label: string, check: WriteCheck) {
  if (!check.ok) fail(`${label}: ${check.problems.join('; ')}`);
}

function describe(stats: HttpStats) {
  return `${stats.rps.toFixed(1)} req/s, p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms`;
}

/** Submissions through the service at one concurrency: warm-up, then the measured run, checked. */
async function serviceSubmissions(options: {
  label: string;
  service: ServiceProcess;
  owner: Kysely<DB>;
  tenant: Tenant;
  children: readonly Enrolled[];
  seed: number;
  counter: { n: number };
  connections: number;
  warmupSeconds: number;
  seconds: number;
  /** Checks the writes now (PostgreSQL); PGlite checks after the service stopped. */
  checkNow: boolean;
  pending: Array<{
    label: string;
    prefix: string;
    since: Date;
    acknowledged: Set<string>;
    connections: number;
  }>;
}): Promise<{ stats: HttpStats; writes: WriteCheck | null }> {
  const run = async (prefix: string, seconds: number) => {
    const acknowledged = new Set<string>();
    const errorSamples: string[] = [];
    const since = new Date(Date.now() - 5000);
    const stats = await httpLoad({
      url: options.service.baseUrl,
      connections: options.connections,
      seconds,
      meters: meters(options.service),
      work: workMeter,
      errorSamples,
      requests: submissionRequests({
        tenant: options.tenant,
        children: options.children,
        seed: options.seed,
        prefix,
        counter: options.counter,
        acknowledged,
        errorSamples,
      }),
    });
    checkHttp(`${options.label} (${prefix})`, stats);
    options.pending.push({
      label: options.label,
      prefix,
      since,
      acknowledged,
      connections: options.connections,
    });
    return stats;
  };
  const c = options.connections;
  await run(`${options.label}-w${c}:`, options.warmupSeconds);
  const stats = await run(`${options.label}-c${c}:`, options.seconds);
  let writes: WriteCheck | null = null;
  if (options.checkNow) {
    const first = options.pending[0];
    if (first) await settle(options.owner, options.tenant.municipalityId, first.since);
    for (const p of options.pending.splice(0)) {
      const check = await checkWrites(options.owner, {
        municipalityId: options.tenant.municipalityId,
        ...p,
      });
      checkWritesOk(`${p.label} writes (${p.prefix})`, check);
      if (p.prefix.includes('-c')) writes = check;
    }
  }
  return { stats, writes };
}

async function main() {
  const options = parseOptions(process.argv.slice(2));
  const startedAt = new Date();
  const adminUrl = process.env.TEST_DATABASE_URL;
  if (!adminUrl) {
    throw new Error(
      'TEST_DATABASE_URL is not set: run `npm run bench`, which starts a throw-away PostgreSQL ' +
        'with .ci/with-postgres.sh',
    );
  }
  if (!existsSync(path.join('dist', 'src', 'server.js'))) {
    throw new Error(
      'dist/src/server.js is missing: run `npm run build` first (npm run bench does)',
    );
  }
  mkdirSync(options.resultsDir, { recursive: true });
  const work = mkdtempSync(path.join(tmpdir(), 'lineal-bench-'));
  const profileDir = options.profile ? path.join(options.resultsDir, 'profiles') : undefined;
  if (profileDir) mkdirSync(profileDir, { recursive: true });
  const cprSecret = randomBytes(32).toString('hex');
  const psql = process.env.PSQL ?? 'psql';
  log(
    `${options.mode} run: ${options.childrenPerBlock} children and ${options.unitsPerBlock} units per block, ` +
      `multiples ${options.multiples.join(',')}, ${options.warmupSeconds}+${options.durationSeconds} s per case`,
  );

  const results: Results = {
    mode: options.mode,
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    durationSeconds: 0,
    options: (({ resultsDir: _, ...rest }: BenchOptions) => rest)(options),
    machine: describeMachine('unknown', 'unknown'),
    service: {
      databasePoolMax: 10,
      nodeEnv: 'production',
      logLevel: 'warn',
      rateLimit: 'off (RATE_LIMIT_MAX=0)',
    },
    data: [],
    submission: [],
    baselineStatements: [],
    requestStatements: null,
    reads: null,
    exports: [],
    aggregates: [],
    history: null,
    integration: null,
    pglite: null,
    errors,
    targets: [],
    ok: false,
  };

  try {
    await measurePostgres(options, results, { adminUrl, work, cprSecret, psql, profileDir });
    if (!options.skipPglite) await measurePglite(options, results, { work, cprSecret, profileDir });
  } catch (error) {
    fail(
      `the run stopped: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`,
    );
  } finally {
    rmSync(work, { recursive: true, force: true });
  }

  const finishedAt = new Date();
  results.finishedAt = finishedAt.toISOString();
  results.durationSeconds = (finishedAt.getTime() - startedAt.getTime()) / 1000;
  results.targets = evaluateTargets(results);
  results.ok = errors.length === 0 && (results.targets.at(-1)?.holds ?? false);
  const report = markdownReport(results);
  process.stdout.write(`\n${report}\n`);
  for (const t of results.targets) {
    process.stdout.write(
      `${t.holds ? 'HOLDS ' : 'MISSES'}  ${t.name}: ${t.value} (target ${t.target})\n`,
    );
  }
  const stamp = results.startedAt.replace(/[:.]/g, '-');
  const latest = options.mode === 'default' ? 'latest' : `${options.mode}-latest`;
  const json = `${JSON.stringify(results, null, 2)}\n`;
  for (const name of [latest, `${options.mode}-${stamp}`]) {
    writeFileSync(path.join(options.resultsDir, `${name}.json`), json);
    writeFileSync(path.join(options.resultsDir, `${name}.md`), report);
  }
  log(`results written to ${path.relative(process.cwd(), options.resultsDir)}/${latest}.{json,md}`);
  if (!results.ok) {
    process.stderr.write(
      `\nBENCHMARK FAILED: ${errors.length} error(s):\n${errors.map((e) => `  - ${e}`).join('\n')}\n`,
    );
    process.exitCode = 1;
  }
}

async function measurePostgres(
  options: BenchOptions,
  results: Results,
  env: {
    adminUrl: string;
    work: string;
    cprSecret: string;
    psql: string;
    profileDir: string | undefined;
  },
) {
  log('PostgreSQL: creating the database and roles, migrating');
  const pgdb = await createBenchDatabase(env.adminUrl);
  const postmaster = await postmasterPid(env.adminUrl);
  databaseMeter = postmaster ? postgresCpuMeter(postmaster) : undefined;
  results.machine = describeMachine(pgdb.serverVersion, results.machine.pglite);
  const owner = ownerKysely(pgdb.ownerUrl);
  workMeter = await statementWorkMeter(env.adminUrl, pgdb.name, pgdb.appRole);
  if (!workMeter) log('pg_stat_statements is not loaded: no buffers per request');
  try {
    await migrateToLatest(owner.db);

    log('setting up the municipality through the API (in-process)');
    const recorder = new StatementRecorder();
    const appDatabase = await openPostgresDatabase({
      url: pgdb.appUrl,
      poolMax: 4,
      log: recorder.log,
    });
    const app = await buildBenchApp(appDatabase, env.cprSecret);
    const tenant = await setUpTenant(appDatabase, app, { rounds: options.rounds, code: '998' });
    // National scale (--history N): the data grows by whole municipalities, one per block, each
    // set up through the API like the measured one, which stays as it is (docs/scale.md).
    const others: Tenant[] = [];
    if (options.history !== null) {
      log(`setting up ${options.history - 1} more municipalities for the national data`);
      for (let b = 1; b < options.history; b++) {
        others.push(
          await setUpTenant(appDatabase, app, {
            rounds: options.rounds,
            code: String(100 + b).padStart(3, '0'),
          }),
        );
      }
    }

    log(`generating data 1× (${options.childrenPerBlock} children)`);
    const seeder = new Seeder(
      owner.db,
      tenant,
      {
        childrenPerBlock: options.childrenPerBlock,
        unitsPerBlock: options.unitsPerBlock,
        seed: options.seed,
      },
      log,
    );
    const base = await seeder.addBlocks(0, 1);
    await seeder.analyze();
    results.data.push({ multiple: 1, counts: base, databaseBytes: await databaseBytes(owner.db) });
    const children = await enrolledChildren(owner.db, tenant, options.seed);

    const { rows: unitRows } = await owner.db.executeQuery<{ unit_id: string }>(
      CompiledQuery.raw(
        `SELECT s.unit_id FROM recommendation_steps s JOIN units u ON u.id = s.unit_id
         WHERE s.municipality_id = $1 AND s.status = 'open'
         GROUP BY s.unit_id, u.external_ref ORDER BY u.external_ref LIMIT 10`,
        [tenant.municipalityId],
      ),
    );
    const leaders = await unitLeaderKeys(
      app,
      tenant.admin.token,
      tenant.municipalityId,
      unitRows.map((r) => r.unit_id),
    );

    log('recording the statements of one submission per level');
    const templates = await recordTemplates(
      app,
      recorder,
      owner.db,
      tenant,
      children,
      options.seed,
    );
    for (const t of templates) {
      log(
        `  level ${t.level}: ${t.statements} statements, ${t.created.length} ids created per submission`,
      );
    }
    log('recording the statements of one timeline read');
    const timelineTemplate = await recordTimeline(app, recorder, owner.db, tenant, children);
    log(`  ${timelineTemplate.statements} statements`);
    const firstLeader = leaders[0];
    if (!firstLeader) throw new Error('no unit with open steps for the worklist');
    log('recording the statements of one worklist page');
    const worklistTemplate = await recordWorklist(app, recorder, firstLeader);
    log(`  ${worklistTemplate.statements} statements`);
    results.requestStatements = {
      timeline: statementList(timelineTemplate),
      worklist: statementList(worklistTemplate),
      submission: templates.map((t) => ({ level: t.level, statements: statementList(t) })),
    };
    results.baselineStatements = templates.map((t) => ({
      level: t.level,
      created: t.created.length,
      statements: statementList(t),
    }));
    await app.close();
    await appDatabase.close();

    log('starting the service (PostgreSQL)');
    const service = await startService(
      { DATABASE_URL: pgdb.appUrl, LINEAL_CPR_SECRET: env.cprSecret },
      { logFile: path.join(env.work, 'service-postgres.log'), profileDir: env.profileDir },
    );
    try {
      // 1. Submissions, each concurrency against its direct-pg baseline.
      const counter = { n: 0 };
      const replayCounter = { n: 500_000_000 };
      const pending: Parameters<typeof serviceSubmissions>[0]['pending'] = [];
      const has = (section: BenchOptions['only'][number]) => options.only.includes(section);
      // Submissions through the service of the measured municipality, writes checked at once.
      const submissions = (label: string, connections: number) =>
        serviceSubmissions({
          label,
          service,
          owner: owner.db,
          tenant,
          children,
          seed: options.seed,
          counter,
          connections,
          warmupSeconds: options.warmupSeconds,
          seconds: options.durationSeconds,
          checkNow: true,
          pending,
        });
      for (const connections of has('submission') ? options.submissionConcurrency : []) {
        log(`submissions through the service, c=${connections}`);
        const { stats, writes } = await submissions('pg', connections);
        log(`  ${describe(stats)}`);
        log(`submissions replayed with pg, c=${connections}`);
        const baseline = await baselineSubmissions(
          pgdb.appUrl,
          owner.db,
          tenant,
          templates,
          children,
          {
            connections,
            warmupSeconds: options.warmupSeconds,
            seconds: options.durationSeconds,
            seed: options.seed,
            counter: replayCounter,
          },
        );
        log(
          `  ${baseline.rps.toFixed(1)} tx/s, p50 ${baseline.p50.toFixed(1)} ms, p99 ${baseline.p99.toFixed(1)} ms`,
        );
        if (!writes) throw new Error('no write check for the measured run');
        results.submission.push({
          concurrency: connections,
          service: stats,
          baseline,
          writes,
        } satisfies SubmissionCase);
      }

      // 2. Reads against the trivial route of the same instance.
      const c = options.readConcurrency;
      const read = async (label: string, paths: Array<{ path: string; token: string }>) => {
        const errorSamples: string[] = [];
        const requests = getRequests(paths, errorSamples);
        const go = (seconds: number) =>
          httpLoad({
            url: service.baseUrl,
            connections: c,
            seconds,
            requests,
            meters: meters(service),
            work: workMeter,
            errorSamples,
          });
        checkHttp(`${label} warm-up`, await go(options.warmupSeconds));
        const stats = await go(options.durationSeconds);
        checkHttp(label, stats);
        log(`  ${label}: ${describe(stats)}`);
        return stats;
      };
      if (has('reads')) {
        log(`reads, c=${c}`);
        // Nothing else in flight first (the service's start-up housekeeping, writes settling).
        await databaseQuiet(pgdb.adminUrl, pgdb.name);
        const before = await databaseTransactions(pgdb.adminUrl, pgdb.name);
        const vacuumsBefore = await autovacuumRuns(pgdb.adminUrl, pgdb.name);
        const healthz = await read('GET /healthz', [{ path: '/healthz', token: '' }]);
        await sleep(1500);
        const healthzTransactions = (await databaseTransactions(pgdb.adminUrl, pgdb.name)) - before;
        // Autovacuum catching up on the submissions' rows commits transactions of its own (a
        // loaded machine makes it overlap the case): a few per run are not the service's.
        const vacuums = (await autovacuumRuns(pgdb.adminUrl, pgdb.name)) - vacuumsBefore;
        if (healthzTransactions > healthz.ok / 100 + 5 * vacuums) {
          fail(
            `GET /healthz is not trivial: the database saw ${healthzTransactions} transactions ` +
              `(${vacuums} autovacuum/autoanalyze runs meanwhile)`,
          );
        }
        const timelineChildren = children.slice(0, 5000);
        const timeline = await read(
          'GET /v1/children/:childId/timeline',
          timelineChildren.map((child) => ({
            path: `/v1/children/${child.childId}/timeline`,
            token: tenant.admin.token,
          })),
        );
        log(`  the timeline's statements replayed with pg, c=${c}`);
        const timelineDirect = await baselineReads(
          pgdb.appUrl,
          owner.db,
          tenant,
          timelineTemplate,
          timelineChildren,
          {
            connections: c,
            warmupSeconds: options.warmupSeconds,
            seconds: options.durationSeconds,
          },
        );
        log(
          `  ${timelineDirect.rps.toFixed(1)} tx/s, p50 ${timelineDirect.p50.toFixed(1)} ms, p99 ${timelineDirect.p99.toFixed(1)} ms`,
        );
        const auditTemplate = auditEntryOnly(timelineTemplate);
        let auditOnly: ReplayStats | null = null;
        if (auditTemplate) {
          log(`  the timeline's audit entry alone in its scoped transaction, with pg, c=${c}`);
          auditOnly = await baselineReads(
            pgdb.appUrl,
            owner.db,
            tenant,
            auditTemplate,
            timelineChildren,
            {
              connections: c,
              warmupSeconds: options.warmupSeconds,
              seconds: options.durationSeconds,
            },
          );
          log(
            `  ${auditOnly.rps.toFixed(1)} tx/s, p50 ${auditOnly.p50.toFixed(1)} ms, p99 ${auditOnly.p99.toFixed(1)} ms`,
          );
        } else {
          log('  the timeline writes its audit entry within another statement: no audit-only row');
        }
        // The worklist at the units' open steps as generated, then with ten times as many.
        const unitIds = leaders.map((k) => k.unitId);
        const worklistPaths = leaders.map((k) => ({
          path: `/v1/worklist?unitId=${k.unitId}`,
          token: k.token,
        }));
        const openSteps = await openStepsPerUnit(owner.db, tenant.municipalityId, unitIds);
        log(`  worklist at ${openSteps.toFixed(0)} open steps per unit`);
        const worklist = await read('GET /v1/worklist?unitId=…', worklistPaths);
        log(`growing the worklist units' open steps to ${WORKLIST_GROWTH}×`);
        const added = await growOpenSteps(
          owner.db,
          tenant.municipalityId,
          unitIds,
          WORKLIST_GROWTH,
        );
        const grownSteps = await openStepsPerUnit(owner.db, tenant.municipalityId, unitIds);
        log(`  ${added} steps added: worklist at ${grownSteps.toFixed(0)} open steps per unit`);
        const worklistGrown = await read(
          `GET /v1/worklist?unitId=… (${WORKLIST_GROWTH}× open steps)`,
          worklistPaths,
        );
        results.reads = {
          concurrency: c,
          healthz,
          timeline,
          timelineDirect,
          auditOnly,
          timelineStatements: statementList(timelineTemplate),
          worklist,
          worklistOpenSteps: openSteps,
          worklistGrown: { multiple: WORKLIST_GROWTH, openSteps: grownSteps, stats: worklistGrown },
          healthzDatabaseTransactions: healthzTransactions,
          worklistUnits: leaders.length,
        };
      }

      // Issue 15: bulk against single submissions, the roster import against COPY (at 1×).
      if (has('integration')) {
        const ctx = {
          service,
          owner: owner.db,
          tenant,
          children,
          seed: options.seed,
          work: env.work,
          psql: env.psql,
          ownerUrl: pgdb.ownerUrl,
          log,
        };
        // Nothing else in flight first (autovacuum after the seeding, writes settling).
        await databaseQuiet(pgdb.adminUrl, pgdb.name);
        log('bulk assessments against the same assessments one by one');
        const bulk = await measureBulk(ctx, {
          items: options.bulkItems,
          batch: options.bulkBatch,
          concurrency: options.bulkConcurrency,
          warmup: Math.round(options.bulkItems / 10),
        });
        log(`roster import of ${options.importRows} rows against COPY`);
        const imported = await measureImport(ctx, { rows: options.importRows });
        results.integration = { bulk, import: imported };
      }

      // 4. Export at 1×.
      if (has('export')) {
        results.exports.push(
          await measureExport(
            1,
            options.exportRepeats,
            service,
            owner.db,
            tenant,
            pgdb.appUrl,
            env.psql,
          ),
        );
      }

      // 3. Aggregates at 1×, then with the data grown to each multiple.
      if (has('aggregates'))
        results.aggregates.push(await measureAggregates(1, options, service, owner.db, tenant));
      let blocks = 1;
      for (const multiple of has('aggregates') || has('export') ? options.multiples.slice(1) : []) {
        log(`growing the data to ${multiple}× (${multiple * options.childrenPerBlock} children)`);
        let counts: SeedCounts | undefined;
        if (options.history === null) counts = await seeder.addBlocks(blocks, multiple);
        for (let b = blocks; options.history !== null && b < multiple; b++) {
          const other = others[b - 1];
          if (!other) throw new Error(`no municipality for block ${b}`);
          log(`  municipality ${b + 1} of ${multiple}`);
          const added = await seeder.addBlocks(b, b + 1, other);
          counts = counts ? addCounts(counts, added) : added;
        }
        if (!counts) throw new Error(`nothing to grow from ${blocks}× to ${multiple}×`);
        blocks = multiple;
        const vacuumSeconds = await seeder.analyze();
        const bytes = await databaseBytes(owner.db);
        log(`  ${multiple}×: database ${(bytes / 2 ** 30).toFixed(2)} GiB`);
        results.data.push({ multiple, counts, databaseBytes: bytes, vacuumSeconds });
        if (has('aggregates'))
          results.aggregates.push(
            await measureAggregates(multiple, options, service, owner.db, tenant),
          );
      }
      // National scale: submission and the timeline again with the history grown (--history).
      if (options.history !== null && blocks === options.history) {
        const at = options.history;
        const history: NonNullable<Results['history']> = {
          multiple: at,
          submission: null,
          timeline: null,
        };
        if (has('submission')) {
          log(`submissions through the service at ${at}× data, c=16`);
          const { stats } = await submissions(`pg-${at}x`, 16);
          log(`  ${describe(stats)}`);
          history.submission = stats;
        }
        if (has('reads')) {
          log(`the timeline at ${at}× data, c=${c}`);
          history.timeline = await read(
            `GET /v1/children/:childId/timeline (${at}× data)`,
            children.slice(0, 5000).map((child) => ({
              path: `/v1/children/${child.childId}/timeline`,
              token: tenant.admin.token,
            })),
          );
        }
        // The service reads the seeded history as it would its own: a seeded child's timeline
        // returns exactly that child's seeded assessments (children of the first and the last
        // block, each read with its own municipality's key).
        const last = others.at(-1) ?? tenant;
        let checked = 0;
        for (const [who, refs] of [
          [tenant, [0, 1, 2]],
          [last, [at * options.childrenPerBlock - 1, at * options.childrenPerBlock - 2]],
        ] as const) {
          const { rows: sample } = await owner.db.executeQuery<{ id: string; n: string }>(
            CompiledQuery.raw(
              `SELECT c.id, (SELECT count(*) FROM assessments a
                             WHERE a.child_id = c.id AND a.status = 'current')::text AS n
               FROM children c
               WHERE c.municipality_id = $1 AND c.external_ref = ANY($2::text[])`,
              [who.municipalityId, refs.map((i) => `bench-c-${i}`)],
            ),
          );
          if (sample.length !== refs.length) fail(`seeded children ${refs.join(', ')} are missing`);
          for (const child of sample) {
            const res = await fetch(`${service.baseUrl}/v1/children/${child.id}/timeline`, {
              headers: { authorization: `Bearer ${who.admin.token}` },
            });
            const body = (await res.json()) as { items?: Array<{ childId: string }> };
            const items = body.items ?? [];
            if (
              res.status !== 200 ||
              items.length !== Number(child.n) ||
              items.some((item) => item.childId !== child.id)
            ) {
              fail(
                `timeline of a seeded child at ${at}×: ${res.status}, ${items.length} items, ` +
                  `${child.n} assessments in the database`,
              );
            }
            checked += 1;
          }
        }
        log(`  ${checked} seeded children's timelines match their assessments`);
        results.history = history;
      }
      // The export again at the largest size: its memory must not grow with the data. (Not
      // with national growth, where the measured municipality's export stays at 1×.)
      if (blocks > 1 && has('export') && options.history === null) {
        results.exports.push(
          await measureExport(blocks, 1, service, owner.db, tenant, pgdb.appUrl, env.psql),
        );
      }
    } finally {
      await service.stop();
    }
  } finally {
    await owner.db.destroy();
    await workMeter?.close();
    workMeter = null;
  }
}

/** The bench database's size on disk (tables, indexes, TOAST), in bytes. */
async function databaseBytes(owner: Kysely<DB>): Promise<number> {
  const { rows } = await owner.executeQuery<{ bytes: string }>(
    CompiledQuery.raw('SELECT pg_database_size(current_database())::text AS bytes'),
  );
  return Number(rows[0]?.bytes ?? 0);
}

/**
 * `exists(id, insertedInto)`: whether `id` names a row that existed before, in a table the
 * recorded request does not insert into (see withoutPreexisting).
 */
async function preexisting(owner: Kysely<DB>) {
  const { rows: tables } = await owner.executeQuery<{ table_name: string }>(
    CompiledQuery.raw(
      `SELECT table_name FROM information_schema.columns
       WHERE table_schema = 'public' AND column_name = 'id' AND data_type = 'uuid'`,
    ),
  );
  return async (id: string, insertedInto: Set<string>) => {
    for (const { table_name: table } of tables) {
      if (insertedInto.has(table)) continue;
      const { rows } = await owner.executeQuery(
        CompiledQuery.raw(`SELECT 1 FROM ${table} WHERE id = $1`, [id]),
      );
      if (rows.length > 0) return true;
    }
    return false;
  };
}

/** One recorded submission per level, through the in-process app, with its statements. */
async function recordTemplates(
  app: Awaited<ReturnType<typeof buildBenchApp>>,
  recorder: StatementRecorder,
  owner: Kysely<DB>,
  tenant: Tenant,
  children: readonly Enrolled[],
  seed: number,
): Promise<Template[]> {
  const auth = { authorization: `Bearer ${tenant.submitter.token}` };
  // The key's last use is written at most once a minute: use it now, so no recording has it.
  await app.inject({ method: 'GET', url: '/v1/rulers', headers: auth });
  const exists = await preexisting(owner);
  const templates: Template[] = [];
  for (const level of [1, 2, 3]) {
    let n = 900_000_000;
    let subject = submissionSubject(children, tenant.today, seed, n);
    while (subject.level !== level) subject = submissionSubject(children, tenant.today, seed, ++n);
    recorder.start();
    const res = await app.inject({
      method: 'POST',
      url: '/v1/assessments',
      headers: { ...auth, 'content-type': 'application/json' },
      payload: submissionBody(tenant, subject, `recorded-${level}`),
    });
    const statements = recorder.stop();
    if (res.statusCode !== 201)
      throw new Error(`the recorded submission answered ${res.statusCode}: ${res.body}`);
    templates.push(await withoutPreexisting(toTemplate(level, subject, statements), exists));
  }
  return templates;
}

/** A template's statements, one line each; those inside a transaction indented. */
function statementList(template: Template): string[] {
  return template.segments.flatMap((segment) =>
    segment.kind === 'single'
      ? [segment.statement.sql.replace(/\s+/g, ' ')]
      : segment.statements.map((s) => `  ${s.sql.replace(/\s+/g, ' ')}`),
  );
}

/**
 * The statements one GET /v1/children/:childId/timeline issues (today: key lookup, scoped read
 * transaction, audit entry), recorded through the in-process app with the key the load uses,
 * after one read with that key (its last use is written at most once a minute; a key cache
 * would be warm), so the recording is a steady-state read.
 */
async function recordTimeline(
  app: Awaited<ReturnType<typeof buildBenchApp>>,
  recorder: StatementRecorder,
  owner: Kysely<DB>,
  tenant: Tenant,
  children: readonly Enrolled[],
): Promise<Template> {
  const child = children[0];
  if (!child) throw new Error('no enrolled child to record a timeline of');
  const auth = { authorization: `Bearer ${tenant.admin.token}` };
  const url = `/v1/children/${child.childId}/timeline`;
  await app.inject({ method: 'GET', url, headers: auth });
  recorder.start();
  const res = await app.inject({ method: 'GET', url, headers: auth });
  const statements = recorder.stop();
  if (res.statusCode !== 200)
    throw new Error(`the recorded timeline answered ${res.statusCode}: ${res.body}`);
  // Only the child changes between replays, and any id the read created (none today: the audit
  // entry's id is the database's default).
  const subject = { childId: child.childId, unitId: child.childId, assessedOn: '-' };
  return withoutPreexisting(toTemplate(0, subject, statements), await preexisting(owner));
}

/** The statements of one GET /v1/worklist?unitId=… page (first page), recorded like a timeline read. */
async function recordWorklist(
  app: Awaited<ReturnType<typeof buildBenchApp>>,
  recorder: StatementRecorder,
  leader: { token: string; unitId: string },
): Promise<Template> {
  const auth = { authorization: `Bearer ${leader.token}` };
  const url = `/v1/worklist?unitId=${leader.unitId}`;
  await app.inject({ method: 'GET', url, headers: auth });
  recorder.start();
  const res = await app.inject({ method: 'GET', url, headers: auth });
  const statements = recorder.stop();
  if (res.statusCode !== 200)
    throw new Error(`the recorded worklist answered ${res.statusCode}: ${res.body}`);
  const subject = { childId: leader.unitId, unitId: leader.unitId, assessedOn: '-' };
  return toTemplate(0, subject, statements);
}

/**
 * Grows the open steps of `unitIds` to `factor` times what they are: copies of each open step
 * (same recommendation, child, zone and due date; positions past the guide's), so the worklist
 * can be measured at a larger size of the same units' open steps. Then VACUUM (ANALYZE).
 */
async function growOpenSteps(
  owner: Kysely<DB>,
  municipalityId: string,
  unitIds: string[],
  factor: number,
): Promise<number> {
  const result = await owner.executeQuery(
    CompiledQuery.raw(
      `INSERT INTO recommendation_steps (municipality_id, recommendation_id, child_id, unit_id, zone,
         position, step_key, title, description, involve, responsible, mandatory, legal_reference,
         purpose, source, due_on, status, created_at)
       SELECT s.municipality_id, s.recommendation_id, s.child_id, s.unit_id, s.zone,
              s.position + 1000 * k, s.step_key, s.title, s.description, s.involve, s.responsible,
              s.mandatory, s.legal_reference, s.purpose, s.source, s.due_on, 'open', s.created_at
       FROM recommendation_steps s CROSS JOIN generate_series(1, $3::int - 1) AS k
       WHERE s.municipality_id = $1 AND s.unit_id = ANY($2::uuid[]) AND s.status = 'open'`,
      [municipalityId, unitIds, factor],
    ),
  );
  await owner.executeQuery(CompiledQuery.raw('VACUUM (ANALYZE) recommendation_steps'));
  return Number(result.numAffectedRows ?? 0);
}

/** Open steps per unit (mean over `unitIds`). */
async function openStepsPerUnit(
  owner: Kysely<DB>,
  municipalityId: string,
  unitIds: string[],
): Promise<number> {
  const { rows } = await owner.executeQuery<{ n: number | string }>(
    CompiledQuery.raw(
      `SELECT count(*)::int AS n FROM recommendation_steps
       WHERE municipality_id = $1 AND unit_id = ANY($2::uuid[]) AND status = 'open'`,
      [municipalityId, unitIds],
    ),
  );
  return Number(rows[0]?.n ?? 0) / Math.max(1, unitIds.length);
}

/** Records a failure for every replay run (warm-up, measured) that had errors. */
function failOnReplayErrors(what: string, warm: ReplayStats, measured: ReplayStats): void {
  for (const [label, s] of [
    ['warm-up', warm],
    ['measured', measured],
  ] as const) {
    if (s.errors > 0) fail(`${what} ${label}: ${s.errors} errors: ${s.errorSamples.join(' | ')}`);
  }
}

/**
 * Only the audit entry of a recorded read in its scoped transaction: the statements that begin
 * the transaction or enter the scope (however combined), those that write audit_log, and the one
 * that ends it. `null` when the read wrote its audit entry inside another statement.
 */
function auditEntryOnly(template: Template): Template | null {
  const isAudit = (st: Statement) => /^\s*insert\s+into\s+"?audit_log"?/i.test(st.sql);
  const isFrame = (st: Statement) =>
    /^\s*(begin|start\s+transaction|commit|rollback|end)\b/i.test(st.sql) ||
    /lineal_enter_(platform_)?scope|set_config\s*\(/i.test(st.sql);
  const segment = template.segments.find(
    (seg) => seg.kind === 'transaction' && seg.statements.some(isAudit),
  );
  if (segment?.kind !== 'transaction') return null;
  const statements = segment.statements.filter((st) => isFrame(st) || isAudit(st));
  return {
    ...template,
    segments: [{ kind: 'transaction', statements }],
    statements: statements.length,
  };
}

/**
 * The timeline's floor: its recorded statements replayed with `pg` for other children at the
 * same concurrency — the database's work for the read without HTTP, authentication, JSON or
 * validation.
 */
async function baselineReads(
  appUrl: string,
  owner: Kysely<DB>,
  tenant: Tenant,
  template: Template,
  children: readonly Enrolled[],
  options: {
    connections: number;
    warmupSeconds: number;
    seconds: number;
  },
): Promise<ReplayStats> {
  const pool = new pg.Pool({
    connectionString: appUrl,
    max: options.connections,
  });
  pool.on('connect', prepareStatements);
  const since = new Date(Date.now() - 1000);
  const before = await countReadAudits(owner, tenant.municipalityId, since);
  try {
    const next = (n: number) => {
      const child = children[n % children.length] as Enrolled;
      return {
        template,
        subject: { childId: child.childId, unitId: child.childId, assessedOn: '-' },
      };
    };
    const counter = { n: 0 };
    const load = (seconds: number) =>
      replayLoad(pool, next, {
        meters: meters(),
        connections: options.connections,
        seconds,
        counter,
      });
    const warm = await load(options.warmupSeconds);
    const stats = await load(options.seconds);
    failOnReplayErrors(`direct-pg timeline c=${options.connections}`, warm, stats);
    // Every replay committed its audit entry (a read the service finished late may add a few).
    const audited = (await countReadAudits(owner, tenant.municipalityId, since)) - before;
    const replayed = warm.completed + stats.completed;
    if (audited < replayed || audited > replayed + options.connections) {
      fail(`direct-pg timeline: ${replayed} replays committed but ${audited} read audit entries`);
    }
    return stats;
  } finally {
    await pool.end();
  }
}

async function baselineSubmissions(
  appUrl: string,
  owner: Kysely<DB>,
  tenant: Tenant,
  templates: Template[],
  children: readonly Enrolled[],
  options: {
    connections: number;
    warmupSeconds: number;
    seconds: number;
    seed: number;
    counter: { n: number };
  },
) {
  const pool = new pg.Pool({ connectionString: appUrl, max: options.connections });
  // Prepared per connection, as the service's pool does (src/db/postgres.ts).
  pool.on('connect', prepareStatements);
  try {
    const next = (n: number) => {
      const subject = submissionSubject(children, tenant.today, options.seed, n);
      const template = templates.find((t) => t.level === subject.level) as Template;
      return { template, subject };
    };
    const since = new Date(Date.now() - 1000);
    const warm = await replayLoad(pool, next, {
      meters: meters(),
      connections: options.connections,
      seconds: options.warmupSeconds,
      counter: options.counter,
    });
    const stats = await replayLoad(pool, next, {
      meters: meters(),
      connections: options.connections,
      seconds: options.seconds,
      counter: options.counter,
    });
    // The replays carry the recorded submissions' tags (recorded-<level>).
    const written = await countTagged(owner, tenant.municipalityId, 'recorded-', since);
    failOnReplayErrors(`direct-pg baseline c=${options.connections}`, warm, stats);
    if (written !== warm.completed + stats.completed) {
      fail(
        `direct-pg baseline c=${options.connections}: ${warm.completed + stats.completed} replays committed but ${written} assessments written`,
      );
    }
    return stats;
  } finally {
    await pool.end();
  }
}

async function measureExport(
  multiple: number,
  repeats: number,
  service: ServiceProcess,
  owner: Kysely<DB>,
  tenant: Tenant,
  appUrl: string,
  psql: string,
): Promise<ExportPoint> {
  const expectedRows = await currentAssessments(owner, tenant.municipalityId);
  log(`CSV and Parquet export at ${multiple}× (${expectedRows} rows), ${repeats} run(s) each`);
  const serviceRuns: ServiceExportStats[] = [];
  const parquetRuns: ServiceExportStats[] = [];
  const psqlRuns: StreamStats[] = [];
  if (repeats > 1) {
    // Warm-up (discarded): the export path's code, the caches, and the service's heap, whose
    // peak under load the larger export is compared with.
    await serviceExport(service, tenant.admin.token, meters(service));
  }
  for (let i = 0; i < repeats; i++) {
    const s = await serviceExport(service, tenant.admin.token, meters(service));
    log(
      `  service: ${s.rows} rows in ${s.seconds.toFixed(2)} s (${s.rowsPerSecond.toFixed(0)} rows/s), RSS peak ${s.rssPeakMiB.toFixed(0)} MiB`,
    );
    serviceRuns.push(s);
    const p = await psqlCopy(psql, appUrl, tenant.municipalityId, meters());
    log(
      `  psql COPY: ${p.rows} rows in ${p.seconds.toFixed(2)} s (${p.rowsPerSecond.toFixed(0)} rows/s)`,
    );
    psqlRuns.push(p);
    // Issue 17: the same rows as Parquet, in the same run.
    const q = await serviceExport(service, tenant.admin.token, meters(service), 'parquet');
    log(
      `  service Parquet: ${q.rows} rows in ${q.seconds.toFixed(2)} s (${q.rowsPerSecond.toFixed(0)} rows/s), RSS peak ${q.rssPeakMiB.toFixed(0)} MiB`,
    );
    parquetRuns.push(q);
    if (q.rows !== expectedRows)
      fail(`the Parquet export held ${q.rows} rows; ${expectedRows} are current`);
    if (s.rows !== expectedRows)
      fail(`the export streamed ${s.rows} rows; ${expectedRows} are current`);
    if (p.rows !== expectedRows) fail(`psql COPY gave ${p.rows} rows; ${expectedRows} are current`);
  }
  const pick = <T extends StreamStats>(runs: T[]): T => {
    const m = median(runs.map((r) => r.rowsPerSecond));
    return runs.find((r) => r.rowsPerSecond === m) as T;
  };
  // Memory: the run with the highest peak counts (CSV or Parquet).
  const worst = [...serviceRuns, ...parquetRuns].reduce((a, b) =>
    b.rssPeakMiB > a.rssPeakMiB ? b : a,
  );
  const memory = {
    rows: worst.rows,
    bytes: worst.bytes,
    beforeMiB: worst.rssBeforeMiB,
    peakMiB: worst.rssPeakMiB,
    firstHalfPeakMiB: worst.rssFirstHalfPeakMiB,
    secondHalfPeakMiB: worst.rssSecondHalfPeakMiB,
  };
  return {
    multiple,
    expectedRows,
    service: pick(serviceRuns),
    parquet: pick(parquetRuns),
    psql: pick(psqlRuns),
    memory,
    serviceRuns,
    parquetRuns,
    psqlRuns,
  };
}

/** Waits (at most 5 minutes) until the service has used under 5 % of a core for 2 s. */
async function untilIdle(service: ServiceProcess) {
  let quiet = 0;
  for (let i = 0; i < 300 && quiet < 2; i++) {
    const before = service.cpuSeconds();
    await new Promise((resolve) => setTimeout(resolve, 1000));
    quiet = service.cpuSeconds() - before < 0.05 ? quiet + 1 : 0;
  }
}

async function measureAggregates(
  multiple: number,
  options: BenchOptions,
  service: ServiceProcess,
  owner: Kysely<DB>,
  tenant: Tenant,
): Promise<AggregatePoint> {
  const assessments = await currentAssessments(owner, tenant.municipalityId);
  const children = await countRows(owner, 'children', tenant.municipalityId);
  log(`analytics at ${multiple}× (${assessments} assessments)`);
  const from = tenant.rounds.at(-2)?.id;
  const to = tenant.rounds.at(-1)?.id;
  const measure = async (label: string, url: string) => {
    const stats = await sequentialGets({
      url: () => `${service.baseUrl}${url}`,
      token: tenant.analyst.token,
      warmup: 2,
      seconds: Math.max(1, options.durationSeconds / 2),
      min: 5,
      max: 500,
      work: workMeter,
    });
    if (stats.failures > 0)
      fail(
        `${label} at ${multiple}×: ${stats.failures} failures: ${stats.failureSamples.join(' | ')}`,
      );
    log(
      `  ${label}: p50 ${stats.p50.toFixed(1)} ms, p99 ${stats.p99.toFixed(1)} ms (n=${stats.count})`,
    );
    return stats;
  };
  const zoneUrl = '/v1/analytics/zone-distribution?groupBy=round';
  const transitionsUrl = `/v1/analytics/transitions?fromRoundId=${from}&toRoundId=${to}`;
  // After a change (a unit renamed to its own name renews the analytics version): a question
  // not asked before waits for the cube computed anew; one asked before gets the kept answer at
  // once while the new one is computed in the background (cube-cache.ts).
  const coldSamples = 3;
  const change = () =>
    sql`UPDATE units SET name = name
        WHERE id = (SELECT id FROM units WHERE municipality_id = ${tenant.municipalityId}
                    ORDER BY id LIMIT 1)`.execute(owner);
  const timed = async (url: string) => {
    const t0 = performance.now();
    const res = await fetch(`${service.baseUrl}${url}`, {
      headers: { authorization: `Bearer ${tenant.analyst.token}` },
    });
    await res.arrayBuffer();
    if (!res.ok) fail(`${url} after a change at ${multiple}×: ${res.status}`);
    return performance.now() - t0;
  };
  // Groupings not asked at an earlier multiple (the same cube: only the filter makes another).
  // After each change both cubes are computed, so the last version's are there for what follows.
  const groupings = ['sex', 'ageBand', 'unitKind', 'cohort', 'district', 'year'];
  const at = (Math.max(0, options.multiples.indexOf(multiple)) % 2) * coldSamples;
  const zoneTimes: number[] = [];
  const transitionTimes: number[] = [];
  for (const d of groupings.slice(at, at + coldSamples)) {
    await change();
    zoneTimes.push(await timed(`${zoneUrl},${d}`));
    transitionTimes.push(await timed(`${transitionsUrl}&groupBy=${d}`));
  }
  const zoneComputed = median(zoneTimes);
  const transitionsComputed = median(transitionTimes);
  // The cubes of the current version are computed now: the steady state is measured.
  const zoneDistribution = await measure('zone distribution', zoneUrl);
  const transitions = await measure('transitions', transitionsUrl);
  const asked = async (url: string) => {
    const times: number[] = [];
    for (let i = 0; i < coldSamples; i++) {
      await change();
      times.push(await timed(url));
    }
    return median(times);
  };
  const cold = {
    zoneDistribution: await asked(zoneUrl),
    transitions: await asked(transitionsUrl),
    zoneComputed,
    transitionsComputed,
    samples: coldSamples,
  };
  log(
    `  after a change: zone distribution ${cold.zoneDistribution.toFixed(1)} ms kept, ` +
      `${cold.zoneComputed.toFixed(0)} ms computed; transitions ${cold.transitions.toFixed(1)} ms ` +
      `kept, ${cold.transitionsComputed.toFixed(0)} ms computed`,
  );
  // The kept answers' background computations finish before anything else is measured.
  await untilIdle(service);
  return {
    multiple,
    children,
    assessments,
    zoneDistribution,
    transitions,
    cold,
  };
}

async function measurePglite(
  options: BenchOptions,
  results: Results,
  env: { work: string; cprSecret: string; profileDir: string | undefined },
) {
  databaseMeter = undefined; // PGlite runs inside the service process
  const dataDir = path.join(env.work, 'pglite');
  log(`PGlite: setting up and generating ${options.pgliteChildren} children in ${dataDir}`);
  let database = await openEmbeddedDatabase({ dataDir });
  const { rows: version } = await sql<{ server_version: string }>`SHOW server_version`.execute(
    database.db,
  );
  results.machine = describeMachine(
    results.machine.postgres,
    version[0]?.server_version ?? 'unknown',
  );
  const app = await buildBenchApp(database, env.cprSecret);
  const tenant = await setUpTenant(database, app, { rounds: options.rounds, code: '997' });
  await app.close();
  // The generator runs as the owner, like on PostgreSQL; the session is lineal_app otherwise.
  await sql`RESET ROLE`.execute(database.db);
  const seeder = new Seeder(
    database.db,
    tenant,
    { childrenPerBlock: options.pgliteChildren, unitsPerBlock: 6, seed: options.seed },
    log,
  );
  const counts = await seeder.addBlocks(0, 1);
  await seeder.analyze();
  const children = await enrolledChildren(database.db, tenant, options.seed);
  await sql`SET ROLE lineal_app`.execute(database.db);
  await database.close();

  log('starting the service (PGlite)');
  const service = await startService(
    { LINEAL_DATA_DIR: dataDir, LINEAL_CPR_SECRET: env.cprSecret },
    { logFile: path.join(env.work, 'service-pglite.log'), profileDir: env.profileDir },
  );
  const pending: Parameters<typeof serviceSubmissions>[0]['pending'] = [];
  const submissions: Array<{ concurrency: number; stats: HttpStats; prefix: string }> = [];
  let timeline: HttpStats;
  let healthz: HttpStats;
  try {
    const counter = { n: 0 };
    for (const connections of options.pgliteConcurrency) {
      log(`PGlite: submissions, c=${connections}`);
      const { stats } = await serviceSubmissions({
        label: 'pglite',
        service,
        owner: database.db,
        tenant,
        children,
        seed: options.seed,
        counter,
        connections,
        warmupSeconds: options.warmupSeconds,
        seconds: options.durationSeconds,
        checkNow: false,
        pending,
      });
      log(`  ${describe(stats)}`);
      submissions.push({ concurrency: connections, stats, prefix: `pglite-c${connections}:` });
    }
    const c = options.readConcurrency;
    const read = async (label: string, paths: Array<{ path: string; token: string }>) => {
      const errorSamples: string[] = [];
      const requests = getRequests(paths, errorSamples);
      const go = (seconds: number) =>
        httpLoad({
          url: service.baseUrl,
          connections: c,
          seconds,
          requests,
          meters: meters(service),
          errorSamples,
        });
      checkHttp(`PGlite ${label} warm-up`, await go(options.warmupSeconds));
      const stats = await go(options.durationSeconds);
      checkHttp(`PGlite ${label}`, stats);
      log(`  PGlite ${label}: ${describe(stats)}`);
      return stats;
    };
    log(`PGlite: reads, c=${c}`);
    healthz = await read('GET /healthz', [{ path: '/healthz', token: '' }]);
    timeline = await read(
      'GET /v1/children/:childId/timeline',
      children.map((child) => ({
        path: `/v1/children/${child.childId}/timeline`,
        token: tenant.admin.token,
      })),
    );
  } finally {
    await service.stop();
  }

  // The writes are counted with the service stopped (the data directory has one user at a time).
  database = await openEmbeddedDatabase({ dataDir });
  try {
    await sql`RESET ROLE`.execute(database.db);
    const checks = new Map<string, WriteCheck>();
    for (const p of pending) {
      const check = await checkWrites(database.db, { municipalityId: tenant.municipalityId, ...p });
      checkWritesOk(`PGlite writes (${p.prefix})`, check);
      checks.set(p.prefix, check);
    }
    const assessments = await currentAssessments(database.db, tenant.municipalityId);
    results.pglite = {
      children: options.pgliteChildren,
      assessments,
      seedSeconds: counts.seconds,
      submission: submissions.map((s) => ({
        concurrency: s.concurrency,
        service: s.stats,
        writes: checks.get(s.prefix) as WriteCheck,
      })),
      timeline,
      healthz,
    } satisfies PgliteResults;
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`bench failed: ${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
