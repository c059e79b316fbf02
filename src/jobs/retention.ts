import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { auditSystem } from '../audit/audit.js';
import type { Config } from '../config.js';
import type { JobLock } from '../db/advisory-locks.js';
import { type Database, municipalityScope, platformScope } from '../db/database.js';
import { municipalityIds } from '../db/municipality-ids.js';
import type { DB } from '../db/schema.js';
import { localDate } from '../domain/dates.js';
import { eraseInTransaction, erasureAuditSubject } from '../features/erasure/service.js';
import { type Metrics, timeJob } from '../http/metrics.js';

/** The same calendar date `years` earlier; 29 February becomes 28 February in a common year. */
export function yearsBefore(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const year = y - years;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = m === 2 && d === 29 && !leap ? 28 : d;
  return `${String(year).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether a child is due for retention (locks the child row; false when gone or not due). */
async function stillDue(trx: Transaction<DB>, childId: string, cutoffDate: string) {
  const { rows } = await sql<{ due: boolean }>`
    SELECT (
      bool_and(e.id IS NOT NULL AND e.end_date IS NOT NULL AND e.end_date < ${cutoffDate}::date)
      OR (count(e.id) = 0 AND min(c.created_at) < ${cutoffDate}::date)
    ) AS due
    FROM (SELECT id, created_at, municipality_id FROM children WHERE id = ${childId} FOR UPDATE) c
    LEFT JOIN enrolments e ON e.child_id = c.id AND e.municipality_id = c.municipality_id
  `.execute(trx);
  return rows[0]?.due === true;
}

export interface RetentionReport {
  runId: string;
  dryRun: boolean;
  cutoffDate: string;
  auditCutoff: string;
  children: {
    municipalityId: string;
    tombstone: string | null;
    lastEnrolmentEnded: string | null;
  }[];
  childrenErased: number;
  auditEntriesPruned: number;
}

/**
 * The retention job: erases every child whose last enrolment ended more than `years` years ago
 * (a child never enrolled: registered that long ago), and deletes audit entries older than
 * `auditMonths` months. Idempotent (a second run finds nothing more to do); reports what it did.
 */
export async function runRetention(
  database: Database,
  options: { years: number; auditMonths: number; now: Date; dryRun?: boolean },
): Promise<RetentionReport> {
  const runId = randomUUID();
  const today = localDate(options.now);
  const cutoffDate = yearsBefore(today, options.years);
  const auditCutoff = new Date(options.now);
  auditCutoff.setUTCMonth(auditCutoff.getUTCMonth() - options.auditMonths);
  const due: { id: string; municipality_id: string; last_end: string | null }[] = [];
  for (const municipalityId of await municipalityIds(database)) {
    const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
      sql<{ id: string; municipality_id: string; last_end: string | null }>`
        SELECT c.id, c.municipality_id, max(e.end_date)::text AS last_end
        FROM children c
        LEFT JOIN enrolments e ON e.child_id = c.id AND e.municipality_id = c.municipality_id
        WHERE c.municipality_id = ${municipalityId}
        GROUP BY c.id, c.municipality_id, c.created_at
        HAVING bool_and(e.id IS NOT NULL AND e.end_date IS NOT NULL AND e.end_date < ${cutoffDate}::date)
            OR (count(e.id) = 0 AND c.created_at < ${cutoffDate}::date)
        ORDER BY c.id
      `
        .execute(trx)
        .then((r) => r.rows),
    );
    due.push(...rows);
  }
  const children: RetentionReport['children'] = [];
  for (const child of due) {
    if (options.dryRun) {
      children.push({
        municipalityId: child.municipality_id,
        tombstone: null,
        lastEnrolmentEnded: child.last_end,
      });
      continue;
    }
    const row = await database.transaction(
      municipalityScope(child.municipality_id),
      async (trx) => {
        // Re-checked under a lock: enrolled again or erased on request since the selection.
        if (!(await stillDue(trx, child.id, cutoffDate))) return null;
        const erased = await eraseInTransaction(trx, child.municipality_id, child.id, {
          reason: `Retention: last enrolment ended ${child.last_end ?? 'never enrolled'}, more than ${options.years} years before ${today}.`,
          source: 'retention',
          by: 'system:retention',
        });
        await auditSystem(
          trx,
          { job: 'retention', runId, municipalityId: child.municipality_id },
          { action: 'delete', resource: 'child', ...erasureAuditSubject(erased.tombstone) },
        );
        return erased;
      },
    );
    if (!row) continue;
    children.push({
      municipalityId: child.municipality_id,
      tombstone: row.tombstone,
      lastEnrolmentEnded: child.last_end,
    });
  }
  let auditEntriesPruned = 0;
  if (!options.dryRun) {
    const { rows } = await database.transaction(platformScope, (trx) =>
      sql<{ n: number }>`SELECT lineal_prune_audit(${auditCutoff})::int AS n`.execute(trx),
    );
    auditEntriesPruned = rows[0]?.n ?? 0;
  }
  return {
    runId,
    dryRun: options.dryRun === true,
    cutoffDate,
    auditCutoff: auditCutoff.toISOString(),
    children,
    childrenErased: options.dryRun ? 0 : children.length,
    auditEntriesPruned,
  };
}

/**
 * The retention job on a schedule (RETENTION_INTERVAL_HOURS > 0), first run an hour after start.
 * With several instances on one database, one of them runs it at a time. Returns the timer to
 * clear at shutdown (null when not scheduled).
 */
export function startRetention(
  database: Database,
  jobs: JobLock,
  config: Config,
  logger: Logger,
  metrics?: Metrics,
): NodeJS.Timeout | null {
  const { intervalHours, years, auditMonths } = config.retention;
  if (intervalHours === 0) return null;
  const run = async () => {
    try {
      const outcome = await jobs.runExclusive('retention', () =>
        timeJob(metrics, 'retention', () =>
          runRetention(database, { years, auditMonths, now: new Date() }),
        ),
      );
      if (!outcome.ran) {
        metrics?.jobSkipped('retention');
        logger.info({ job: 'retention' }, 'retention skipped: running elsewhere');
        return;
      }
      const report = outcome.value;
      logger.info(
        {
          runId: report.runId,
          childrenErased: report.childrenErased,
          auditEntriesPruned: report.auditEntriesPruned,
        },
        'retention run',
      );
    } catch (error) {
      logger.error({ err: error }, 'retention run failed');
    }
  };
  const first = setTimeout(run, 60 * 60 * 1000);
  first.unref();
  const timer = setInterval(run, intervalHours * 60 * 60 * 1000);
  timer.unref();
  return timer;
}
