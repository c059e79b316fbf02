import { type ChildProcess, spawn } from 'node:child_process';
import path from 'node:path';

/**
 * The real service process, as `npm start` runs it (from source through tsx, to skip the
 * build), for tests that start, kill and restart it.
 */
export const root = path.resolve(import.meta.dirname, '../..');
const running = new Set<ChildProcess>();

export interface Started {
  child: ChildProcess;
  output: () => string;
  exited: Promise<number | null>;
}

export function launch(script: string, env: Record<string, string>, args: string[] = []): Started {
  const child = spawn(process.execPath, ['--import', 'tsx', script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  running.add(child);
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) =>
    child.on('exit', (code) => {
      running.delete(child);
      resolve(code);
    }),
  );
  return { child, output: () => output, exited };
}

export async function waitFor(
  started: Started,
  pattern: RegExp,
  ms = 60_000,
): Promise<RegExpMatchArray> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    const match = started.output().match(pattern);
    if (match) return match;
    if (started.child.exitCode !== null) break;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`no ${pattern} in output:\n${started.output()}`);
}

export async function startServer(env: Record<string, string>) {
  const started = launch('src/server.ts', { PORT: '0', ...env });
  const [, port] = await waitFor(started, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
  await waitFor(started, /lineal is ready/);
  return { ...started, base: `http://127.0.0.1:${port}` };
}

/** Kills every process a test file started and left running (for afterAll). */
export function killAll(): void {
  for (const child of running) child.kill('SIGKILL');
}
