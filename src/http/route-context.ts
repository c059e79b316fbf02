import type { Database } from '../db/database.js';

/** What route plugins receive: their dependencies, passed explicitly (no globals). */
export interface RouteDeps {
  database: Database;
  now: () => Date;
  /** Key of the HMAC CPR numbers are stored as. */
  cprSecret: string;
}

/** The OpenAPI security requirement of every `/v1` route. */
export const bearerSecurity = [{ bearerAuth: [] }];
