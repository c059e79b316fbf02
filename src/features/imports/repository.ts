import { type Insertable, sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { ImportJobsTable } from '../../db/schema.js';

export const jobColumns = [
  'id',
  'municipality_id',
  'status',
  'format',
  'mode',
  'dry_run',
  'unit_ids',
  'end_date',
  'allowed_unit_ids',
  'principal_kind',
  'principal_id',
  'role',
  'request_id',
  'rows_total',
  'rows_done',
  'created',
  'updated',
  'unchanged',
  'rejected',
  'ended',
  'problem',
  'leased_by',
  'leased_until',
  'created_at',
  'updated_at',
  'started_at',
  'finished_at',
] as const;

export function insertJob(db: Executor, values: Insertable<ImportJobsTable>) {
  return db
    .insertInto('import_jobs')
    .values(values)
    .returning(jobColumns)
    .executeTakeFirstOrThrow();
}

export function findJob(
  db: Executor,
  municipalityId: string,
  id: string,
  options: { lock?: boolean } = {},
) {
  let query = db
    .selectFrom('import_jobs')
    .select(jobColumns)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export type JobRow = NonNullable<Awaited<ReturnType<typeof findJob>>>;

export interface StoredRow {
  row_no: number;
  data: unknown;
  parse_error: string | null;
}

export async function insertRows(
  db: Executor,
  municipalityId: string,
  jobId: string,
  rows: StoredRow[],
): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('import_rows')
    .values(
      rows.map((r) => ({
        job_id: jobId,
        municipality_id: municipalityId,
        row_no: r.row_no,
        data: r.data === undefined ? null : JSON.stringify(r.data),
        parse_error: r.parse_error,
      })),
    )
    .execute();
}

/** The job's rows after `afterRow`, in order. */
export function nextRows(
  db: Executor,
  municipalityId: string,
  jobId: string,
  afterRow: number,
  limit: number,
): Promise<StoredRow[]> {
  return db
    .selectFrom('import_rows')
    .select(['row_no', 'data', 'parse_error'])
    .where('municipality_id', '=', municipalityId)
    .where('job_id', '=', jobId)
    .where('row_no', '>', afterRow)
    .orderBy('row_no')
    .limit(limit)
    .execute();
}

export interface RowError {
  row: number;
  field: string;
  message: string;
}

export async function insertErrors(
  db: Executor,
  municipalityId: string,
  jobId: string,
  errors: RowError[],
): Promise<void> {
  const seq = new Map<number, number>();
  const values = errors.map((e) => {
    const n = (seq.get(e.row) ?? 0) + 1;
    seq.set(e.row, n);
    return {
      job_id: jobId,
      municipality_id: municipalityId,
      row_no: e.row,
      seq: n,
      field: e.field,
      message: e.message,
    };
  });
  for (let at = 0; at < values.length; at += 1000) {
    await db
      .insertInto('import_errors')
      .values(values.slice(at, at + 1000))
      .execute();
  }
}

/** Row errors in row order, keyset-paginated on (row, seq); fetches `limit + 1`. */
export function listErrors(
  db: Executor,
  municipalityId: string,
  jobId: string,
  after: [number, number] | undefined,
  limit: number,
) {
  let query = db
    .selectFrom('import_errors')
    .select(['row_no', 'seq', 'field', 'message'])
    .where('municipality_id', '=', municipalityId)
    .where('job_id', '=', jobId)
    .orderBy('row_no')
    .orderBy('seq')
    .limit(limit + 1);
  if (after) {
    query = query.where(sql<boolean>`(row_no, seq) > (${after[0]}::int, ${after[1]}::int)`);
  }
  return query.execute();
}
