import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { Database } from '../db/database.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import { UnauthorizedError } from '../errors.js';

/** The background jobs whose runs are counted (a fixed set: label values never come from data). */
export type JobName = 'housekeeping' | 'not-assessed' | 'retention';

/** The export formats (src/features/exports). */
type ExportFormat = 'csv' | 'ndjson' | 'parquet';

type PoolStats = ReturnType<NonNullable<Database['poolStats']>>;

/** The methods a route can have; any other method is counted as `other`. */
const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS']);

/** The route label of a request that matched no route (404, 405): never its path. */
export const UNMATCHED_ROUTE = '(unmatched)';

/** Latency buckets in seconds: 5 ms to 10 s (a request waits at most 5 s for a connection). */
const LATENCY_BUCKETS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];
/** Job duration buckets in seconds: 10 ms to 1 h. */
const JOB_BUCKETS = [0.01, 0.1, 1, 10, 60, 300, 900, 3600];

/**
 * The service's Prometheus metrics, in a registry of their own (one per app: buildApp may run
 * several times in a process, and prom-client's global registry would refuse the second set).
 * Every label value comes from a fixed set — route patterns as registered (never the request's
 * path, which holds ids), methods, status codes, job names, export formats — so no child data,
 * id or path reaches a label.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests = new Counter({
    name: 'lineal_http_requests_total',
    help: 'HTTP requests answered, by route pattern, method and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [this.registry],
  });
  readonly requestDuration = new Histogram({
    name: 'lineal_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, until its response was sent (a streamed one: its end)',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: LATENCY_BUCKETS,
    registers: [this.registry],
  });
  readonly databaseUnavailable = new Counter({
    name: 'lineal_database_unavailable_total',
    help: 'Requests answered 503 because the database could not be reached',
    registers: [this.registry],
  });
  readonly databaseConnectionErrors = new Counter({
    name: 'lineal_database_connection_errors_total',
    help: 'Database connections that failed and were dropped (the pool reconnects)',
    registers: [this.registry],
  });
  readonly idempotentReplays = new Counter({
    name: 'lineal_idempotent_replays_total',
    help: 'Requests answered by replaying the response stored under their Idempotency-Key',
    labelNames: ['method', 'route'] as const,
    registers: [this.registry],
  });
  readonly exportRows = new Counter({
    name: 'lineal_export_rows_total',
    help: 'Rows sent by exports',
    labelNames: ['format'] as const,
    registers: [this.registry],
  });
  readonly exports = new Counter({
    name: 'lineal_exports_total',
    help: 'Exports streamed, by whether they reached their end',
    labelNames: ['format', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobRuns = new Counter({
    name: 'lineal_job_runs_total',
    help: 'Background job runs: ok, failed, or skipped (running on another instance)',
    labelNames: ['job', 'outcome'] as const,
    registers: [this.registry],
  });
  readonly jobDuration = new Histogram({
    name: 'lineal_job_duration_seconds',
    help: 'Duration of background job runs that ran (ok or failed)',
    labelNames: ['job'] as const,
    buckets: JOB_BUCKETS,
    registers: [this.registry],
  });
  #poolObserved = false;
  #replicaObserved = false;

  constructor() {
    collectDefaultMetrics({ register: this.registry });
  }

  /** Adds the gauges of the database's connection pool (PostgreSQL; PGlite has none). */
  observePool(database: Database): void {
    const stats = database.poolStats;
    if (!stats || this.#poolObserved) return;
    this.#poolObserved = true;
    const gauge = (name: string, help: string, read: (s: PoolStats) => number) =>
      new Gauge({
        name,
        help,
        registers: [this.registry],
        collect() {
          this.set(read(stats()));
        },
      });
    gauge('lineal_database_pool_in_use', 'Pooled connections in use', (s) => s.total - s.idle);
    gauge('lineal_database_pool_idle', 'Pooled connections idle', (s) => s.idle);
    gauge(
      'lineal_database_pool_waiting',
      'Queries waiting for a pooled connection',
      (s) => s.waiting,
    );
  }

  /**
   * Adds the read replica's gauges when one is configured (DATABASE_REPLICA_URL): whether it is
   * up and in use, its lag, and where the reads meant for it ran.
   */
  observeReplica(database: Database): void {
    const status = database.replicaStatus;
    if (!status || this.#replicaObserved) return;
    this.#replicaObserved = true;
    const registers = [this.registry];
    new Gauge({
      name: 'lineal_database_replica_up',
      help: 'Whether the last check reached the read replica (1) or not (0)',
      registers,
      collect() {
        this.set(status().up ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lineal_database_replica_in_use',
      help: 'Whether replica-routed reads go to the read replica now (1) or to the primary (0)',
      registers,
      collect() {
        this.set(status().inUse ? 1 : 0);
      },
    });
    new Gauge({
      name: 'lineal_database_replica_lag_seconds',
      help: "How far the read replica's data is behind the primary's (absent when unknown)",
      registers,
      collect() {
        const lag = status().lagSeconds;
        if (lag === null) this.reset();
        else this.set(lag);
      },
    });
    new Counter({
      name: 'lineal_database_replica_reads_total',
      help: 'Replica-routed reads, by the server they ran on (replica, or primary as fallback)',
      labelNames: ['server'] as const,
      registers,
      collect() {
        const { reads } = status();
        this.reset();
        this.inc({ server: 'replica' }, reads.replica);
        this.inc({ server: 'primary' }, reads.primary);
      },
    });
  }

  /** Runs a job, counting the run (ok or failed) and its duration; rethrows a failure. */
  async timeJob<T>(job: JobName, fn: () => Promise<T>): Promise<T> {
    const end = this.jobDuration.startTimer({ job });
    try {
      const value = await fn();
      this.jobRuns.inc({ job, outcome: 'ok' });
      return value;
    } catch (error) {
      this.jobRuns.inc({ job, outcome: 'failed' });
      throw error;
    } finally {
      end();
    }
  }

  jobSkipped(job: JobName): void {
    this.jobRuns.inc({ job, outcome: 'skipped' });
  }

  exportClosed(format: ExportFormat, rows: number, completed: boolean): void {
    this.exportRows.inc({ format }, rows);
    this.exports.inc({ format, outcome: completed ? 'completed' : 'aborted' });
  }
}

/** Runs `fn` as job `job`, timed when there are metrics. */
export function timeJob<T>(
  metrics: Metrics | undefined,
  job: JobName,
  fn: () => Promise<T>,
): Promise<T> {
  return metrics ? metrics.timeJob(job, fn) : fn();
}

function labelsOf(request: FastifyRequest) {
  const route = request.routeOptions.url;
  return {
    method: METHODS.has(request.method) ? request.method : 'other',
    route: route === undefined ? UNMATCHED_ROUTE : route,
  };
}

const sha256 = (value: string) => createHash('sha256').update(value).digest();

/** Whether `header` is `Bearer <token>`; compared in constant time (of equal-length digests). */
export function bearerMatches(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer +(\S+) *$/i.exec(header ?? '');
  const presented = sha256(match?.[1] ?? '');
  return timingSafeEqual(presented, expected) && match !== null;
}

/**
 * Counts every request registered after it by route pattern, method and status, its latency,
 * idempotent replays and database outages (register it first: root hooks reach only routes
 * registered after them).
 */
export const metricsPlugin = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics; database: Database }) => {
    const { metrics } = opts;
    metrics.observePool(opts.database);
    metrics.observeReplica(opts.database);
    app.addHook('onResponse', async (request, reply) => {
      const labels = labelsOf(request);
      const status = String(reply.statusCode);
      metrics.requests.inc({ ...labels, status });
      metrics.requestDuration.observe({ ...labels, status }, reply.elapsedTime / 1000);
      if (reply.getHeader('idempotency-replayed') === 'true') metrics.idempotentReplays.inc(labels);
    });
    // Runs before the error handler, which answers these errors 503.
    app.addHook('onError', async (_request, _reply, error) => {
      if (isDatabaseUnavailable(error)) metrics.databaseUnavailable.inc();
    });
  },
  { name: 'lineal-metrics' },
);

/**
 * `GET /metrics` in Prometheus' text format, for a scraper holding METRICS_TOKEN (401
 * problem+json without it); not a `/v1` route (no API key, no audit: it holds no child data) and
 * not in the OpenAPI document. Registered after the error handler, whose problem+json it uses.
 */
export const metricsRoute = fp(
  async (app: FastifyInstance, opts: { metrics: Metrics; token: string }) => {
    const expected = sha256(opts.token);
    const { registry } = opts.metrics;
    app.get('/metrics', { schema: { hide: true } }, async (request, reply) => {
      const header = request.headers.authorization;
      if (!bearerMatches(header, expected)) {
        throw new UnauthorizedError(
          'The metrics need the metrics token (METRICS_TOKEN) as a bearer token.',
          header ? 'invalid_token' : undefined,
        );
      }
      reply.header('cache-control', 'no-store').type(registry.contentType);
      return registry.metrics();
    });
  },
  { name: 'lineal-metrics-route', dependencies: ['lineal-metrics', 'lineal-errors'] },
);
