import { type ChildProcess, spawn } from 'node:child_process';
import { closeSync, existsSync, openSync, readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';

/** A service process as production runs it: the built server (dist/src/server.js). */
export interface Service {
  name: string;
  base: string;
  child: ChildProcess;
  logFile: string;
  /** null while it runs; its exit code (or signal) once it exited. */
  exit(): string | null;
  stop(): Promise<void>;
}

export const SERVER_SCRIPT = path.join('dist', 'src', 'server.js');

export function built(): boolean {
  return existsSync(SERVER_SCRIPT);
}

function freePort(): Promise<number> {
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

/** Starts the server on a free loopback port with `env` and waits until /readyz answers 200. */
export async function startService(
  name: string,
  env: Record<string, string>,
  logFile: string,
): Promise<Service> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const fd = openSync(logFile, 'a');
  const child = spawn(process.execPath, [SERVER_SCRIPT], {
    env: {
      PATH: process.env.PATH ?? '/usr/bin:/bin',
      HOME: process.env.HOME ?? '/tmp',
      NODE_ENV: 'production',
      HOST: '127.0.0.1',
      PORT: String(port),
      LOG_LEVEL: 'warn',
      ...env,
    },
    stdio: ['ignore', fd, fd],
  });
  closeSync(fd);
  let exit: string | null = null;
  const exited = new Promise<void>((resolve) =>
    child.once('exit', (code, signal) => {
      exit = signal ? `signal ${signal}` : `code ${code}`;
      resolve();
    }),
  );
  const service: Service = {
    name,
    base,
    child,
    logFile,
    exit: () => exit,
    async stop() {
      if (exit !== null) return;
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    },
  };
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (exit !== null) throw new Error(`${name} exited (${exit}):\n${tail(logFile)}`);
    try {
      if ((await fetch(`${base}/readyz`)).status === 200) return service;
    } catch {
      // not listening yet
    }
    if (Date.now() > deadline) {
      await service.stop();
      throw new Error(`${name} was not ready within 60 s:\n${tail(logFile)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}
