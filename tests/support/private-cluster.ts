import { execFile } from 'node:child_process';
import { chmodSync, chownSync, existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir, userInfo } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

/**
 * The PostgreSQL server binaries: LINEAL_TEST_PG_BIN (set by .ci/with-postgres.sh), else the
 * newest Debian cluster version. undefined when none is installed.
 */
export function postgresBinDir(): string | undefined {
  const fromEnv = process.env.LINEAL_TEST_PG_BIN;
  if (fromEnv && existsSync(path.join(fromEnv, 'pg_ctl'))) return fromEnv;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'pg_ctl')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(base, versions[0], 'bin') : undefined;
}

/** A TCP port on 127.0.0.1 that nothing listens on now. */
export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });
}

/**
 * A PostgreSQL cluster of a test's own, on a free loopback port, that the test may restart or
 * crash without disturbing the shared test server. initdb and pg_ctl refuse to run as root, so
 * as root they run as the postgres user (as in .ci/with-postgres.sh).
 */
export class PrivateCluster {
  readonly dir: string;
  readonly port: number;
  readonly #bin: string;

  private constructor(bin: string, dir: string, port: number) {
    this.#bin = bin;
    this.dir = dir;
    this.port = port;
  }

  /** A directory (owned by postgres when root) and a free port; nothing started yet. */
  static async #allocate(bin: string): Promise<PrivateCluster> {
    const dir = mkdtempSync(path.join(tmpdir(), 'lineal-private-pg-'));
    chmodSync(dir, 0o755);
    const cluster = new PrivateCluster(bin, dir, await freePort());
    if (userInfo().uid === 0) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const { stdout: gid } = await run('id', ['-g', 'postgres']);
      chownSync(dir, Number(stdout.trim()), Number(gid.trim()));
    }
    return cluster;
  }

  /**
   * A streaming replica (hot standby) of `primary`: `pg_basebackup -R -X stream -C -S <slot>`,
   * started. PostgreSQL's defaults allow it (wal_level=replica, initdb's replication trust
   * for 127.0.0.1).
   */
  static async standbyOf(primary: PrivateCluster, slot: string): Promise<PrivateCluster> {
    const cluster = await PrivateCluster.#allocate(primary.#bin);
    await cluster.#pg('pg_basebackup', [
      ...['-h', '127.0.0.1', '-p', String(primary.port), '-U', 'postgres'],
      ...['-D', cluster.data, '-R', '-X', 'stream', '-c', 'fast', '-C', '-S', slot],
    ]);
    await cluster.start();
    return cluster;
  }

  static async create(bin: string): Promise<PrivateCluster> {
    const cluster = await PrivateCluster.#allocate(bin);
    await cluster.#pg('initdb', [
      '-D',
      cluster.data,
      '-U',
      'postgres',
      '--auth=trust',
      '-E',
      'UTF8',
      '--no-locale',
    ]);
    await cluster.start();
    return cluster;
  }

  get data(): string {
    return path.join(this.dir, 'data');
  }

  get adminUrl(): string {
    return `postgres://postgres@127.0.0.1:${this.port}/postgres`;
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const binary = path.join(this.#bin, tool);
    const [command, argv] =
      userInfo().uid === 0
        ? ['runuser', ['-u', 'postgres', '--', binary, ...args]]
        : [binary, args];
    await run(command, argv, { timeout: 120_000 });
  }

  start(): Promise<void> {
    return this.#pg('pg_ctl', [
      '-D',
      this.data,
      '-l',
      path.join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      '-o',
      `-p ${this.port} -c listen_addresses=127.0.0.1 -k ${this.dir} -c max_connections=100`,
      'start',
    ]);
  }

  /** `pg_ctl restart -m <mode>`: fast (disconnects clients) or immediate (a crash, with recovery). */
  restart(mode: 'fast' | 'immediate'): Promise<void> {
    // -l again: without it the restarted server would write to (and hold open) our stdout pipe.
    const log = path.join(this.dir, 'server.log');
    return this.#pg('pg_ctl', [
      '-D',
      this.data,
      '-l',
      log,
      '-m',
      mode,
      '-w',
      '-t',
      '60',
      'restart',
    ]);
  }

  stop(mode: 'fast' | 'immediate' = 'fast'): Promise<void> {
    return this.#pg('pg_ctl', ['-D', this.data, '-m', mode, '-w', '-t', '60', 'stop']);
  }

  async destroy(): Promise<void> {
    await this.stop('immediate').catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
