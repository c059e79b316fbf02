import { z } from 'zod';

const booleanFromEnv = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((value) => value === 'true' || value === '1' || value === 'yes');

/** Requests per principal per window (RATE_LIMIT_MAX, RATE_LIMIT_WINDOW_MS); max 0 = off. */
export const DEFAULT_RATE_LIMIT = { max: 600, windowMs: 60_000 } as const;

/** `scheme://host[:port]` exactly as a browser sends it in `Origin`. */
function isExactOrigin(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'https:' || url.protocol === 'http:') && url.origin === value;
  } catch {
    return false;
  }
}

const postgresUrl = z.url({
  protocol: /^postgres(ql)?$/,
  error: 'must be a postgres:// or postgresql:// URL',
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
  LINEAL_DATA_DIR: z.string().min(1).default('./data'),
  BODY_LIMIT_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .max(100 * 1024 * 1024)
    .default(1024 * 1024),
  SHUTDOWN_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(10_000),
  TRUST_PROXY: booleanFromEnv.default(false),
  LINEAL_CPR_SECRET: z
    .string()
    .min(32, 'must be at least 32 characters (e.g. openssl rand -hex 32)')
    .optional(),
  RATE_LIMIT_MAX: z.coerce.number().int().min(0).max(1_000_000).default(DEFAULT_RATE_LIMIT.max),
  RATE_LIMIT_WINDOW_MS: z.coerce
    .number()
    .int()
    .min(1000)
    .max(24 * 60 * 60 * 1000)
    .default(DEFAULT_RATE_LIMIT.windowMs),
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
  /** Per principal (client IP without one), all routes but probes, docs, dashboard; 0 = off. */
  rateLimit: { max: number; windowMs: number };
  /** Exact origins allowed to call the API from a browser; empty = no CORS at all. */
  corsOrigins: string[];
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
        }
      : { engine: 'pglite', dataDir: e.LINEAL_DATA_DIR },
    bodyLimitBytes: e.BODY_LIMIT_BYTES,
    shutdownTimeoutMs: e.SHUTDOWN_TIMEOUT_MS,
    trustProxy: e.TRUST_PROXY,
    cprSecret: e.LINEAL_CPR_SECRET,
    rateLimit: { max: e.RATE_LIMIT_MAX, windowMs: e.RATE_LIMIT_WINDOW_MS },
    corsOrigins: e.CORS_ORIGINS,
  };
}
