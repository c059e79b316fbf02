/**
 * `npm run chaos`: the failover test of issue 14. Starts a pg_auto_failover formation on
 * loopback (monitor + two synchronously replicated nodes, bench/chaos/formation.ts), two service
 * processes (dist/src/server.js) on its multi-host URL, and a write load of assessment
 * submissions with Idempotency-Keys against both; then, one after the other, with the load
 * running before, during and after each and the formation healthy again before the next:
 *   (a) a planned switchover, (b) kill -9 of the primary's postmaster, (b2) kill -9 of the
 *   primary node (pg_autoctl + postgres: host loss) and its rejoin, (c) a restart of the standby.
 * Per event: acknowledged writes, lost (an acknowledged id missing on the primary), duplicated,
 * the longest time no write was acknowledged, the 503s (problem+json with Retry-After) and
 * whether every service process is still up. Prints a markdown table, writes JSON and markdown
 * to bench/results/chaos-<timestamp>.{json,md}, and exits non-zero when a target fails.
 *
 * Run as root (the PostgreSQL tools run as `postgres`). Environment: CHAOS_PORT (monitor port,
 * default 6500; the nodes use the next two), CHAOS_CLIENTS (load loops per service, default 3).
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { cpus, tmpdir } from 'node:os';
import path from 'node:path';
import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import { postgresBinDir } from '../../tests/support/private-cluster.js';
import {
  type Outcome,
  seedTenant,
  type Tenant,
  writeLoad,
} from '../../tests/support/write-load.js';
import {
  FAST_MONITOR_SETTINGS,
  Formation,
  INSTALL_HINT,
  NETWORK_PARTITION_TIMEOUT_S,
  pgAutoctl,
  WAL_RETRIEVE_RETRY_INTERVAL,
} from './formation.js';
import { built, type Service, startService, tail } from './service.js';

const MONITOR_PORT = Number(process.env.CHAOS_PORT ?? 6500);
const CLIENTS = Number(process.env.CHAOS_CLIENTS ?? 3);
const CHILDREN = 24;
/** Load before each event, and after it has settled. */
const BEFORE_MS = 5_000;
const AFTER_MS = 5_000;
/** The longest an unplanned event may leave the service unable to write (issue 14). */
const UNPLANNED_MAX_S = 15;
const OWNER = 'lineal';
const APP = 'lineal_chaos_app';
const CPR_SECRET = 'chaos-run-cpr-secret-0123456789abcdef';

const started = Date.now();
const log = (message: string) =>
  process.stderr.write(
    `[chaos ${((Date.now() - started) / 1000).toFixed(1).padStart(6)}s] ${message}\n`,
  );
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

interface EventResult {
  id: string;
  event: string;
  unplanned: boolean;
  detail: string;
  /** Seconds after the event was triggered: what happened when. */
  marks: Record<string, number>;
  /** The monitor's event log from the trigger on (pgautofailover.event). */
  monitorEvents: string[];
  submissions: number;
  acknowledged: number;
  /** Submissions that never got a 201 (gave up or a final error): stored or not, not promised. */
  unknown: number;
  lost: number;
  duplicated: number;
  /** The longest time between two acknowledged writes (either service), and when (s after the event). */
  unwritableSeconds: number;
  unwritableWindow: [number, number];
  /** The longest stretch from a 503 to the next 201. */
  longest503Seconds: number;
  statuses: Record<string, number>;
  badProblems: number;
  servicesUp: boolean;
  error?: string;
  failures: string[];
}

function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function version(command: string, args: string[]): string {
  try {
    return execFileSync(command, args, { encoding: 'utf8' }).split('\n')[0] ?? '';
  } catch {
    return '';
  }
}

async function main(): Promise<number> {
  if (process.getuid?.() !== 0) {
    log('run as root: the PostgreSQL tools run as the postgres user (runuser -u postgres)');
    return 2;
  }
  const pgBin = postgresBinDir();
  if (!pgAutoctl() || !pgBin) {
    log(INSTALL_HINT);
    return 2;
  }
  if (!built()) {
    log('dist/src/server.js is missing: run `npm run build` (npm run chaos does)');
    return 2;
  }
  for (const port of [MONITOR_PORT, MONITOR_PORT + 1, MONITOR_PORT + 2]) {
    if (!(await portFree(port))) {
      log(`port ${port} on 127.0.0.1 is in use (set CHAOS_PORT to move the formation)`);
      return 2;
    }
  }

  const dir = mkdtempSync(path.join(tmpdir(), 'lineal-chaos-'));
  const logs = mkdtempSync(path.join(tmpdir(), 'lineal-chaos-logs-'));
  const formation = new Formation(dir, MONITOR_PORT, { pgBin, log });
  const services: Service[] = [];
  let cleaning: Promise<void> | undefined;
  const cleanup = () => {
    cleaning ??= (async () => {
      log('stopping the services and the formation');
      await Promise.all(services.map((s) => s.stop().catch(() => undefined)));
      await formation.down().catch((error) => log(`formation down: ${error}`));
      log('stopped');
    })();
    return cleaning;
  };
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      log(`${signal}: cleaning up`);
      void cleanup().finally(() => process.exit(130));
    });
  }

  let code = 1;
  try {
    code = await chaos(formation, services, logs);
    return code;
  } finally {
    await cleanup();
    // The services' logs are kept when something failed.
    if (code === 0) rmSync(logs, { recursive: true, force: true });
    else log(`the services' logs: ${logs}`);
  }
}

async function chaos(formation: Formation, services: Service[], logs: string): Promise<number> {
  log(
    `formation in ${formation.dir}: monitor 127.0.0.1:${formation.monitorPort}, nodes ${formation.nodePorts.join(', ')}`,
  );
  const upStarted = Date.now();
  await formation.up();
  log(
    `formation up (primary/secondary, fast-detect settings) in ${((Date.now() - upStarted) / 1000).toFixed(1)} s`,
  );

  // Roles and schema, as README "Running on PostgreSQL" says: the owner migrates, the service
  // logs in as a member of lineal_app that owns nothing.
  const primary = await formation.primary();
  if (!primary) throw new Error('no primary');
  await formation.nodeQuery(
    primary.port,
    `DO $$ BEGIN
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${OWNER}') THEN
         CREATE ROLE ${OWNER} LOGIN PASSWORD '${OWNER}';
       END IF;
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'lineal_app') THEN
         CREATE ROLE lineal_app NOLOGIN;
       END IF;
       IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '${APP}') THEN
         CREATE ROLE ${APP} LOGIN PASSWORD '${APP}';
       END IF;
     END $$`,
  );
  await formation.nodeQuery(primary.port, `GRANT lineal_app TO ${APP}`);
  await formation.nodeQuery(primary.port, `ALTER DATABASE lineal OWNER TO ${OWNER}`);
  const ownerUrl = `postgres://${OWNER}:${OWNER}@127.0.0.1:${primary.port}/lineal`;
  const owner = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: ownerUrl, max: 1 }) }),
  });
  await migrateToLatest(owner);
  await owner.destroy();
  const direct = await openPostgresDatabase({
    url: `postgres://${APP}:${APP}@127.0.0.1:${primary.port}/lineal`,
    poolMax: 1,
  });
  const platformToken = (await createPlatformAdminKey(direct, 'chaos run')).token;
  await direct.close();
  const [serverVersion] = await formation.nodeQuery<{ v: string }>(
    primary.port,
    "SELECT current_setting('server_version') AS v",
  );

  const hosts = formation.nodePorts.map((port) => `127.0.0.1:${port}`).join(',');
  const databaseUrl = `postgres://${APP}:${APP}@${hosts}/lineal?target_session_attrs=read-write`;
  log(`services on DATABASE_URL=${databaseUrl.replace(`:${APP}@`, ':***@')}`);
  for (const name of ['service-1', 'service-2']) {
    services.push(
      await startService(
        name,
        { DATABASE_URL: databaseUrl, LINEAL_CPR_SECRET: CPR_SECRET, RATE_LIMIT_MAX: '0' },
        path.join(logs, `${name}.log`),
      ),
    );
  }
  const tenant: Tenant = await seedTenant(services[0]?.baseUrl as string, platformToken, {
    code: '851',
    name: 'Chaos',
    children: CHILDREN,
    refPrefix: 'chaos',
    round: true,
  });
  log(`tenant: municipality, admin key, a unit, ${CHILDREN} children, a round`);

  let timeline: { at: number; status: number }[] = [];
  const observe = (status: number, at: number) => timeline.push({ at, status });
  const loaders = services.map((service) =>
    writeLoad(() => ({ base: service.baseUrl, ...tenant }), {
      clients: CLIENTS,
      // 503s are retried every 250 ms with the same key: up to ~2 minutes per submission.
      attempts: 500,
      observe,
    }),
  );

  const results: EventResult[] = [];
  const allOutcomes: Outcome[] = [];
  let lastAck = 0;

  type Mark = (label: string) => number;
  const events: {
    id: string;
    event: string;
    unplanned: boolean;
    run: (mark: Mark) => Promise<string>;
  }[] = [
    {
      id: 'a',
      event: 'planned switchover (`pg_autoctl perform switchover`)',
      unplanned: false,
      run: async (mark) => {
        const { from, to } = await formation.switchover();
        const healthy = mark('switched over, healthy');
        return `primary ${from} → ${to}; primary/secondary again after ${healthy.toFixed(1)} s`;
      },
    },
    {
      id: 'b',
      event: '`kill -9` of the primary’s postmaster',
      unplanned: true,
      run: async (mark) => {
        const before = await formation.primary();
        if (!before) throw new Error('no primary');
        const pid = formation.killPostmaster(before.name);
        mark('killed');
        await sleep(1_000);
        await formation.waitHealthy();
        const healthy = mark('healthy');
        const after = await formation.primary();
        return after?.name === before.name
          ? `${before.name}'s pg_autoctl restarted its postmaster (pid ${pid}) in place: no failover; primary/secondary again after ${healthy.toFixed(1)} s`
          : `${before.name}'s postmaster (pid ${pid}) killed; the monitor failed over to ${after?.name}; primary/secondary again after ${healthy.toFixed(1)} s`;
      },
    },
    {
      id: 'b2',
      event: '`kill -9` of the primary node (pg_autoctl + postgres: host loss), then its rejoin',
      unplanned: true,
      run: async (mark) => {
        const before = await formation.primary();
        if (!before) throw new Error('no primary');
        formation.killService(before.name);
        const killed = Date.now();
        mark('killed');
        await formation.waitFor('a new primary', async () => {
          const p = await formation.primary();
          return p !== undefined && p.name !== before.name;
        });
        const promoted = await formation.primary();
        const promotedAt = mark(`${promoted?.name} ${promoted?.reported}`);
        await formation.waitFor(
          'a write acknowledged by the new primary',
          async () => lastAck > killed && lastAck > Date.now() - 1_000,
          60_000,
        );
        mark('writes again');
        // The survivor alone acknowledges writes for a while (wait_primary, no sync standby).
        await sleep(AFTER_MS);
        formation.startService(before.name);
        const restarted = mark(`${before.name} restarted (rejoin)`);
        await formation.waitHealthy();
        const healthy = mark('healthy');
        return (
          `${before.name} lost; ${promoted?.name} ${promoted?.reported} after ${promotedAt.toFixed(1)} s; ` +
          `${before.name} started again at ${restarted.toFixed(1)} s, back as secondary (sync) at ${healthy.toFixed(1)} s`
        );
      },
    },
    {
      id: 'c',
      event: 'restart of the standby (`pg_autoctl stop --fast`, run)',
      unplanned: false,
      run: async (mark) => {
        const standby = await formation.standby();
        if (!standby) throw new Error('no standby');
        await formation.restartNode(standby.name);
        mark('stopped and started');
        await formation.waitHealthy();
        const healthy = mark('healthy');
        return `${standby.name} stopped and started; streaming synchronously again after ${healthy.toFixed(1)} s`;
      },
    },
  ];

  for (const spec of events) {
    await formation.waitHealthy();
    timeline = [];
    for (const l of loaders) {
      l.statuses.clear();
      l.badProblems.length = 0;
    }
    log(`(${spec.id}) ${spec.event}: load on both services`);
    const runs = loaders.map((l) => l.load());
    const ackWatcher = setInterval(() => {
      lastAck = Math.max(lastAck, ...runs.map((r) => r.lastSuccess()));
    }, 20);
    const loadStarted = Date.now();
    await sleep(BEFORE_MS);
    const t0 = Date.now();
    const marks: Record<string, number> = {};
    const mark: Mark = (label) => {
      marks[label] = Number(((Date.now() - t0) / 1000).toFixed(2));
      log(`(${spec.id}) +${marks[label]} s ${label}`);
      return marks[label];
    };
    let detail = '';
    let error: string | undefined;
    try {
      detail = await spec.run(mark);
    } catch (e) {
      error = e instanceof Error ? e.message : String(e);
      log(`(${spec.id}) failed: ${error}`);
    }
    await sleep(AFTER_MS);
    const outcomes = (await Promise.all(runs.map((r) => r.stop()))).flat();
    clearInterval(ackWatcher);
    allOutcomes.push(...outcomes);

    const acked = outcomes.filter((o) => o.id);
    const acks = [loadStarted, ...acked.map((o) => o.ackedAt as number).sort((x, y) => x - y)];
    let gap = { ms: 0, from: 0, to: 0 };
    for (let i = 1; i < acks.length; i++) {
      const ms = (acks[i] as number) - (acks[i - 1] as number);
      if (ms > gap.ms) gap = { ms, from: acks[i - 1] as number, to: acks[i] as number };
    }
    let longest503 = 0;
    let since503: number | undefined;
    for (const { at, status } of timeline.sort((x, y) => x.at - y.at)) {
      if (status === 503) since503 ??= at;
      else if (status === 201 && since503 !== undefined) {
        longest503 = Math.max(longest503, at - since503);
        since503 = undefined;
      }
    }
    const statuses: Record<string, number> = {};
    for (const l of loaders) {
      for (const [status, n] of l.statuses) statuses[status] = (statuses[status] ?? 0) + n;
    }
    const check = await checkStored(formation, outcomes);
    // What the monitor decided meanwhile (its event log), in seconds after the event.
    const monitorEvents = (
      await formation
        .monitorQuery<{ ms: number; nodename: string; state: string; description: string }>(
          `SELECT (extract(epoch FROM eventtime) * 1000)::float8 AS ms, nodename,
                  reportedstate || ' → ' || goalstate AS state, description
           FROM pgautofailover.event WHERE eventtime >= to_timestamp(${t0 / 1000}) ORDER BY eventid`,
        )
        .catch(() => [])
    ).map(
      (e) => `+${((e.ms - t0) / 1000).toFixed(2)} s ${e.nodename} ${e.state}: ${e.description}`,
    );
    const result: EventResult = {
      id: spec.id,
      event: spec.event,
      unplanned: spec.unplanned,
      detail,
      marks,
      monitorEvents,
      submissions: outcomes.length,
      acknowledged: acked.length,
      unknown: outcomes.length - acked.length,
      lost: check.lost,
      duplicated: check.duplicated,
      unwritableSeconds: Number((gap.ms / 1000).toFixed(2)),
      unwritableWindow: [
        Number(((gap.from - t0) / 1000).toFixed(2)),
        Number(((gap.to - t0) / 1000).toFixed(2)),
      ],
      longest503Seconds: Number((longest503 / 1000).toFixed(2)),
      statuses,
      badProblems: loaders.reduce((n, l) => n + l.badProblems.length, 0),
      servicesUp: services.every((s) => s.exit() === null),
      failures: [],
      ...(error ? { error } : {}),
    };
    result.failures = failuresOf(result);
    results.push(result);
    log(
      `(${spec.id}) ${detail}: ${result.acknowledged} acknowledged, ${result.lost} lost, ${result.duplicated} duplicated, ` +
        `unwritable ${result.unwritableSeconds} s, statuses ${JSON.stringify(statuses)}`,
    );
    if (error) break;
  }

  // All events' acknowledged writes on the final primary, with their recommendation and audit
  // entry, and no more assessments than submissions.
  const summaryFailures: string[] = [];
  const final = await checkStored(formation, allOutcomes, true);
  const finalPrimary = await formation.primary();
  // ...and on the standby, once it has replayed everything the primary has: an acknowledged
  // commit was flushed there (synchronous_commit = on), it must be visible after replay.
  const standby = await formation.standby();
  let onStandby: Awaited<ReturnType<typeof checkStored>> | undefined;
  if (finalPrimary && standby) {
    const [lsn] = await formation.nodeQuery<{ lsn: string }>(
      finalPrimary.port,
      'SELECT pg_current_wal_lsn()::text AS lsn',
    );
    await formation.waitFor('the standby to replay', async () => {
      const [row] = await formation.nodeQuery<{ done: boolean }>(
        standby.port,
        'SELECT pg_last_wal_replay_lsn() >= $1::pg_lsn AS done',
        [lsn?.lsn],
      );
      return row?.done === true;
    });
    onStandby = await checkStored(formation, allOutcomes, true, standby.port);
    if (onStandby.lost > 0) {
      summaryFailures.push(`${onStandby.lost} acknowledged writes missing on the standby`);
    }
    if (onStandby.duplicated > 0)
      summaryFailures.push(`${onStandby.duplicated} duplicated on the standby`);
  } else summaryFailures.push('no primary and standby at the end');
  if (final.lost > 0) summaryFailures.push(`${final.lost} acknowledged writes missing at the end`);
  if (final.duplicated > 0) summaryFailures.push(`${final.duplicated} duplicated at the end`);
  if ((final.incomplete ?? 0) > 0) {
    summaryFailures.push(
      `${final.incomplete} acknowledged assessments without recommendation or audit entry`,
    );
  }
  if ((final.total ?? 0) > allOutcomes.length) {
    summaryFailures.push(`${final.total} assessments stored for ${allOutcomes.length} submissions`);
  }
  for (const s of services) {
    if (s.exit() !== null)
      summaryFailures.push(`${s.name} exited (${s.exit()}):\n${tail(s.logFile)}`);
  }
  if (results.length < events.length) summaryFailures.push('not every event ran');
  const ok = summaryFailures.length === 0 && results.every((r) => r.failures.length === 0);

  const report = {
    startedAt: new Date(started).toISOString(),
    durationSeconds: Math.round((Date.now() - started) / 1000),
    ok,
    machine: {
      cpus: cpus().length,
      node: process.version,
      postgres: serverVersion?.v,
      pgAutoctl: version('pg_autoctl', ['--version']),
    },
    setup: {
      formation:
        'pg_auto_failover: monitor + 2 data nodes, 127.0.0.1, replication-quorum true, candidate-priority 50',
      ports: { monitor: formation.monitorPort, nodes: formation.nodePorts },
      monitorSettings: FAST_MONITOR_SETTINGS,
      networkPartitionTimeoutSeconds: Number(NETWORK_PARTITION_TIMEOUT_S),
      walRetrieveRetryInterval: WAL_RETRIEVE_RETRY_INTERVAL,
      services: services.length,
      clientsPerService: CLIENTS,
      databaseUrl: databaseUrl.replace(`:${APP}@`, ':***@'),
    },
    events: results,
    final: {
      ...final,
      primary: finalPrimary?.name,
      submissions: allOutcomes.length,
      standby: standby && onStandby ? { name: standby.name, ...onStandby } : undefined,
    },
    failures: [
      ...results.flatMap((r) => r.failures.map((f) => `(${r.id}) ${f}`)),
      ...summaryFailures,
    ],
  };
  const markdown = markdownTable(results, report.final);
  process.stdout.write(`\n${markdown}\n`);
  const resultsDir = path.join('bench', 'results');
  mkdirSync(resultsDir, { recursive: true });
  const stamp = report.startedAt.replace(/[:.]/g, '-');
  writeFileSync(
    path.join(resultsDir, `chaos-${stamp}.json`),
    `${JSON.stringify(report, null, 2)}\n`,
  );
  writeFileSync(path.join(resultsDir, `chaos-${stamp}.md`), `${markdown}\n`);
  log(`results written to bench/results/chaos-${stamp}.{json,md}`);
  if (!ok) {
    process.stderr.write(`\nCHAOS FAILED:\n${report.failures.map((f) => `  - ${f}`).join('\n')}\n`);
    return 1;
  }
  log('every target holds');
  return 0;
}

function failuresOf(r: EventResult): string[] {
  const failures: string[] = [];
  if (r.error) failures.push(`event failed: ${r.error}`);
  if (r.lost > 0) failures.push(`${r.lost} acknowledged writes lost`);
  if (r.duplicated > 0) failures.push(`${r.duplicated} duplicated`);
  if (r.unplanned && r.unwritableSeconds > UNPLANNED_MAX_S) {
    failures.push(`unwritable for ${r.unwritableSeconds} s (> ${UNPLANNED_MAX_S} s)`);
  }
  if (!r.servicesUp) failures.push('a service process exited');
  if (r.badProblems > 0) failures.push(`${r.badProblems} 503s without problem+json or Retry-After`);
  const other = Object.keys(r.statuses).filter((s) => !['201', '503', '409'].includes(s));
  if (other.length > 0) failures.push(`unexpected statuses ${other.join(', ')}`);
  if (r.acknowledged === 0) failures.push('no write acknowledged');
  return failures;
}

/**
 * Reads the load's assessments on the current primary (as the superuser: row-level security
 * does not apply). lost: acknowledged but missing, or stored under another id; duplicated: keys
 * stored more than once. With `complete`, also counts the acknowledged assessments without
 * their recommendation or audit entry, and all assessments stored.
 */
async function checkStored(
  formation: Formation,
  outcomes: Outcome[],
  complete = false,
  on?: number,
) {
  let port = on;
  await formation.waitFor('a primary to check on', async () => {
    port ??= (await formation.primary())?.port;
    return port !== undefined;
  });
  const rows = await formation.nodeQuery<{ id: string; justification: string }>(
    port as number,
    'SELECT id::text, justification FROM assessments WHERE justification = ANY($1::text[])',
    [outcomes.map((o) => `load ${o.key}`)],
  );
  const byKey = new Map<string, string[]>();
  for (const row of rows) {
    const key = row.justification.replace(/^load /, '');
    byKey.set(key, [...(byKey.get(key) ?? []), row.id]);
  }
  const acked = outcomes.filter((o) => o.id);
  const lost = acked.filter((o) => !byKey.get(o.key)?.includes(o.id as string)).length;
  const duplicated = [...byKey.values()].reduce((n, ids) => n + ids.length - 1, 0);
  const storedUnknown = outcomes.filter((o) => !o.id && byKey.has(o.key)).length;
  if (!complete) return { lost, duplicated, storedUnknown };
  const ids = acked.map((o) => o.id as string);
  const [recommended] = await formation.nodeQuery<{ n: number }>(
    port as number,
    'SELECT count(DISTINCT assessment_id)::int AS n FROM recommendations WHERE assessment_id = ANY($1::uuid[])',
    [ids],
  );
  const [audited] = await formation.nodeQuery<{ n: number }>(
    port as number,
    `SELECT count(DISTINCT resource_id)::int AS n FROM audit_log
     WHERE resource_type = 'assessment' AND action = 'create' AND resource_id = ANY($1::text[])`,
    [ids],
  );
  const [total] = await formation.nodeQuery<{ n: number }>(
    port as number,
    'SELECT count(*)::int AS n FROM assessments',
  );
  const incomplete = ids.length - Math.min(recommended?.n ?? 0, audited?.n ?? 0);
  return { lost, duplicated, storedUnknown, incomplete, total: total?.n };
}

function markdownTable(
  results: EventResult[],
  final: {
    lost: number;
    duplicated: number;
    submissions: number;
    total?: number | undefined;
    primary?: string | undefined;
    standby?:
      | { name: string; total?: number | undefined; lost: number; duplicated: number }
      | undefined;
  },
): string {
  const lines = [
    '| event | acknowledged writes | lost | duplicated | longest time without an acknowledged write | 503s (problem+json with Retry-After) | other statuses | service exits | what happened |',
    '| --- | ---: | ---: | ---: | ---: | ---: | --- | --- | --- |',
  ];
  for (const r of results) {
    const other = Object.entries(r.statuses)
      .filter(([s]) => s !== '201' && s !== '503')
      .map(([s, n]) => `${s === '0' ? 'refused' : s}: ${n}`)
      .join(', ');
    const n503 = r.statuses['503'] ?? 0;
    lines.push(
      `| (${r.id}) ${r.event} | ${r.acknowledged} | ${r.lost} | ${r.duplicated} | ${r.unwritableSeconds.toFixed(1)} s | ${n503}${n503 > 0 ? (r.badProblems === 0 ? ' (yes)' : ` (${r.badProblems} not)`) : ''} | ${other || 'none'} | ${r.servicesUp ? 'none' : '**yes**'} | ${r.error ? `**failed: ${r.error}**` : r.detail} |`,
    );
  }
  lines.push(
    '',
    `Final check of all ${final.submissions} submissions on the primary ${final.primary}: ${final.total} assessments stored, ` +
      `${final.lost} acknowledged writes missing, ${final.duplicated} duplicated` +
      (final.standby
        ? `; on the standby ${final.standby.name} after replay: ${final.standby.total} stored, ${final.standby.lost} missing, ${final.standby.duplicated} duplicated.`
        : '.'),
  );
  return lines.join('\n');
}

main().then(
  (code) => process.exit(code),
  (error) => {
    process.stderr.write(
      `chaos: ${error instanceof Error ? (error.stack ?? error.message) : error}\n`,
    );
    process.exit(1);
  },
);
