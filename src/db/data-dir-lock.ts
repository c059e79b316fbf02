import { linkSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname } from 'node:os';
import path from 'node:path';

export class DataDirLockedError extends Error {
  constructor(
    readonly dataDir: string,
    readonly holderPid: number,
  ) {
    super(
      `The data directory ${dataDir} is in use by another lineal process (pid ${holderPid}). ` +
        'Stop that process first, or point LINEAL_DATA_DIR at another directory.',
    );
    this.name = 'DataDirLockedError';
  }
}

interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}

function readLock(file: string): LockContent | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on the embedded database's directory: a lock file holding the owner's pid,
 * written whole to a temporary file and then hard-linked into place (link(2) fails atomically
 * when the lock exists, and no reader ever sees a half-written lock). PGlite has a single connection and no lock of its own, so two
 * processes on one directory would corrupt it. A lock left behind by a process that no longer
 * runs (a crash, kill -9) is taken over at once. Hand-written rather than proper-lockfile,
 * whose mtime-based staleness makes a restart after a crash wait for the lock to go stale.
 */
export function acquireDataDirLock(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const file = path.join(dataDir, 'lineal.lock');
  const content: LockContent = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
  };
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, JSON.stringify(content));
  try {
    return lockWith(temp, file, dataDir, content);
  } finally {
    rmSync(temp, { force: true });
  }
}

function lockWith(temp: string, file: string, dataDir: string, content: LockContent) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      linkSync(temp, file);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          if (readLock(file)?.pid === process.pid) rmSync(file, { force: true });
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      if (holder && holder.host === content.host && isAlive(holder.pid)) {
        throw new DataDirLockedError(dataDir, holder.pid);
      }
      if (holder && holder.host !== content.host) {
        throw new Error(
          `The data directory ${dataDir} is locked by host ${holder.host} (pid ${holder.pid}). ` +
            `If that process is gone, delete ${file}.`,
        );
      }
      // Stale (its process is gone) or unreadable: remove it and try again.
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock the data directory ${dataDir}: ${file} keeps reappearing.`);
}
