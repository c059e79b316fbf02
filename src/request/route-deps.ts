import type { Database } from '../db/database.js';
import type { Metrics } from '../http/metrics.js';
import type { Runner } from './runner.js';

/** What route plugins receive: their dependencies, passed explicitly (no globals). */
export interface RouteDeps {
  /** Runs every `/v1` request's service (see runner.ts). */
  runner: Runner;
  /** The raw database, for what runs outside a request's transaction (health checks). */
  database: Database;
  now: () => Date;
  /** Key of the HMAC CPR numbers are stored as. */
  cprSecret: string;
  /** The app's metrics; undefined when /metrics is off (no METRICS_TOKEN). */
  metrics?: Metrics | undefined;
}

/** The OpenAPI security requirement of every `/v1` route (added by the route-docs hook). */
export const bearerSecurity = [{ bearerAuth: [] }];
