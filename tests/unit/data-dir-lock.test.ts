import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { acquireDataDirLock, DataDirLockedError } from '../../src/db/data-dir-lock.js';

const tempDir = () => mkdtempSync(path.join(tmpdir(), 'lineal-lock-'));

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
});
