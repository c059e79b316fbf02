import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { root, type Started, waitFor } from '../support/processes.js';

/**
 * Issue 12, point 3: the service as pid 1, as in a container (a pid namespace of its own), is
 * killed with SIGKILL and started again. The new process is pid 1 as well; the data-directory
 * lock the killed one left behind must not keep it from starting.
 */
const canUnshare =
  process.platform === 'linux' &&
  spawnSync('unshare', ['--pid', '--fork', '--mount-proc', 'true']).status === 0;

const started = new Set<Started>();
afterAll(() => {
  for (const s of started) s.child.kill('SIGKILL');
});

/** The server from source as pid 1 of a new pid namespace (`unshare --pid --fork`). */
function launchAsPid1(env: Record<string, string>): Started {
  const child = spawn(
    'unshare',
    ['--pid', '--fork', '--mount-proc', process.execPath, '--import', 'tsx', 'src/server.ts'],
    {
      cwd: root,
      env: { PATH: process.env.PATH ?? '', LOG_LEVEL: 'info', PORT: '0', ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let output = '';
  child.stdout?.on('data', (chunk) => {
    output += String(chunk);
  });
  child.stderr?.on('data', (chunk) => {
    output += String(chunk);
  });
  const exited = new Promise<number | null>((resolve) => child.on('exit', resolve));
  const s = { child, output: () => output, exited };
  started.add(s);
  return s;
}

/** The pid (outside the namespace) of the namespace's pid 1: unshare's only child. */
function pid1Of(s: Started): number {
  const pid = s.child.pid ?? 0;
  return Number(readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(' ')[0]);
}

describe.skipIf(!canUnshare)('the embedded engine as pid 1 of a container', () => {
  it('starts again after a SIGKILL', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lineal-pid1-'));
    const first = launchAsPid1({ LINEAL_DATA_DIR: dataDir });
    await waitFor(first, /lineal is ready/);
    const lock = JSON.parse(readFileSync(path.join(dataDir, 'lineal.lock'), 'utf8'));
    expect(lock.pid).toBe(1);
    process.kill(pid1Of(first), 'SIGKILL');
    await first.exited;

    // The lock is still there, naming pid 1; the restarted pid 1 takes it over.
    expect(JSON.parse(readFileSync(path.join(dataDir, 'lineal.lock'), 'utf8')).pid).toBe(1);
    const second = launchAsPid1({ LINEAL_DATA_DIR: dataDir });
    const [, port] = await waitFor(second, /Server listening at http:\/\/127\.0\.0\.1:(\d+)/);
    await waitFor(second, /lineal is ready/);
    expect(second.output()).not.toMatch(/in use by another lineal process/);
    expect((await fetch(`http://127.0.0.1:${port}/readyz`)).status).toBe(200);
    process.kill(pid1Of(second), 'SIGTERM');
    expect(await second.exited).toBe(0);
  }, 120_000);
});
