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

/**
 * Who holds the lock. A pid alone is reused: in a container the service is pid 1 after every
 * restart, so a lock left by a killed pid 1 would look held by the new pid 1 for ever. The
 * process's start time (in clock ticks since boot) and the kernel's boot id make the identity
 * unique on Linux; elsewhere they are absent and the pid is all there is.
 */
interface LockContent {
  pid: number;
  host: string;
  startedAt: string;
  /** /proc/<pid>/stat field 22 (Linux only). */
  processStart?: string;
  /** /proc/sys/kernel/random/boot_id (Linux only). */
  bootId?: string;
}

/** Data directories this process holds (resolved paths). */
const heldHere = new Set<string>();

function readProc(file: string): string | undefined {
  try {
    return readFileSync(file, 'utf8');
  } catch {
    return undefined;
  }
}

function bootId(): string | undefined {
  return readProc('/proc/sys/kernel/random/boot_id')?.trim() || undefined;
}

/** A process's start time in clock ticks since boot, or undefined when /proc cannot tell. */
export function processStartTime(pid: number): string | undefined {
  const stat = readProc(`/proc/${pid}/stat`);
  if (!stat) return undefined;
  // Field 2 (the command name) is in parentheses and may contain spaces: count after its end.
  const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  // fields[0] is field 3 (state), so field 22 is fields[19].
  return fields[19];
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

/** Whether the process that wrote the lock still runs (on this host). */
function holderRuns(holder: LockContent, dir: string): boolean {
  if (holder.pid === process.pid) {
    // This very process wrote it only if it holds the directory now; otherwise an earlier
    // process with the same pid (pid 1 in a container, restarted) left it behind.
    return heldHere.has(dir);
  }
  if (!isAlive(holder.pid)) return false;
  const boot = bootId();
  if (holder.bootId && boot && holder.bootId !== boot) return false;
  const start = processStartTime(holder.pid);
  if (holder.processStart && start && holder.processStart !== start) return false;
  return true;
}

function readLock(file: string): LockContent | undefined {
  try {
    return JSON.parse(readFileSync(file, 'utf8')) as LockContent;
  } catch {
    return undefined;
  }
}

/**
 * An exclusive lock on the embedded database's directory: a lock file holding the owner's
 * identity (pid, process start time, boot id), written whole to a temporary file and then
 * hard-linked into place (link(2) fails atomically when the lock exists, and no reader ever sees
 * a half-written lock). PGlite has a single connection and no lock of its own, so two processes
 * on one directory would corrupt it. A lock left behind by a process that no longer runs (a
 * crash, kill -9) is taken over at once, also when a new process got the same pid (pid 1 in a
 * container). Hand-written rather than proper-lockfile, whose mtime-based staleness makes a
 * restart after a crash wait for the lock to go stale.
 */
export function acquireDataDirLock(dataDir: string): { release(): void } {
  mkdirSync(dataDir, { recursive: true });
  const dir = path.resolve(dataDir);
  const file = path.join(dir, 'lineal.lock');
  const content: LockContent = {
    pid: process.pid,
    host: hostname(),
    startedAt: new Date().toISOString(),
    processStart: processStartTime(process.pid),
    bootId: bootId(),
  };
  const temp = `${file}.${process.pid}`;
  writeFileSync(temp, JSON.stringify(content));
  try {
    return lockWith(temp, file, dir, dataDir, content);
  } finally {
    rmSync(temp, { force: true });
  }
}

function lockWith(temp: string, file: string, dir: string, dataDir: string, content: LockContent) {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      linkSync(temp, file);
      heldHere.add(dir);
      let released = false;
      return {
        release() {
          if (released) return;
          released = true;
          heldHere.delete(dir);
          const holder = readLock(file);
          if (holder?.pid === process.pid && holder.processStart === content.processStart) {
            rmSync(file, { force: true });
          }
        },
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const holder = readLock(file);
      if (holder && holder.host === content.host && holderRuns(holder, dir)) {
        throw new DataDirLockedError(dataDir, holder.pid);
      }
      if (holder && holder.host !== content.host) {
        throw new Error(
          `The data directory ${dataDir} is locked by host ${holder.host} (pid ${holder.pid}). ` +
            `If that process is gone, delete ${file}.`,
        );
      }
      // Stale (its process is gone or is another one now) or unreadable: remove it and retry.
      rmSync(file, { force: true });
    }
  }
  throw new Error(`Could not lock the data directory ${dataDir}: ${file} keeps reappearing.`);
}
