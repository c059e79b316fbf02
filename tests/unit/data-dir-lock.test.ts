import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import {
  acquireDataDirLock,
  DataDirLockedError,
  processStartTime,
} from '../../src/db/data-dir-lock.js';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'lineal-lock-'));
const bootId = () => readFileSync('/proc/sys/kernel/random/boot_id', 'utf8').trim();
const onLinux = process.platform === 'linux';

/** A process that runs until the test kills it. */
async function sleeper() {
  const child = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 60_000)']);
  await new Promise((resolve) => child.once('spawn', resolve));
  return child;
}

function writeLock(dir: string, content: Record<string, unknown>) {
  writeFileSync(
    path.join(dir, 'lineal.lock'),
    JSON.stringify({ host: hostname(), startedAt: new Date().toISOString(), ...content }),
  );
}

describe('data directory lock', () => {
  it('is exclusive while held and free again once released', () => {
    const dir = tempDir();
    const lock = acquireDataDirLock(dir);
    const file = path.join(dir, 'lineal.lock');
    expect(JSON.parse(readFileSync(file, 'utf8')).pid).toBe(process.pid);
    // A live process (this one) holds it: a second acquisition fails with a clear error.
    expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
    expect(() => acquireDataDirLock(dir)).toThrow(/in use by another lineal process/);
    lock.release();
    expect(existsSync(file)).toBe(false);
    acquireDataDirLock(dir).release();
  });

  it('takes over a lock whose process is gone', () => {
    const dir = tempDir();
    // The pid of a process that has exited.
    const dead = spawnSync(process.execPath, ['-e', '0']).pid;
    writeFileSync(
      path.join(dir, 'lineal.lock'),
      JSON.stringify({ pid: dead, host: hostname(), startedAt: new Date().toISOString() }),
    );
    const lock = acquireDataDirLock(dir);
    expect(JSON.parse(readFileSync(path.join(dir, 'lineal.lock'), 'utf8')).pid).toBe(process.pid);
    lock.release();
  });

  it('refuses a lock held by another host', () => {
    const dir = tempDir();
    writeFileSync(
      path.join(dir, 'lineal.lock'),
      JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: new Date().toISOString() }),
    );
    expect(() => acquireDataDirLock(dir)).toThrow(/locked by host elsewhere/);
  });

  // Issue 12, point 3: the service as pid 1 in a container is pid 1 again after a SIGKILL and a
  // restart, so the pid alone says the lock is still held.
  it('takes over a lock left by an earlier process with its own pid (pid 1 restarted)', () => {
    const dir = tempDir();
    writeLock(dir, {
      pid: process.pid,
      ...(onLinux ? { processStart: '1', bootId: bootId() } : {}),
    });
    const lock = acquireDataDirLock(dir);
    const written = JSON.parse(readFileSync(path.join(dir, 'lineal.lock'), 'utf8'));
    expect(written.pid).toBe(process.pid);
    if (onLinux) expect(written.processStart).toBe(processStartTime(process.pid));
    lock.release();
    expect(existsSync(path.join(dir, 'lineal.lock'))).toBe(false);
  });

  it.skipIf(!onLinux)('takes over a lock whose pid now belongs to another process', async () => {
    const dir = tempDir();
    const other = await sleeper();
    try {
      writeLock(dir, { pid: other.pid, processStart: '1', bootId: bootId() });
      acquireDataDirLock(dir).release();
      // The same after a reboot: another boot id, whatever the start time.
      const start = processStartTime(other.pid ?? 0);
      writeLock(dir, { pid: other.pid, processStart: start, bootId: 'another-boot' });
      acquireDataDirLock(dir).release();
    } finally {
      other.kill('SIGKILL');
    }
  });

  it('refuses a lock whose holder still runs', async () => {
    const dir = tempDir();
    const holder = await sleeper();
    try {
      writeLock(dir, {
        pid: holder.pid,
        ...(onLinux ? { processStart: processStartTime(holder.pid ?? 0), bootId: bootId() } : {}),
      });
      expect(() => acquireDataDirLock(dir)).toThrow(DataDirLockedError);
    } finally {
      holder.kill('SIGKILL');
    }
  });
});
