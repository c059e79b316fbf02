import { createReadStream } from 'node:fs';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { Readable } from 'node:stream';
import { SingleBar } from 'cli-progress';
import {
  items,
  type LinealClient,
  LinealProblemError,
  problemOf,
  type Schemas,
} from '../typescript/index.js';
import type { Connection, Output } from './common.js';

type ImportJob = Schemas['ImportJob'];
type ImportError = Schemas['ImportError'];

export interface ImportOptions {
  dryRun?: boolean;
  format?: 'csv' | 'ndjson';
  mode?: 'upsert' | 'full';
  unitIds?: string;
  endDate?: string;
  json?: boolean;
  /** Milliseconds between two looks at the job (default 500). */
  pollMs?: number;
  /** Row errors printed in the summary (default 20; all with --json). */
  errors?: number;
}

const CONTENT_TYPES = { csv: 'text/csv', ndjson: 'application/x-ndjson' } as const;

/** The file's format: the option, else its extension. */
export function formatOf(file: string, format?: 'csv' | 'ndjson'): 'csv' | 'ndjson' {
  if (format) return format;
  const ext = path.extname(file).toLowerCase();
  if (ext === '.ndjson' || ext === '.jsonl') return 'ndjson';
  if (ext === '.csv') return 'csv';
  throw new Error(`Cannot tell the format of ${file} from its name: pass --format csv|ndjson.`);
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
const finished = (job: ImportJob) => job.status === 'succeeded' || job.status === 'failed';

/**
 * `lineal import FILE`: streams the file to POST /v1/imports (constant memory, any size up to
 * the deployment's IMPORT_MAX_BYTES), follows the job with a progress bar on stderr, and prints
 * a summary and the first row errors. Exit code 0 when every row was accepted, 2 when some were
 * rejected, 1 when the job failed.
 */
export async function runImport(
  connection: Connection,
  client: LinealClient,
  file: string,
  options: ImportOptions,
  out: Output,
): Promise<number> {
  const format = formatOf(file, options.format);
  const size = (await stat(file)).size;
  const query = new URLSearchParams();
  if (options.dryRun) query.set('dryRun', 'true');
  if (options.mode) query.set('mode', options.mode);
  if (options.unitIds) query.set('unitIds', options.unitIds);
  if (options.endDate) query.set('endDate', options.endDate);
  // The upload is streamed with plain fetch: the typed client would keep the body to retry it.
  const response = await (connection.fetch ?? fetch)(
    `${connection.baseUrl}/v1/imports${query.size > 0 ? `?${query}` : ''}`,
    {
      method: 'POST',
      headers: {
        authorization: `Bearer ${connection.apiKey}`,
        'content-type': CONTENT_TYPES[format],
        'content-length': String(size),
      },
      body: Readable.toWeb(createReadStream(file)) as ReadableStream,
      duplex: 'half',
    } as RequestInit,
  );
  if (response.status !== 202) {
    const body = await response.json().catch(() => undefined);
    throw new LinealProblemError(problemOf(body, response));
  }
  let job = (await response.json()) as ImportJob;
  out.info(
    `${options.dryRun ? 'Dry run' : 'Import'} ${job.id} accepted (${format}, ${size} bytes).`,
  );

  const bar =
    out.interactive && !options.json
      ? new SingleBar({
          stream: process.stderr,
          format: ' {bar} {percentage}% | {value}/{total} rows | {status}',
          hideCursor: true,
          clearOnComplete: false,
        })
      : undefined;
  bar?.start(job.rowsTotal ?? 0, 0, { status: job.status });
  while (!finished(job)) {
    await sleep(options.pollMs ?? 500);
    const next = await client.GET('/v1/imports/{importId}', {
      params: { path: { importId: job.id } },
    });
    if (!next.data) throw new LinealProblemError(problemOf(next.error, next.response));
    job = next.data;
    if (bar) {
      if (job.rowsTotal !== null) bar.setTotal(job.rowsTotal);
      bar.update(job.counts.read, { status: job.status });
    }
  }
  bar?.stop();

  const limit = options.json ? Number.POSITIVE_INFINITY : (options.errors ?? 20);
  const errors: ImportError[] = [];
  if (job.counts.rejected > 0 && limit > 0) {
    for await (const error of items((cursor) =>
      client.GET('/v1/imports/{importId}/errors', {
        params: {
          path: { importId: job.id },
          query: { limit: 200, ...(cursor ? { cursor } : {}) },
        },
      }),
    )) {
      errors.push(error);
      if (errors.length >= limit) break;
    }
  }
  if (options.json) {
    await out.write(`${JSON.stringify({ job, errors })}\n`);
  } else {
    await out.write(summary(job, errors));
  }
  if (job.status === 'failed') return 1;
  return job.counts.rejected > 0 ? 2 : 0;
}

/** The human summary of a finished job. */
export function summary(job: ImportJob, errors: readonly ImportError[]): string {
  const c = job.counts;
  const would = job.dryRun ? ' (dry run: nothing was changed)' : '';
  const lines = [
    `Import ${job.id}: ${job.status}${would}`,
    `  rows read  ${c.read}`,
    `  created    ${c.created}`,
    `  updated    ${c.updated}`,
    `  unchanged  ${c.unchanged}`,
    `  rejected   ${c.rejected}`,
  ];
  if (job.mode === 'full') lines.push(`  ended      ${c.ended}`);
  if (job.problem) lines.push(`Problem: ${job.problem.title}: ${job.problem.detail}`);
  if (errors.length > 0) {
    lines.push('Row errors:');
    for (const e of errors) lines.push(`  row ${e.row}, ${e.field}: ${e.message}`);
    if (errors.length < c.rejected) {
      lines.push(`  … every row error: --json, or GET /v1/imports/${job.id}/errors`);
    }
  }
  return `${lines.join('\n')}\n`;
}
