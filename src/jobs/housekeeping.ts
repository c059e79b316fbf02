import type { Logger } from 'pino';
import type { JobLock } from '../db/advisory-locks.js';
import type { Database } from '../db/database.js';
import { type Metrics, timeJob } from '../http/metrics.js';
import { purgeExpiredIdempotencyKeys } from '../request/idempotency.js';
import { flagClosedRounds } from './not-assessed.js';

const SWEEP_INTERVAL_MS = 10 * 60 * 1000;

/**
 * One housekeeping sweep: expired idempotency keys (and the responses stored with them) are
 * deleted, and rounds whose window closed get their not-assessed flags. With several instances
 * on one database, one of them runs it at a time (the others skip it). Never throws: a failure
 * is logged (and counted).
 */
export async function runHousekeeping(
  database: Database,
  jobs: JobLock,
  logger: Logger,
  metrics?: Metrics,
): Promise<void> {
  try {
    const run = await jobs.runExclusive('housekeeping', () =>
      timeJob(metrics, 'housekeeping', async () => ({
        deleted: await purgeExpiredIdempotencyKeys(database, new Date()),
        flagged: await timeJob(metrics, 'not-assessed', () =>
          flagClosedRounds(database, new Date()),
        ),
      })),
    );
    if (run.ran) logger.info({ job: 'housekeeping', ...run.value }, 'housekeeping ran');
    else {
      metrics?.jobSkipped('housekeeping');
      logger.info({ job: 'housekeeping' }, 'housekeeping skipped: running elsewhere');
    }
  } catch (error) {
    logger.error({ err: error }, 'housekeeping failed');
  }
}

/** Housekeeping every ten minutes from start. Returns the timer to clear at shutdown. */
export function startHousekeeping(
  database: Database,
  jobs: JobLock,
  logger: Logger,
  metrics?: Metrics,
): NodeJS.Timeout {
  const sweep = () => runHousekeeping(database, jobs, logger, metrics);
  void sweep();
  const timer = setInterval(sweep, SWEEP_INTERVAL_MS);
  timer.unref();
  return timer;
}
