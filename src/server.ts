import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance } from 'fastify';
import type { Logger } from 'pino';
import { buildApp } from './app.js';
import { type Config, ConfigError, loadConfig } from './config.js';
import { localJobLock, postgresJobLock } from './db/advisory-locks.js';
import { DataDirLockedError } from './db/data-dir-lock.js';
import type { Database } from './db/database.js';
import { isDatabaseUnavailable } from './db/errors.js';
import { migrationStatus } from './db/migrations.js';
import { openDatabase } from './db/open.js';
import { RlsBypassError } from './db/postgres.js';
import { countAllApiKeys, createPlatformAdminKey } from './features/api-keys/bootstrap.js';
import { syncPresetGuides } from './features/guides/service.js';
import { syncPresetRulers } from './features/rulers/service.js';
import { Metrics } from './http/metrics.js';
import { startHousekeeping } from './jobs/housekeeping.js';
import { startImports } from './jobs/imports.js';
import { startRetention } from './jobs/retention.js';
import { startWebhooks } from './jobs/webhooks.js';
import { createLogger } from './logging.js';

/** On the first start of an embedded database with no keys, create and print the first one. */
async function bootstrapFirstKey(database: Database, logger: Logger): Promise<void> {
  if ((await countAllApiKeys(database)) > 0) return;
  const key = await createPlatformAdminKey(database, 'First platform administrator key');
  logger.info({ apiKeyId: key.id }, 'created the first platform administrator key');
  // Printed once, outside the JSON log stream, and never stored in clear.
  process.stdout.write(
    [
      '',
      '======================================================================',
      ' lineal: this is the first platform administrator API key.',
      ' It is shown only now; store it safely:',
      '',
      `   ${key.token}`,
      '',
      ' Use it as "Authorization: Bearer <key>" to create municipalities and',
      ' their administrator keys. More keys: npm run create-platform-key',
      '======================================================================',
      '',
    ].join('\n'),
  );
}

/**
 * The embedded engine's CPR key when LINEAL_CPR_SECRET is not set: random, created once in the
 * data directory (readable by the owner only) and reused on every start.
 */
function embeddedCprSecret(config: Config): string {
  if (config.database.engine !== 'pglite') throw new Error('LINEAL_CPR_SECRET is required');
  const file = path.join(config.database.dataDir, 'cpr-secret');
  if (!existsSync(file)) {
    writeFileSync(file, randomBytes(32).toString('hex'), { mode: 0o600, flag: 'wx' });
  }
  return readFileSync(file, 'utf8').trim();
}

function installShutdown(
  app: FastifyInstance,
  database: Database,
  config: Config,
  logger: Logger,
  beforeClose: () => void,
): void {
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const timer = setTimeout(() => {
      logger.error({ timeoutMs: config.shutdownTimeoutMs }, 'shutdown timed out; exiting');
      process.exit(1);
    }, config.shutdownTimeoutMs);
    timer.unref();
    try {
      beforeClose();
      await app.close();
      await database.close();
      logger.info('stopped');
      process.exit(0);
    } catch (error) {
      logger.error({ err: error }, 'error during shutdown');
      process.exit(1);
    }
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
}

/** How long the start-up waits for an unavailable database before giving up. */
const STARTUP_WAIT_MS = 60_000;

/**
 * Opens the database and stores the preset rulers and guides. A database that is not there yet
 * (started together with the service, restarting) is waited for, up to STARTUP_WAIT_MS; a
 * configuration error (a locked data directory, a role that bypasses RLS) ends the process.
 */
async function openWhenAvailable(
  config: Config,
  logger: Logger,
  metrics: Metrics | undefined,
): Promise<Database> {
  const deadline = Date.now() + STARTUP_WAIT_MS;
  for (let attempt = 1; ; attempt++) {
    let database: Database | undefined;
    try {
      database = await openDatabase(config.database, {
        onMigrated: (applied) => {
          if (applied.length > 0) logger.info({ migrations: applied }, 'applied migrations');
        },
        onConnectionError: (error) => {
          metrics?.databaseConnectionErrors.inc();
          logger.warn({ err: error }, 'database connection failed');
        },
        onReplicaChange: (status, error) => {
          const { up, inUse, lagSeconds } = status;
          const message = inUse ? 'reads use the replica' : 'reads use the primary';
          logger.warn({ replica: { up, inUse, lagSeconds }, err: error }, message);
        },
      });
      const { pending } = await migrationStatus(database.db);
      if (pending.length > 0) {
        logger.error(
          { pending },
          'migrations are pending: run `npm run migrate`; /readyz says 503',
        );
      } else {
        const presets = [
          ...(await syncPresetRulers(database)),
          ...(await syncPresetGuides(database)),
        ];
        if (presets.length > 0)
          logger.info({ presets }, 'stored new versions of preset rulers and guides');
      }
      return database;
    } catch (error) {
      if (error instanceof DataDirLockedError || error instanceof RlsBypassError) {
        logger.fatal(error.message);
        process.stderr.write(`${error.message}\n`);
        process.exit(1);
      }
      await database?.close().catch(() => {});
      if (!isDatabaseUnavailable(error) || Date.now() >= deadline) throw error;
      logger.warn({ err: error, attempt }, 'database unavailable at start-up: retrying in 2 s');
      await new Promise((resolve) => setTimeout(resolve, 2_000));
    }
  }
}

async function main(): Promise<void> {
  let config: Config;
  try {
    config = loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write(`${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }
  const logger = createLogger(config.logLevel);

  // Shared by the app (GET /metrics) and the jobs; none without a token.
  const metrics = config.metricsToken ? new Metrics() : undefined;
  const database = await openWhenAvailable(config, logger, metrics);
  if (database.engine === 'pglite') await bootstrapFirstKey(database, logger);

  const cprSecret = config.cprSecret ?? embeddedCprSecret(config);
  const app = await buildApp({
    config,
    database,
    logger,
    cprSecret,
    oidc: config.oidc,
    metrics,
  });
  const jobs =
    config.database.engine === 'postgres'
      ? postgresJobLock(config.database.url, (error) =>
          logger.warn({ err: error }, 'job lock connection failed'),
        )
      : localJobLock();
  const sweeper = startHousekeeping(database, jobs, logger, metrics);
  const retention = startRetention(database, jobs, config, logger, metrics);
  const stopWebhooks = startWebhooks(database, config.webhooks, cprSecret, logger);
  const stopImports = startImports(database, { ...config.imports, cprSecret }, logger);
  installShutdown(app, database, config, logger, () => {
    clearInterval(sweeper);
    if (retention) clearInterval(retention);
    void stopWebhooks?.();
    stopImports();
    void jobs.close();
  });
  await app.listen({ host: config.host, port: config.port });
  logger.info(
    { engine: database.engine, docs: `http://${config.host}:${config.port}/docs` },
    'lineal is ready',
  );
}

main().catch((error: unknown) => {
  process.stderr.write(`lineal failed to start: ${error instanceof Error ? error.stack : error}\n`);
  process.exit(1);
});
