import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';
import { cpuSecondsOf } from './service.js';

/**
 * Where the CPU went during a case: the service process, PostgreSQL (the postmaster and all its
 * children: backends, autovacuum, writers) and the benchmark process itself (load generator or
 * pg client), each in CPU seconds from /proc.
 */
export interface CpuUse {
  seconds: number;
  serviceSeconds: number | null;
  databaseSeconds: number | null;
  harnessSeconds: number;
}

export interface CpuMeters {
  service?: (() => number) | undefined;
  database?: (() => number) | undefined;
}

export function startCpu(meters: CpuMeters): () => CpuUse {
  const t0 = performance.now();
  const h0 = process.cpuUsage();
  const s0 = meters.service?.();
  const d0 = meters.database?.();
  return () => {
    const h = process.cpuUsage(h0);
    const s = meters.service?.();
    const d = meters.database?.();
    return {
      seconds: (performance.now() - t0) / 1000,
      serviceSeconds: s !== undefined && s0 !== undefined ? s - s0 : null,
      databaseSeconds: d !== undefined && d0 !== undefined ? d - d0 : null,
      harnessSeconds: (h.user + h.system) / 1e6,
    };
  };
}

function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/** The postmaster of the server behind `url` (the parent of a backend of ours). */
export async function postmasterPid(url: string): Promise<number | null> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
    const backend = rows[0]?.pid;
    return backend ? parentOf(backend) : null;
  } catch {
    return null; // not on this machine, or /proc not readable
  } finally {
    await client.end();
  }
}

/** CPU seconds used so far by the postmaster and its live children. */
export function postgresCpuMeter(postmaster: number): () => number {
  return () => {
    let total = 0;
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      const pid = Number(entry);
      try {
        if (pid === postmaster || parentOf(pid) === postmaster) total += cpuSecondsOf(pid);
      } catch {
        // exited meanwhile
      }
    }
    return total;
  };
}
