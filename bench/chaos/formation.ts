import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import {
  chmodSync,
  chownSync,
  closeSync,
  existsSync,
  mkdirSync,
  openSync,
  readFileSync,
  readlinkSync,
  rmSync,
} from 'node:fs';
import path from 'node:path';
import pg from 'pg';

/**
 * A throw-away pg_auto_failover formation on loopback (the TypeScript port of the parts of
 * cluster.sh the chaos run needs): one monitor and two data nodes with synchronous replication,
 * so a commit is acknowledged once it is on both nodes while both are healthy. Runs as root;
 * initdb, pg_ctl and pg_autoctl refuse root, so every PostgreSQL tool runs as the `postgres`
 * user (`runuser -u postgres`) with its HOME and XDG_* directories under the formation's own
 * directory. The monitor listens on `monitorPort`, the nodes on the next two ports, all on
 * 127.0.0.1 with trust authentication and no SSL.
 */

export const INSTALL_HINT =
  'pg_autoctl (pg_auto_failover) is not installed. On Debian/Ubuntu, as root:\n' +
  '  apt-get install -y postgresql-15 postgresql-15-auto-failover';

/** Where pg_autoctl is, or undefined. */
export function pgAutoctl(): string | undefined {
  for (const dir of (process.env.PATH ?? '').split(':').concat(['/usr/bin', '/usr/local/bin'])) {
    if (dir && existsSync(path.join(dir, 'pg_autoctl'))) return path.join(dir, 'pg_autoctl');
  }
  return undefined;
}

export interface NodeRow {
  name: string;
  port: number;
  reported: string;
  goal: string;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * The settings that decide how soon a dead primary is replaced ([defaults]); measured in
 * /work/wt/_brief/ha/FINDINGS.md: with the defaults a host loss left the service without a
 * writable primary for ~51 s, with these 8-9 s. Monitor GUCs take effect on reload.
 */
export const FAST_MONITOR_SETTINGS: Record<string, string> = {
  'pgautofailover.health_check_period': '1000', // [5000 ms]
  'pgautofailover.health_check_timeout': '1000', // [5000 ms]
  'pgautofailover.health_check_max_retries': '1', // [2]
  'pgautofailover.health_check_retry_delay': '500', // [2000 ms]
  'pgautofailover.node_considered_unhealthy_timeout': '3000', // [20000 ms]
  'pgautofailover.primary_demote_timeout': '5000', // [30000 ms]
};
/**
 * Per data node: the old primary demotes itself when it sees neither monitor nor standby for
 * this long [20 s]; it must stay below primary_demote_timeout, or a partitioned old primary could
 * still take writes while the new one does.
 */
export const NETWORK_PARTITION_TIMEOUT_S = '3';
/** A standby notices a promote request only after this when its WAL receiver lost the primary [5s]. */
export const WAL_RETRIEVE_RETRY_INTERVAL = '500ms';

export class Formation {
  readonly nodeNames = ['node1', 'node2'] as const;
  readonly #pgBin: string;
  readonly #uid: number;
  readonly #gid: number;
  /** The `pg_autoctl run` of each service (monitor, node1, node2): its pid = its process group. */
  readonly #services = new Map<string, ChildProcess>();
  readonly #log: (message: string) => void;

  constructor(
    readonly dir: string,
    readonly monitorPort: number,
    options: { pgBin: string; log: (message: string) => void; timeoutMs?: number },
  ) {
    this.#pgBin = options.pgBin;
    this.#log = options.log;
    this.timeoutMs = options.timeoutMs ?? 120_000;
    this.#uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
    this.#gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
  }

  readonly timeoutMs: number;

  portOf(name: string): number {
    return this.monitorPort + 1 + this.nodeNames.indexOf(name as 'node1');
  }

  get nodePorts(): number[] {
    return this.nodeNames.map((name) => this.portOf(name));
  }

  get #env(): string[] {
    return [
      `HOME=${this.dir}`,
      `XDG_CONFIG_HOME=${this.dir}/xdg/config`,
      `XDG_DATA_HOME=${this.dir}/xdg/data`,
      `XDG_RUNTIME_DIR=${this.dir}/xdg/run`,
      `PATH=${this.#pgBin}:/usr/bin:/bin`,
      'PGCONNECT_TIMEOUT=3',
    ];
  }

  /** `pg_autoctl args…` as postgres; resolves with its output, rejects on failure. */
  ctl(args: string[], timeoutMs = this.timeoutMs): Promise<string> {
    return new Promise((resolve, reject) => {
      execFile(
        'runuser',
        ['-u', 'postgres', '--', 'env', ...this.#env, 'pg_autoctl', ...args],
        { timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
        (error, stdout, stderr) => {
          if (error) reject(new Error(`pg_autoctl ${args.join(' ')}: ${error.message}\n${stderr}`));
          else resolve(`${stdout}${stderr}`);
        },
      );
    });
  }

  /** One statement on the monitor (as autoctl_node, or postgres for ALTER SYSTEM). */
  async monitorQuery<T extends pg.QueryResultRow>(
    sql: string,
    user: 'autoctl_node' | 'postgres' = 'autoctl_node',
  ): Promise<T[]> {
    return query<T>(this.monitorPort, 'pg_auto_failover', user, sql);
  }

  /** One statement on a data node's database `lineal`, as the superuser. */
  nodeQuery<T extends pg.QueryResultRow>(port: number, sql: string, params: unknown[] = []) {
    return query<T>(port, 'lineal', 'postgres', sql, params);
  }

  async nodes(): Promise<NodeRow[]> {
    const rows = await this.monitorQuery<{
      nodename: string;
      nodeport: number;
      reportedstate: string;
      goalstate: string;
    }>(
      'select nodename, nodeport, reportedstate::text, goalstate::text from pgautofailover.node order by nodeid',
    );
    return rows.map((r) => ({
      name: r.nodename,
      port: r.nodeport,
      reported: r.reportedstate,
      goal: r.goalstate,
    }));
  }

  /** The node that takes writes as the monitor sees it (primary, wait_primary or single). */
  async primary(): Promise<NodeRow | undefined> {
    return (await this.nodes()).find(
      (n) => ['primary', 'wait_primary', 'single'].includes(n.reported) && n.goal === n.reported,
    );
  }

  async standby(): Promise<NodeRow | undefined> {
    return (await this.nodes()).find((n) => n.reported === 'secondary');
  }

  /**
   * One primary and one secondary, both in their goal state, and the primary really streams to
   * a synchronous (quorum) standby: the monitor's view lags a restart by a health check.
   */
  async healthy(): Promise<boolean> {
    try {
      const nodes = await this.nodes();
      const states = nodes
        .filter((n) => n.reported === n.goal)
        .map((n) => n.reported)
        .sort();
      if (states.join(' ') !== 'primary secondary') return false;
      const primary = nodes.find((n) => n.reported === 'primary') as NodeRow;
      const [row] = await this.nodeQuery<{ n: number }>(
        primary.port,
        `select count(*)::int as n from pg_stat_replication
         where state = 'streaming' and sync_state in ('sync', 'quorum')`,
      );
      return row?.n === 1;
    } catch {
      return false;
    }
  }

  /** Retries `check` every 250 ms until it is true; throws after the timeout. */
  async waitFor(what: string, check: () => Promise<boolean>, timeoutMs = this.timeoutMs) {
    const deadline = Date.now() + timeoutMs;
    while (!(await check().catch(() => false))) {
      if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms: ${what}`);
      await sleep(250);
    }
  }

  waitHealthy(): Promise<void> {
    return this.waitFor('primary/secondary, streaming synchronously', () => this.healthy());
  }

  /** Starts `pg_autoctl run` for a service in its own session (setsid): its pid is its group. */
  startService(name: string): void {
    const fd = openSync(path.join(this.dir, `${name}.log`), 'a');
    const child = spawn(
      'runuser',
      [
        '-u',
        'postgres',
        '--',
        'env',
        ...this.#env,
        'pg_autoctl',
        'run',
        '--pgdata',
        path.join(this.dir, name),
      ],
      { detached: true, stdio: ['ignore', fd, fd] },
    );
    closeSync(fd);
    child.unref();
    this.#services.set(name, child);
  }

  /** Whether any process of the service's group is alive. */
  serviceAlive(name: string): boolean {
    const pid = this.#services.get(name)?.pid;
    if (!pid) return false;
    try {
      process.kill(-pid, 0);
      return true;
    } catch {
      return false;
    }
  }

  /** kill -9 of the service's whole process group: pg_autoctl and its postmaster (host loss). */
  killService(name: string): void {
    const pid = this.#services.get(name)?.pid;
    if (!pid) return;
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }

  /**
   * The pid of a node's running postmaster (first line of postmaster.pid), checked against the
   * process's working directory (the data directory) so a stale file never names another process.
   */
  postmasterPid(name: string): number | undefined {
    try {
      const pgdata = path.join(this.dir, name);
      const pid = Number(readFileSync(path.join(pgdata, 'postmaster.pid'), 'utf8').split('\n')[0]);
      return pid > 0 && readlinkSync(`/proc/${pid}/cwd`) === pgdata ? pid : undefined;
    } catch {
      return undefined;
    }
  }

  async up(): Promise<void> {
    if (existsSync(path.join(this.dir, 'monitor'))) throw new Error(`${this.dir}/monitor exists`);
    for (const sub of ['xdg/config', 'xdg/data', 'xdg/run']) {
      mkdirSync(path.join(this.dir, sub), { recursive: true });
    }
    chmodSync(this.dir, 0o755);
    chmodSync(path.join(this.dir, 'xdg/run'), 0o700);
    for (const sub of ['', 'xdg', 'xdg/config', 'xdg/data', 'xdg/run']) {
      chownSync(path.join(this.dir, sub), this.#uid, this.#gid);
    }
    const monitorUri = `postgres://autoctl_node@127.0.0.1:${this.monitorPort}/pg_auto_failover?sslmode=disable`;
    this.#log(`monitor on 127.0.0.1:${this.monitorPort}`);
    // --listen is not in pg_autoctl's --help but works: without it the monitor listens on *.
    await this.ctl([
      'create',
      'monitor',
      '--pgdata',
      path.join(this.dir, 'monitor'),
      '--pgport',
      String(this.monitorPort),
      '--hostname',
      '127.0.0.1',
      '--listen',
      '127.0.0.1',
      '--auth',
      'trust',
      '--no-ssl',
    ]);
    this.startService('monitor');
    await this.waitFor(
      'the monitor',
      async () => (await this.monitorQuery('select 1')).length === 1,
    );
    for (const name of this.nodeNames) {
      this.#log(`${name} on 127.0.0.1:${this.portOf(name)}`);
      await this.ctl([
        'create',
        'postgres',
        '--pgdata',
        path.join(this.dir, name),
        '--pgport',
        String(this.portOf(name)),
        '--pghost',
        '127.0.0.1',
        '--listen',
        '127.0.0.1',
        '--hostname',
        '127.0.0.1',
        '--name',
        name,
        '--dbname',
        'lineal',
        '--monitor',
        monitorUri,
        '--auth',
        'trust',
        '--no-ssl',
        '--replication-quorum',
        'true',
        '--candidate-priority',
        '50',
      ]);
      this.startService(name);
      if (name === 'node1') {
        await this.waitFor('node1 to be single', async () =>
          (await this.nodes()).some((n) => n.name === 'node1' && n.reported === 'single'),
        );
      }
    }
    await this.waitHealthy();
    await this.fastDetect();
  }

  /** Shortens the monitor's health checks and failover timeouts (see FAST_MONITOR_SETTINGS). */
  async fastDetect(): Promise<void> {
    for (const [name, value] of Object.entries(FAST_MONITOR_SETTINGS)) {
      await this.monitorQuery(`alter system set ${name} = ${value}`, 'postgres');
    }
    await this.monitorQuery('select pg_reload_conf()', 'postgres');
    for (const name of this.nodeNames) {
      await this.ctl([
        'config',
        'set',
        '--pgdata',
        path.join(this.dir, name),
        'timeout.network_partition_timeout',
        NETWORK_PARTITION_TIMEOUT_S,
      ]);
      await this.nodeQuery(
        this.portOf(name),
        `alter system set wal_retrieve_retry_interval = '${WAL_RETRIEVE_RETRY_INTERVAL}'`,
      );
      await this.nodeQuery(this.portOf(name), 'select pg_reload_conf()');
    }
  }

  /** `pg_autoctl perform switchover`, then waits for primary/secondary on the other node. */
  async switchover(): Promise<{ from: string; to: string }> {
    const before = (await this.primary())?.name ?? '?';
    try {
      await this.ctl([
        'perform',
        'switchover',
        '--pgdata',
        path.join(this.dir, 'monitor'),
        '--formation',
        'default',
        '--wait',
        String(Math.round(this.timeoutMs / 1000)),
      ]);
    } catch (error) {
      // pg_autoctl 2.0 prints "Monitor ERROR: invalid input syntax for type integer" (its
      // get_nodes with an empty group) and may fail although the switchover goes on: the
      // outcome is what the monitor reports next.
      this.#log(`pg_autoctl perform switchover: ${(error as Error).message.split('\n')[0]}`);
    }
    await this.waitFor('the other node as primary', async () => {
      const p = await this.primary();
      return p !== undefined && p.name !== before && (await this.healthy());
    });
    return { from: before, to: (await this.primary())?.name ?? '?' };
  }

  /** kill -9 of a node's postmaster only (its keeper restarts it in place). */
  killPostmaster(name: string): number {
    const pid = this.postmasterPid(name);
    if (!pid) throw new Error(`no postmaster.pid for ${name}`);
    process.kill(pid, 'SIGKILL');
    return pid;
  }

  /** Stops a node's pg_autoctl (and its postgres) with a fast shutdown and starts it again. */
  async restartNode(name: string): Promise<void> {
    await this.ctl(['stop', '--pgdata', path.join(this.dir, name), '--fast']);
    await this.waitFor(`${name} to stop`, async () => !this.serviceAlive(name));
    this.startService(name);
  }

  /** Stops every process of the formation and removes its directory. */
  async down(): Promise<void> {
    const names = ['node2', 'node1', 'monitor'];
    await Promise.all(
      names
        .filter((name) => this.serviceAlive(name))
        .map((name) =>
          this.ctl(['stop', '--pgdata', path.join(this.dir, name), '--immediate'], 15_000).catch(
            () => undefined,
          ),
        ),
    );
    await sleep(500);
    for (const name of names) this.killService(name);
    // A postmaster left behind (its keeper died first): it is in the keeper's group unless the
    // keeper was restarted, so look at postmaster.pid too.
    for (const name of names) {
      const pid = this.postmasterPid(name);
      if (pid) {
        try {
          process.kill(pid, 'SIGKILL');
        } catch {
          // gone
        }
      }
    }
    await sleep(500);
    rmSync(this.dir, { recursive: true, force: true });
  }
}

async function query<T extends pg.QueryResultRow>(
  port: number,
  database: string,
  user: string,
  sql: string,
  params: unknown[] = [],
): Promise<T[]> {
  const client = new pg.Client({
    host: '127.0.0.1',
    port,
    database,
    user,
    connectionTimeoutMillis: 3_000,
    query_timeout: 10_000,
  });
  client.on('error', () => {});
  await client.connect();
  try {
    return (await client.query<T>(sql, params)).rows;
  } finally {
    await client.end().catch(() => undefined);
  }
}
