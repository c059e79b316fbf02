import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import type { Logger } from 'pino';
import { audit } from '../audit/audit.js';
import type { Role } from '../auth/permissions.js';
import type { Principal } from '../auth/principal.js';
import { type Database, municipalityScope, platformScope } from '../db/database.js';
import { isDatabaseUnavailable } from '../db/errors.js';
import type { DB } from '../db/schema.js';
import { localDate } from '../domain/dates.js';
import { applyChunk, type ChunkContext, DryRunState } from '../features/imports/apply.js';
import { endAbsentEnrolments } from '../features/imports/full-mode.js';
import { findJob, insertErrors, type JobRow, nextRows } from '../features/imports/repository.js';
import { onImportQueued } from '../features/imports/signal.js';

export interface ImportWorkerOptions {
  cprSecret: string;
  /** This worker's name in `leased_by` (unique per process and loop). */
  workerId: string;
  /** Rows per transaction: short transactions leave room for interactive requests. */
  chunkSize?: number;
  /** How long a lease lasts without progress before another worker may take the job over. */
  leaseMs?: number;
  /** A job still `uploading` after this long without a stored row is failed. */
  uploadTimeoutMs?: number;
  now?: () => Date;
  /** Tests: stop (as if the process died) after this many chunks. */
  maxChunks?: number;
}

const DEFAULTS = { chunkSize: 2000, leaseMs: 60_000, uploadTimeoutMs: 15 * 60_000 };

/** The municipalities with unfinished imports (a SECURITY DEFINER function: ids only). */
function pendingMunicipalities(database: Database): Promise<string[]> {
  return database.transaction(platformScope, async (trx) => {
    const { rows } = await sql<{ id: string }>`
      SELECT lineal_import_municipalities() AS id
    `.execute(trx);
    return rows.map((r) => r.id);
  });
}

/**
 * Fails the municipality's jobs stuck in `uploading` (the client went away and the request
 * could not record it), then leases its oldest job that is queued, or running under an expired
 * lease (its worker died), to this worker.
 */
async function claimIn(
  database: Database,
  municipalityId: string,
  o: Required<Omit<ImportWorkerOptions, 'maxChunks'>>,
): Promise<string | undefined> {
  const now = o.now();
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    await trx
      .updateTable('import_jobs')
      .set({
        status: 'failed',
        problem: JSON.stringify({
          title: 'The upload did not complete',
          detail: `No data arrived for ${Math.round(o.uploadTimeoutMs / 1000)} s; send the file again.`,
        }),
        finished_at: now,
        updated_at: now,
      })
      .where('municipality_id', '=', municipalityId)
      .where('status', '=', 'uploading')
      .where('updated_at', '<', new Date(now.getTime() - o.uploadTimeoutMs))
      .execute();
    const claimed = await trx
      .updateTable('import_jobs')
      .set({
        status: 'running',
        leased_by: o.workerId,
        leased_until: new Date(now.getTime() + o.leaseMs),
        started_at: sql`coalesce(started_at, ${now}::timestamptz)`,
        updated_at: now,
      })
      .where(
        'id',
        '=',
        trx
          .selectFrom('import_jobs')
          .select('id')
          .where('municipality_id', '=', municipalityId)
          .where((eb) =>
            eb.or([
              eb('status', '=', 'queued'),
              eb.and([
                eb('status', '=', 'running'),
                eb.or([eb('leased_until', 'is', null), eb('leased_until', '<', now)]),
              ]),
            ]),
          )
          .orderBy('created_at')
          .limit(1)
          .forUpdate()
          .skipLocked(),
      )
      .returning('id')
      .executeTakeFirst();
    return claimed?.id;
  });
}

/** The principal a job's audit entries name: whoever started the import. */
function principalOf(job: JobRow): Principal {
  return {
    kind: job.principal_kind as Principal['kind'],
    id: job.principal_id,
    role: job.role as Role,
    municipalityId: job.municipality_id,
    unitIds: job.allowed_unit_ids ?? [],
    requestId: job.request_id,
  };
}

type Step = 'more' | 'done' | 'lost';

/**
 * One chunk of a leased job, in one transaction: the job row is locked and the lease checked
 * (a worker that lost it stops), the next rows after `rows_done` applied, their errors, counts,
 * audit entries and the new `rows_done` written together. A crash before commit leaves nothing
 * of the chunk; the next worker starts again after the last committed row.
 */
async function step(
  database: Database,
  municipalityId: string,
  jobId: string,
  o: Required<Omit<ImportWorkerOptions, 'maxChunks'>>,
  dryRunState: DryRunState,
): Promise<Step> {
  const now = o.now();
  return database.transaction(municipalityScope(municipalityId), async (trx) => {
    const job = await findJob(trx, municipalityId, jobId, { lock: true });
    if (
      job?.status !== 'running' ||
      job.leased_by !== o.workerId ||
      (job.leased_until !== null && new Date(job.leased_until) < now)
    ) {
      return 'lost';
    }
    if (job.dry_run && !dryRunState.begun && job.rows_done > 0) {
      // A dry run resumed by a worker without its state (see DryRunState): from the top.
      await restartDryRun(trx, job);
      job.rows_done = 0;
    }
    dryRunState.begun = true;
    const ctx: ChunkContext = {
      municipalityId,
      jobId,
      dryRun: job.dry_run,
      allowedUnitIds: job.allowed_unit_ids,
      cprSecret: o.cprSecret,
      today: localDate(now),
      now,
      dryRunState,
    };
    const rows = await nextRows(trx, municipalityId, jobId, job.rows_done, o.chunkSize);
    if (rows.length === 0) {
      await finish(trx, job, ctx);
      return 'done';
    }
    const outcome = await applyChunk(trx, rows, ctx);
    await insertErrors(trx, municipalityId, jobId, outcome.errors);
    if (outcome.audit.length > 0) await audit(trx, principalOf(job), ...outcome.audit);
    else if (job.dry_run) {
      // A dry run reads the children it compares with.
      await audit(trx, principalOf(job), {
        action: 'read',
        resource: 'child',
        resourceId: jobId,
        criteria: { importId: jobId, dryRun: true, rows: rows.length },
      });
    }
    const last = rows[rows.length - 1]?.row_no ?? job.rows_done;
    await trx
      .updateTable('import_jobs')
      .set((eb) => ({
        rows_done: last,
        created: eb('created', '+', outcome.created),
        updated: eb('updated', '+', outcome.updated),
        unchanged: eb('unchanged', '+', outcome.unchanged),
        rejected: eb('rejected', '+', outcome.rejected),
        leased_until: new Date(now.getTime() + o.leaseMs),
        updated_at: now,
      }))
      .where('municipality_id', '=', municipalityId)
      .where('id', '=', jobId)
      .execute();
    return 'more';
  });
}

/** Forgets a dry run's progress: counts and row errors, so that it runs again from row 1. */
async function restartDryRun(trx: Transaction<DB>, job: JobRow): Promise<void> {
  await trx
    .deleteFrom('import_errors')
    .where('municipality_id', '=', job.municipality_id)
    .where('job_id', '=', job.id)
    .execute();
  await trx
    .updateTable('import_jobs')
    .set({ rows_done: 0, created: 0, updated: 0, unchanged: 0, rejected: 0 })
    .where('municipality_id', '=', job.municipality_id)
    .where('id', '=', job.id)
    .execute();
}

/** The last step: full mode's absent enrolments ended, the job succeeded, its rows deleted. */
async function finish(trx: Transaction<DB>, job: JobRow, ctx: ChunkContext): Promise<void> {
  let ended = 0;
  if (job.mode === 'full' && job.unit_ids && job.end_date) {
    const absent = await endAbsentEnrolments(trx, {
      ...ctx,
      unitIds: job.unit_ids,
      endDate: job.end_date,
    });
    ended = absent.length;
    if (!job.dry_run && absent.length > 0) {
      await audit(
        trx,
        principalOf(job),
        ...absent.map((e) => ({
          action: 'update' as const,
          resource: 'enrolment' as const,
          resourceId: e.id,
          childId: e.child_id,
          criteria: { importId: job.id, endedAsAbsent: true },
        })),
      );
    }
  }
  await trx
    .updateTable('import_jobs')
    .set({
      status: 'succeeded',
      ended,
      finished_at: ctx.now,
      updated_at: ctx.now,
      leased_by: null,
      leased_until: null,
    })
    .where('municipality_id', '=', job.municipality_id)
    .where('id', '=', job.id)
    .execute();
  // The rows hold names and CPR numbers: kept no longer than the job needs them.
  await trx
    .deleteFrom('import_rows')
    .where('municipality_id', '=', job.municipality_id)
    .where('job_id', '=', job.id)
    .execute();
}

async function failJob(database: Database, municipalityId: string, jobId: string, now: Date) {
  await database.transaction(municipalityScope(municipalityId), (trx) =>
    trx
      .updateTable('import_jobs')
      .set((eb) => ({
        status: 'failed',
        problem: sql`jsonb_build_object('title', 'The import stopped',
          'detail', 'An internal error stopped the import after row ' || ${eb.ref('rows_done')}
            || '; the rows before it were applied. Quote the job id when you report it.')`,
        finished_at: now,
        updated_at: now,
        leased_by: null,
        leased_until: null,
      }))
      .where('municipality_id', '=', municipalityId)
      .where('id', '=', jobId)
      .execute(),
  );
}

/**
 * Runs import jobs until none is waiting: claims one (in any municipality), processes it chunk
 * by chunk, and goes on with the next. Returns the ids of the jobs it finished. With
 * `maxChunks`, stops after that many chunks (a test's crash).
 */
export async function processImports(
  database: Database,
  options: ImportWorkerOptions,
): Promise<string[]> {
  const o = { ...DEFAULTS, now: () => new Date(), ...options };
  const finished: string[] = [];
  let chunks = 0;
  for (;;) {
    let claimed: { municipalityId: string; jobId: string } | undefined;
    for (const municipalityId of await pendingMunicipalities(database)) {
      const jobId = await claimIn(database, municipalityId, o);
      if (jobId) {
        claimed = { municipalityId, jobId };
        break;
      }
    }
    if (!claimed) return finished;
    const dryRunState = new DryRunState();
    for (;;) {
      if (options.maxChunks !== undefined && chunks >= options.maxChunks) return finished;
      chunks += 1;
      let result: Step;
      try {
        result = await step(database, claimed.municipalityId, claimed.jobId, o, dryRunState);
      } catch (error) {
        // A database that is away: the job stays leased and is resumed after the lease. Any
        // other error would recur on every attempt: the job fails, saying where.
        if (isDatabaseUnavailable(error)) throw error;
        await failJob(database, claimed.municipalityId, claimed.jobId, o.now());
        throw error;
      }
      if (result === 'done') finished.push(claimed.jobId);
      if (result !== 'more') break;
    }
  }
}

const POLL_MS = 1_000;

/**
 * IMPORT_CONCURRENCY workers, each polling for waiting jobs every second. Imports then never
 * take more than that many database connections at a time, and only for one short chunk
 * transaction each. Returns a stop function.
 */
export function startImports(
  database: Database,
  options: { concurrency: number; cprSecret: string; uploadTimeoutMs: number },
  logger: Logger,
): () => void {
  let stopped = false;
  const timers: NodeJS.Timeout[] = [];
  const unsubscribe: (() => void)[] = [];
  for (let i = 0; i < options.concurrency; i++) {
    const workerId = `${process.pid}-${randomUUID().slice(0, 8)}-${i}`;
    let busy = false;
    const tick = async () => {
      if (busy || stopped) return;
      busy = true;
      try {
        const done = await processImports(database, {
          cprSecret: options.cprSecret,
          workerId,
          uploadTimeoutMs: options.uploadTimeoutMs,
        });
        if (done.length > 0) logger.info({ job: 'imports', imports: done }, 'imports finished');
      } catch (error) {
        logger.error({ err: error, job: 'imports' }, 'import worker failed; retrying');
      } finally {
        busy = false;
      }
    };
    const timer = setInterval(() => void tick(), POLL_MS);
    timer.unref();
    timers.push(timer);
    unsubscribe.push(onImportQueued(() => void tick()));
  }
  return () => {
    stopped = true;
    for (const timer of timers) clearInterval(timer);
    for (const off of unsubscribe) off();
  };
}
