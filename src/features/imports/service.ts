import type { Transaction } from 'kysely';
import { z } from 'zod';
import type { DB } from '../../db/schema.js';
import { type FieldError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { ReadOn } from '../../request/runner.js';
import type { Session } from '../../request/session.js';
import { requireUnit } from '../units/repository.js';
import {
  findJob,
  insertJob,
  insertRows,
  type JobRow,
  jobColumns as jobColumnsForAnswer,
  listErrors,
} from './repository.js';
import type { CreateImportQuery, ImportJob, ImportStatus } from './schemas.js';
import { HeaderError, type ImportFormat, readUpload } from './upload.js';

/** Rows stored per transaction while the upload streams in. */
const UPLOAD_BATCH_ROWS = 1000;

const iso = (d: Date | null) => (d === null ? null : new Date(d).toISOString());

export function toImportJob(row: JobRow): ImportJob {
  return {
    id: row.id,
    status: row.status as ImportStatus,
    format: row.format as ImportFormat,
    mode: row.mode as ImportJob['mode'],
    dryRun: row.dry_run,
    unitIds: row.unit_ids,
    endDate: row.end_date,
    rowsTotal: row.rows_total,
    counts: {
      read: row.rows_done,
      created: row.created,
      updated: row.updated,
      unchanged: row.unchanged,
      rejected: row.rejected,
      ended: row.ended,
    },
    problem: (row.problem as ImportJob['problem']) ?? null,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
    startedAt: iso(row.started_at),
    finishedAt: iso(row.finished_at),
  };
}

export interface CreateImportInput {
  query: CreateImportQuery;
  format: ImportFormat;
  body: NodeJS.ReadableStream;
  maxBytes: number;
}

/** The full mode's units, checked: each one the municipality's and (limited keys) the key's. */
async function fullModeUnits(
  session: Session,
  trx: Transaction<DB>,
  query: CreateImportQuery,
): Promise<{ unitIds: string[] | null; endDate: string | null }> {
  const errors: FieldError[] = [];
  if (query.mode === 'upsert') {
    if (query.unitIds !== undefined) {
      errors.push({ path: 'query.unitIds', message: 'is for mode=full only', code: 'not_allowed' });
    }
    if (query.endDate !== undefined) {
      errors.push({ path: 'query.endDate', message: 'is for mode=full only', code: 'not_allowed' });
    }
    if (errors.length > 0) throw new ValidationFailedError('The import cannot start.', errors);
    return { unitIds: null, endDate: null };
  }
  const unitIds = [...new Set((query.unitIds ?? '').split(',').map((s) => s.trim()))].filter(
    (s) => s !== '',
  );
  if (unitIds.length === 0) {
    errors.push({ path: 'query.unitIds', message: 'name at least one unit', code: 'required' });
  } else if (unitIds.some((id) => !z.uuid().safeParse(id).success)) {
    errors.push({
      path: 'query.unitIds',
      message: 'must be unit ids, comma-separated',
      code: 'invalid_format',
    });
  }
  if (query.endDate === undefined) {
    errors.push({ path: 'query.endDate', message: 'is required with mode=full', code: 'required' });
  }
  if (errors.length > 0) throw new ValidationFailedError('The import cannot start.', errors);
  for (const unitId of unitIds) {
    await requireUnit(trx, session.municipalityId, unitId);
    session.access.requireUnit(unitId);
  }
  return { unitIds, endDate: query.endDate ?? null };
}

/**
 * Starts an import: the job is recorded (`uploading`) in the request's transaction, then the
 * continuation reads the upload as it streams in and stores its rows in short transactions of
 * the same scope, and queues the job for the workers (src/jobs/imports.ts). A bad CSV header
 * fails the job (its `problem` says why); a file over the limit fails it and answers 413.
 */
export async function createImport(
  session: Session,
  trx: Transaction<DB>,
  input: CreateImportInput,
): Promise<(read: ReadOn) => Promise<ImportJob>> {
  const { query, format } = input;
  const municipalityId = session.municipalityId;
  const full = await fullModeUnits(session, trx, query);
  const { principal } = session;
  const job = await insertJob(trx, {
    municipality_id: municipalityId,
    status: 'uploading',
    format,
    mode: query.mode,
    dry_run: query.dryRun,
    unit_ids: full.unitIds,
    end_date: full.endDate,
    allowed_unit_ids: session.access.isUnitLimited ? [...session.access.unitIds] : null,
    principal_kind: principal.kind,
    principal_id: principal.id,
    role: principal.role,
    request_id: principal.requestId,
    created_at: session.now,
    updated_at: session.now,
  });
  session.audit({
    resourceId: job.id,
    criteria: { upload: job.id, mode: query.mode, dryRun: query.dryRun },
  });
  return async (read) => {
    const finish = (status: ImportStatus, values: { rows_total?: number; problem?: object }) =>
      read((t) =>
        t
          .updateTable('import_jobs')
          .set({
            status,
            updated_at: new Date(),
            ...(values.rows_total !== undefined ? { rows_total: values.rows_total } : {}),
            ...(values.problem
              ? { problem: JSON.stringify(values.problem), finished_at: new Date() }
              : {}),
          })
          .where('municipality_id', '=', municipalityId)
          .where('id', '=', job.id)
          .returning(jobColumnsForAnswer)
          .executeTakeFirstOrThrow(),
      );
    try {
      const total = await readUpload(
        input.body,
        format,
        { maxBytes: input.maxBytes, batchSize: UPLOAD_BATCH_ROWS },
        (rows) =>
          read(async (t) => {
            await insertRows(t, municipalityId, job.id, rows);
            await t
              .updateTable('import_jobs')
              .set({ updated_at: new Date() })
              .where('municipality_id', '=', municipalityId)
              .where('id', '=', job.id)
              .execute();
          }),
      );
      return toImportJob(await finish('queued', { rows_total: total }));
    } catch (error) {
      if (error instanceof HeaderError) {
        return toImportJob(
          await finish('failed', {
            problem: { title: 'The file cannot be imported', detail: error.message },
          }),
        );
      }
      await finish('failed', {
        problem: {
          title: 'The upload did not complete',
          detail:
            error instanceof Error && 'status' in error
              ? error.message
              : 'The upload was interrupted.',
        },
      }).catch(() => {});
      throw error;
    }
  };
}

async function requireJob(trx: Transaction<DB>, session: Session, id: string): Promise<JobRow> {
  const job = await findJob(trx, session.municipalityId, id);
  // A unit-limited key sees the jobs of its own kind of access only: those limited to its units.
  if (!job || (session.access.isUnitLimited && !sameUnits(job.allowed_unit_ids, session))) {
    throw new NotFoundError('import', id);
  }
  return job;
}

function sameUnits(allowed: string[] | null, session: Session): boolean {
  return allowed?.every((u) => session.access.mayActInUnit(u)) ?? false;
}

export async function getImport(session: Session, trx: Transaction<DB>, id: string) {
  const job = await requireJob(trx, session, id);
  // The job's counts are about children (no child data itself): recorded as a read of it.
  session.audit({ resourceId: id, criteria: { import: id } });
  return toImportJob(job);
}

const cursorSchema = z.tuple([z.number().int(), z.number().int()]);

export async function listImportErrors(
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; limit: number; cursor?: string | undefined },
) {
  await requireJob(trx, session, input.id);
  const after = input.cursor ? decodeCursor(input.cursor, cursorSchema) : undefined;
  const rows = await listErrors(trx, session.municipalityId, input.id, after, input.limit);
  session.audit({ resourceId: input.id, criteria: { import: input.id, errors: true } });
  return toPage(
    rows,
    input.limit,
    (r) => ({ row: r.row_no, field: r.field, message: r.message }),
    (r) => [r.row_no, r.seq],
  );
}
