import { type ChildProcess, execFileSync, spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** The service as the benchmark runs it: the built server (dist/) in its own process. */
export interface ServiceProcess {
  pid: number;
  baseUrl: string;
  /** Resident set size now, in KiB (VmRSS of /proc/<pid>/status). */
  rssKiB(): number;
  /** CPU seconds (user + system) the process has used so far. */
  cpuSeconds(): number;
  stop(): Promise<void>;
  logFile: string;
  child: ChildProcess;
  /** null while it runs; its exit code (or signal) once it exited. */
  exit(): string | null;
}

let clockTicks: number | undefined;
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

export function rssKiBOf(pid: number): number {
  const status = readFileSync(`/proc/${pid}/status`, 'utf8');
  const match = /^VmRSS:\s+(\d+)\s+kB/m.exec(status);
  return match ? Number(match[1]) : 0;
}

export function cpuSecondsOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  // Fields after the command name (which may contain spaces) start after the last ')'.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // utime and stime are fields 14 and 15 of the whole line: 12 and 13 after the name.
  return (Number(fields[11]) + Number(fields[12])) / ticksPerSecond();
}

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

export function tail(file: string, lines = 30): string {
  try {
    return readFileSync(file, 'utf8').split('\n').slice(-lines).join('\n');
  } catch {
    return '';
  }
}

async function waitForHealth(
  baseUrl: string,
  exit: () => string | null,
  logFile: string,
  probe: string,
) {
  const deadline = Date.now() + 120_000;
  while (Date.now() < deadline) {
    if (exit() !== null) {
      throw new Error(`the service exited (${exit()}):\n${tail(logFile)}`);
    }
    try {
      const res = await fetch(`${baseUrl}${probe}`);
      if (res.ok) return;
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`the service did not answer ${probe} within 120 s:\n${tail(logFile)}`);
}

/**
 * Starts `node dist/src/server.js` with exactly `env` (plus PATH/HOME) on a free loopback port
 * and waits until `probe` (/healthz unless given; /readyz also waits for the database) answers.
 * Logs go to `logFile`.
 */
export async function startService(
  env: Record<string, string>,
  options: { logFile: string; profileDir?: string | undefined; probe?: '/healthz' | '/readyz' },
): Promise<ServiceProcess> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}`;
  const fd = openSync(options.logFile, 'a');
  const nodeArgs = options.profileDir ? ['--cpu-prof', `--cpu-prof-dir=${options.profileDir}`] : [];
  const child = spawn(process.execPath, [...nodeArgs, path.join('dist', 'src', 'server.js')], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      // The per-principal rate limit would answer 429 to a load test.
      RATE_LIMIT_MAX: '0',
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  const pid = child.pid;
  if (pid === undefined) throw new Error('the service did not start');
  let exit: string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    }),
  );
  try {
    await waitForHealth(baseUrl, () => exit, options.logFile, options.probe ?? '/healthz');
  } catch (error) {
    child.kill('SIGKILL');
    throw error;
  }
  return {
    pid,
    baseUrl,
    logFile: options.logFile,
    child,
    exit: () => exit,
    rssKiB: () => rssKiBOf(pid),
    cpuSeconds: () => cpuSecondsOf(pid),
    async stop() {
      if (exit !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 20_000);
      await exited;
      clearTimeout(timer);
    },
  };
}
