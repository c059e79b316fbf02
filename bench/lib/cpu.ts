import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import pg from 'pg';

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

/** The fields of /proc/<pid>/stat after the command name (field 3 is index 0). */
function statFields(pid: number): string[] {
  const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
  return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
}

function parentOf(pid: number): number {
  return Number(statFields(pid)[1]);
}

let ticks: number | undefined;
function ticksPerSecond(): number {
  if (ticks === undefined) {
    try {
      ticks = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      ticks = 100;
    }
  }
  return ticks;
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

/**
 * CPU seconds used so far by the postmaster and all its children: the live ones (utime + stime
 * of each) and those that exited (the postmaster's cutime + cstime: it reaps its backends), so a
 * connection closing during a case does not take its CPU time with it.
 */
export function postgresCpuMeter(postmaster: number): () => number {
  return () => {
    // utime, stime, cutime, cstime are fields 14–17: indexes 11–14 after the name.
    const own = statFields(postmaster);
    let total = Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
    for (const entry of readdirSync('/proc')) {
      if (!/^\d+$/.test(entry)) continue;
      try {
        const fields = statFields(Number(entry));
        if (Number(fields[1]) === postmaster) total += Number(fields[11]) + Number(fields[12]);
      } catch {
        // exited meanwhile
      }
    }
    return total / ticksPerSecond();
  };
}
