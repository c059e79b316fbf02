import { z } from 'zod';
import { ConnectionStringError, parseConnectionString } from './connection-string.js';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/**
 * Signature algorithms an OIDC access token may use: asymmetric only. `none` and the HMAC
 * algorithms (HS*) are never accepted: with a public JWKS, HMAC would let anyone sign.
 */
export const oidcAlgorithms = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
  'EdDSA',
  'Ed25519',
] as const;
export type OidcAlgorithm = (typeof oidcAlgorithms)[number];

/** Keys are fetched over https; plain http only from this machine (development, tests). */
function isSecureJwksUrl(url: URL): boolean {
  if (url.protocol === 'https:') return true;
  const host = url.hostname;
  return host === 'localhost' || host === '[::1]' || /^127(\.\d{1,3}){3}$/.test(host);
}

/** Requests per principal per window (RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS); max 0 = off. */
export const DEFAULT_RATE_LIMIT = { max: 600, windowMs: 60_000 } as const;
/**
 * CPR lookups per principal per window (CPR_LOOKUP_LIMIT_MAX, CPR_LOOKUP_LIMIT_WINDOW_MS), on top
 * of the general limit: a birth date has 10,000 serial numbers, so the general limit alone lets
 * one key try them all in minutes. Max 0 = off.
 */
export const DEFAULT_CPR_LOOKUP_LIMIT = { max: 30, windowMs: 10 * 60_000 } as const;

/**
 * Roster imports (POST /v1/imports): the largest file (IMPORT_MAX_BYTES), the jobs processed at
 * once per instance (IMPORT_CONCURRENCY), and how long an upload may stall before its job is
 * failed (IMPORT_UPLOAD_TIMEOUT_MS).
 */
export const DEFAULT_IMPORTS = {
  maxBytes: 100 * 1024 * 1024,
  concurrency: 1,
  uploadTimeoutMs: 15 * 60_000,
} as const;

/** `scheme://host[:port]` exactly as a browser sends it in `Origin`. */
function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

const POSTGRES_URL_MESSAGE = 'must be a postgres:// or postgresql:// URL';
const singleHostUrl = z.url({ protocol: /^postgres(ql)?$/, error: POSTGRES_URL_MESSAGE });

/**
 * A postgres:// URL: one host (as a URL), or libpq's host list `h1:p1,h2:p2` with
 * target_session_attrs=read-write or any (src/db/connection-string.ts).
 */
const postgresUrl = z.string().superRefine((value, ctx) => {
  let hosts: number;
  try {
    hosts = parseConnectionString(value).hosts.length;
  } catch (error) {
    const message = error instanceof ConnectionStringError ? error.message : POSTGRES_URL_MESSAGE;
    ctx.addIssue({
      code: 'custom',
      message: message === POSTGRES_URL_MESSAGE ? message : `${POSTGRES_URL_MESSAGE}: ${message}`,
    });
    return;
  }
  if (hosts < 2 && !singleHostUrl.safeParse(value).success) {
    ctx.addIssue({ code: 'custom', message: POSTGRES_URL_MESSAGE });
  }
});

/**
 * Every environment variable lineal reads, with its default. Parsed once at start-up;
 * the parsed object is passed down explicitly (no global config singleton).
 */
const envSchema = z.object({
  NODE_ENV: z.enum(['development', 'production', 'test']).default('development'),
  HOST: z.string().min(1).default('127.0.0.1'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  DATABASE_URL: postgresUrl.optional(),
  DATABASE_MIGRATION_URL: postgresUrl.optional(),
  DATABASE_POOL_MAX: z.coerce.number().int().min(1).max(500).default(10),
  DATABASE_ALLOW_RLS_BYPASS: booleanFromEnv.default(false),
  DATABASE_POOLER: z.enum(['none', 'session', 'transaction']).default('none'),
  DATABASE_REPLICA_URL: postgresUrl.optional(),
  DATABASE_REPLICA_MAX_LAG_SECONDS: z.coerce.number().int().min(1).max(3600).default(30),
  LINEAL_DATA_DIR: z.string().min(1).default('./data'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  TRUST_PROXY: booleanFromEnv.default(false),
  REQUIRE_IF_MATCH: booleanFromEnv.default(false),
  LINEAL_CPR_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional(),
  OIDC_ISSUER: z.string().trim().min(1).optional(),
  OIDC_AUDIENCE: z.string().trim().min(1).optional(),
  OIDC_JWKS_URL: z
    .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
    .refine(
      (value) => !URL.canParse(value) || isSecureJwksUrl(new URL(value)),
      'must be https (http only for a loopback host such as 127.0.0.1)',
    )
    .optional(),
  OIDC_ALGORITHMS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((alg) => alg.trim())
        .filter(Boolean),
    )
    .superRefine((algorithms, ctx) => {
      if (algorithms.length === 0) ctx.addIssue({ code: 'custom', message: 'lists no algorithm' });
      for (const alg of algorithms) {
        if (!(oidcAlgorithms as readonly string[]).includes(alg)) {
          ctx.addIssue({
            code: 'custom',
            message: `${alg} is not allowed: only asymmetric signature algorithms (${oidcAlgorithms.join(', ')}); never none or HMAC (HS*)`,
          });
        }
      }
    })
    .default(['RS256', 'ES256', 'PS256']),
  OIDC_CLAIM_MUNICIPALITY: z.string().trim().min(1).default('municipality'),
  OIDC_CLAIM_ROLE: z.string().trim().min(1).default('lineal_role'),
  OIDC_CLAIM_UNITS: z.string().trim().min(1).default('lineal_units'),
  OIDC_APP_CLIENT_ID: z.string().trim().min(1).max(200).optional(),
  OIDC_APP_SCOPE: z.string().trim().min(1).max(500).default('openid'),
  OIDC_CLOCK_TOLERANCE_SECONDS: z.coerce.number().int().min(0).max(300).default(30),
  OIDC_MUNICIPALITIES: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((m) => m.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z
          .string()
          .regex(
            /^([0-9]{3}|[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/i,
            'must be municipality ids or 3-digit codes, comma-separated',
          ),
      ),
    )
    .optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_RATE_LIMIT.max),
  RATE_LIMIT_SYNC_MS: z.coerce.number().int().min(10).max(60_000).default(250),
  RATE_LIMIT_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 60 * 60 * 1000)
    .default(DEFAULT_RATE_LIMIT.windowMs),
  CPR_LOOKUP_LIMIT_MAX: z.coerce
    .number()
    .int()
    .min(0)
    .max(1_000_000)
    .default(DEFAULT_CPR_LOOKUP_LIMIT.max),
  CPR_LOOKUP_LIMIT_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 60 * 60 * 1000)
    .default(DEFAULT_CPR_LOOKUP_LIMIT.windowMs),
  CORS_ORIGINS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((origin) => origin.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(
        z.string().refine(isExactOrigin, {
          error: 'must be comma-separated origins such as https://app.example.dk (no path, no *)',
        }),
      ),
    )
    .default([]),
  RETENTION_YEARS: z.coerce.number().int().min(1).max(100).default(5),
  AUDIT_RETENTION_MONTHS: z.coerce
    .number()
    .int()
    .min(6, 'must be at least 6 (audit entries are kept at least six months)')
    .max(1200)
    .default(24),
  RETENTION_INTERVAL_HOURS: z.coerce
    .number()
    .int()
    .min(0)
    .max(24 * 365)
    .default(0),
  WEBHOOK_ALLOW_HOSTS: z
    .string()
    .transform((value) =>
      value
        .split(',')
        .map((host) => host.trim().toLowerCase())
        .filter(Boolean),
    )
    .default([]),
  WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(10_000),
  WEBHOOK_MAX_ATTEMPTS: z.coerce.number().int().min(1).max(50).default(8),
  WEBHOOK_RETRY_BASE_MS: z.coerce.number().int().min(10).max(3_600_000).default(30_000),
  WEBHOOK_RETRY_MAX_MS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 86_400_000)
    .default(6 * 3_600_000),
  WEBHOOK_INTERVAL_MS: z.coerce.number().int().min(0).max(3_600_000).default(1_000),
  METRICS_TOKEN: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional(),
  IMPORT_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(10 * 1024 * 1024 * 1024)
    .default(DEFAULT_IMPORTS.maxBytes),
  IMPORT_CONCURRENCY: z.coerce.number().int().min(0).max(16).default(DEFAULT_IMPORTS.concurrency),
  IMPORT_UPLOAD_TIMEOUT_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 3600_000)
    .default(DEFAULT_IMPORTS.uploadTimeoutMs),
});

export type Env = z.input<typeof envSchema>;

export interface Config {
  env: 'development' | 'production' | 'test';
  host: string;
  port: number;
  logLevel: 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
  database:
    | {
        engine: 'postgres';
        url: string;
        migrationUrl: string;
        poolMax: number;
        allowRlsBypass: boolean;
        /**
         * The pooler in front of PostgreSQL (DATABASE_POOLER): with `transaction` (PgBouncer's
         * transaction pooling) a server connection is shared between transactions, so nothing
         * may outlive one — no per-connection prepared statements.
         */
        pooler: 'none' | 'session' | 'transaction';
        /** A streaming replica for reads that tolerate staleness (src/db/replica.ts). */
        replica?: ReplicaConfig;
      }
    | { engine: 'pglite'; dataDir: string };
  bodyLimitBytes: number;
  shutdownTimeoutMs: number;
  trustProxy: boolean;
  /**
   * Key of the HMAC that CPR numbers are stored as. Required on PostgreSQL; on the embedded
   * engine a random one is created in the data directory when it is not set.
   */
  cprSecret: string | undefined;
  /** Sign-in with the municipality's identity provider; undefined when OIDC_ISSUER is unset. */
  oidc: OidcConfig | undefined;
  /** Per principal (client IP without one), all routes but probes, docs, dashboard; 0 = off. */
  /** `syncMs`: how often instances share their request counts (RATE_LIMIT_SYNC_MS). */
  rateLimit: { max: number; windowMs: number; syncMs?: number };
  /** Per principal (client IP without one), CPR lookups only, besides `rateLimit`; 0 = off. */
  cprLookupLimit: { max: number; windowMs: number };
  /** Exact origins allowed to call the API from a browser; empty = no CORS at all. */
  corsOrigins: string[];
  /** `requireIfMatch`: a change (PATCH, PUT) without If-Match is 428 (REQUIRE_IF_MATCH). */
  etag: { requireIfMatch: boolean };
  /**
   * Retention: children whose last enrolment ended more than `years` ago are erased, audit
   * entries older than `auditMonths` are deleted; the server runs it every `intervalHours`
   * (0: only by `npm run retention`).
   */
  retention: { years: number; auditMonths: number; intervalHours: number };
  /** The bearer token of GET /metrics; undefined: no /metrics (404). */
  metricsToken: string | undefined;
  /** Webhook delivery (src/jobs/webhooks.ts); `intervalMs` 0: no delivery job. */
  webhooks: WebhookConfig;
  /** Roster imports (see DEFAULT_IMPORTS); concurrency 0 runs no import worker here. */
  imports: { maxBytes: number; concurrency: number; uploadTimeoutMs: number };
}

/** WEBHOOK_*: see docs/api.md, "Webhooks". */
export interface WebhookConfig {
  /** Hosts that may be targeted over http and at private addresses (tests, internal systems). */
  allowHosts: string[];
  /** Connect plus response, per attempt. */
  timeoutMs: number;
  /** Attempts before a delivery is dead. */
  maxAttempts: number;
  /** First retry delay; doubled per attempt up to `retryMaxMs`, with jitter. */
  retryBaseMs: number;
  retryMaxMs: number;
  /** How often the job looks for new events and due deliveries. */
  intervalMs: number;
}

export const DEFAULT_WEBHOOK_CONFIG: WebhookConfig = {
  allowHosts: [],
  timeoutMs: 10_000,
  maxAttempts: 8,
  retryBaseMs: 30_000,
  retryMaxMs: 6 * 3_600_000,
  intervalMs: 1_000,
};

/** DATABASE_REPLICA_URL and the lag beyond which its reads go to the primary. */
export interface ReplicaConfig {
  url: string;
  maxLagSeconds: number;
}

/** How OIDC access tokens (JWTs) are verified and mapped to a principal. */
export interface OidcConfig {
  issuer: string;
  audience: string;
  jwksUrl: string;
  algorithms: OidcAlgorithm[];
  claims: { municipality: string; role: string; units: string };
  clockToleranceSeconds: number;
  /**
   * The municipalities (ids or 3-digit codes, as the claim names them) this issuer may name;
   * empty or absent = any municipality of the deployment (a single-municipality setup should
   * always bind it: OIDC_MUNICIPALITIES).
   */
  municipalities?: string[];
  /**
   * The staff app's sign-in (authorization code + PKCE, a public client registered at the
   * identity provider with redirect URI <deployment>/app/); absent = the app offers API keys
   * only. The app asks for the audience as an RFC 8707 resource indicator.
   */
  app?: { clientId: string; scope: string };
}

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

/** Parses the environment; throws a ConfigError listing every invalid variable at once. */
export function loadConfig(env: Record<string, string | undefined> = process.env): Config {
  // Treat empty strings as unset, as shells and compose files often export `VAR=`.
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([, value]) => value !== undefined && value !== ''),
  );
  const result = envSchema.safeParse(cleaned);
  const problems = result.success
    ? []
    : result.error.issues.map((issue) => `${issue.path.join('.') || '(root)'}: ${issue.message}`);
  if (cleaned.DATABASE_URL && !cleaned.LINEAL_CPR_SECRET) {
    problems.push(
      'LINEAL_CPR_SECRET: required with DATABASE_URL (the key CPR numbers are hashed with)',
    );
  }
  if (cleaned.DATABASE_REPLICA_URL && !cleaned.DATABASE_URL) {
    problems.push('DATABASE_REPLICA_URL: has no effect without DATABASE_URL (the primary)');
  }
  if (cleaned.OIDC_ISSUER) {
    for (const name of ['OIDC_AUDIENCE', 'OIDC_JWKS_URL']) {
      if (!cleaned[name]) problems.push(`${name}: required with OIDC_ISSUER`);
    }
    // The staff app discovers the provider at <issuer>/.well-known/openid-configuration.
    const issuer = cleaned.OIDC_ISSUER;
    if (cleaned.OIDC_APP_CLIENT_ID && !(URL.canParse(issuer) && isSecureJwksUrl(new URL(issuer)))) {
      problems.push(
        'OIDC_ISSUER: must be an https URL (http only on a loopback host) for the staff app sign-in (OIDC_APP_CLIENT_ID)',
      );
    }
  } else {
    for (const name of Object.keys(cleaned)
      .filter((key) => key.startsWith('OIDC_'))
      .sort()) {
      problems.push(`${name}: has no effect without OIDC_ISSUER (set it to turn sign-in on)`);
    }
  }
  if (!result.success || problems.length > 0) throw new ConfigError(problems);
  const e = result.data;
  return {
    env: e.NODE_ENV,
    host: e.HOST,
    port: e.PORT,
    logLevel: e.LOG_LEVEL,
    database: e.DATABASE_URL
      ? {
          engine: 'postgres',
          url: e.DATABASE_URL,
          migrationUrl: e.DATABASE_MIGRATION_URL ?? e.DATABASE_URL,
          poolMax: e.DATABASE_POOL_MAX,
          allowRlsBypass: e.DATABASE_ALLOW_RLS_BYPASS,
          pooler: e.DATABASE_POOLER,
          ...(e.DATABASE_REPLICA_URL
            ? {
                replica: {
                  url: e.DATABASE_REPLICA_URL,
                  maxLagSeconds: e.DATABASE_REPLICA_MAX_LAG_SECONDS,
                },
              }
            : {}),
        }
      : { engine: 'pglite', dataDir: e.LINEAL_DATA_DIR },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
    cprSecret: e.LINEAL_CPR_SECRET,
    oidc:
      e.OIDC_ISSUER && e.OIDC_AUDIENCE && e.OIDC_JWKS_URL
        ? {
            issuer: e.OIDC_ISSUER,
            audience: e.OIDC_AUDIENCE,
            jwksUrl: e.OIDC_JWKS_URL,
            algorithms: e.OIDC_ALGORITHMS as OidcAlgorithm[],
            claims: {
              municipality: e.OIDC_CLAIM_MUNICIPALITY,
              role: e.OIDC_CLAIM_ROLE,
              units: e.OIDC_CLAIM_UNITS,
            },
            clockToleranceSeconds: e.OIDC_CLOCK_TOLERANCE_SECONDS,
            ...(e.OIDC_MUNICIPALITIES ? { municipalities: e.OIDC_MUNICIPALITIES } : {}),
            ...(e.OIDC_APP_CLIENT_ID
              ? { app: { clientId: e.OIDC_APP_CLIENT_ID, scope: e.OIDC_APP_SCOPE } }
              : {}),
          }
        : undefined,
    rateLimit: {
      max: e.RATE_LIMIT_MAX,
      windowMs: e.RATE_LIMIT_WINDOW_MS,
      syncMs: e.RATE_LIMIT_SYNC_MS,
    },
    cprLookupLimit: { max: e.CPR_LOOKUP_LIMIT_MAX, windowMs: e.CPR_LOOKUP_LIMIT_WINDOW_MS },
    corsOrigins: e.CORS_ORIGINS,
    etag: { requireIfMatch: e.REQUIRE_IF_MATCH },
    retention: {
      years: e.RETENTION_YEARS,
      auditMonths: e.AUDIT_RETENTION_MONTHS,
      intervalHours: e.RETENTION_INTERVAL_HOURS,
    },
    metricsToken: e.METRICS_TOKEN,
    webhooks: {
      allowHosts: e.WEBHOOK_ALLOW_HOSTS,
      timeoutMs: e.WEBHOOK_TIMEOUT_MS,
      maxAttempts: e.WEBHOOK_MAX_ATTEMPTS,
      retryBaseMs: e.WEBHOOK_RETRY_BASE_MS,
      retryMaxMs: e.WEBHOOK_RETRY_MAX_MS,
      intervalMs: e.WEBHOOK_INTERVAL_MS,
    },
    imports: {
      maxBytes: e.IMPORT_MAX_BYTES,
      concurrency: e.IMPORT_CONCURRENCY,
      uploadTimeoutMs: e.IMPORT_UPLOAD_TIMEOUT_MS,
    },
  };
}
