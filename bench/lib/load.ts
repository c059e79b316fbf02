import autocannon, { type Request } from 'autocannon';
import { type CpuMeters, type CpuUse, startCpu } from './cpu.js';
import { type WorkMeter, type WorkPerRequest, workPerRequest } from './postgres.js';
import { type LatencySummary, summarise } from './stats.js';

/** One measured HTTP case. Latencies are of every response (ms); rps counts 2xx only. */
export interface HttpStats extends LatencySummary {
  connections: number;
  seconds: number;
  ok: number;
  non2xx: number;
  errors: number;
  timeouts: number;
  rps: number;
  statusCodes: Record<string, number>;
  /** CPU used by the service, PostgreSQL and the load generator during the case. */
  cpu: CpuUse;
  /** PostgreSQL's work per request (pg_stat_statements), when measured. */
  database?: WorkPerRequest;
  errorSamples: string[];
}

/**
 * Runs autocannon against the service: `connections` keep-alive connections, no pipelining,
 * each sending the next request when the previous answered, for `seconds`.
 */
export async function httpLoad(options: {
  url: string;
  connections: number;
  seconds: number;
  requests: Request[];
  meters?: CpuMeters;
  work?: WorkMeter | null;
  errorSamples?: string[];
}): Promise<HttpStats> {
  const latencies: number[] = [];
  const work = await options.work?.snapshot();
  const cpu = startCpu(options.meters ?? {});
  const started = performance.now();
  const instance = autocannon({
    url: options.url,
    connections: options.connections,
    duration: options.seconds,
    pipelining: 1,
    timeout: 60,
    requests: options.requests,
  });
  instance.on('response', (_client: unknown, _status: number, _bytes: number, ms: number) => {
    latencies.push(ms);
  });
  const result = await instance;
  const seconds = (performance.now() - started) / 1000;
  const ok = result['2xx'];
  const statusCodes: Record<string, number> = {};
  for (const [code, { count }] of Object.entries(result.statusCodeStats)) statusCodes[code] = count;
  const cpuUse = cpu();
  const after = work ? await options.work?.snapshot() : undefined;
  return {
    ...summarise(latencies),
    connections: options.connections,
    seconds: result.duration || seconds,
    ok,
    non2xx: result.non2xx,
    errors: result.errors,
    timeouts: result.timeouts,
    rps: ok / (result.duration || seconds),
    statusCodes,
    cpu: cpuUse,
    ...(work && after ? { database: workPerRequest(work, after, ok + result.non2xx) } : {}),
    errorSamples: options.errorSamples ?? [],
  };
}

export interface SequentialStats extends LatencySummary {
  ok: number;
  /** PostgreSQL's work per request (pg_stat_statements), when measured. */
  database?: WorkPerRequest;
  failures: number;
  bytes: number;
  failureSamples: string[];
}

/**
 * Sequential GETs (one at a time) for latency: `warmup` requests first, then requests until
 * `seconds` have passed, at least `min` and at most `max` of them.
 */
export async function sequentialGets(options: {
  url: (n: number) => string;
  token: string;
  warmup: number;
  seconds: number;
  min: number;
  max: number;
  work?: WorkMeter | null;
}): Promise<SequentialStats> {
  const headers = { authorization: `Bearer ${options.token}` };
  const work = await options.work?.snapshot();
  const latencies: number[] = [];
  const failureSamples: string[] = [];
  let failures = 0;
  let bytes = 0;
  for (let i = 0; i < options.warmup; i++) {
    const res = await fetch(options.url(i), { headers });
    await res.arrayBuffer();
  }
  const deadline = performance.now() + options.seconds * 1000;
  for (let n = 0; n < options.max && (n < options.min || performance.now() < deadline); n++) {
    const t0 = performance.now();
    const res = await fetch(options.url(n), { headers });
    const body = await res.arrayBuffer();
    const ms = performance.now() - t0;
    bytes += body.byteLength;
    if (res.ok) latencies.push(ms);
    else {
      failures += 1;
      if (failureSamples.length < 3) {
        failureSamples.push(`${res.status} ${Buffer.from(body).toString('utf8').slice(0, 300)}`);
      }
    }
  }
  const after = work ? await options.work?.snapshot() : undefined;
  return {
    ...summarise(latencies),
    ok: latencies.length,
    ...(work && after
      ? { database: workPerRequest(work, after, options.warmup + latencies.length + failures) }
      : {}),
    failures,
    bytes,
    failureSamples,
  };
}
