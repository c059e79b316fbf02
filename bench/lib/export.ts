import { spawn } from 'node:child_process';
import http from 'node:http';
import { parquetMetadata } from 'hyparquet';
import { type CpuMeters, type CpuUse, startCpu } from './cpu.js';
import type { ServiceProcess } from './service.js';

/** One streamed CSV export: rows are lines minus the header. */
export interface StreamStats {
  rows: number;
  bytes: number;
  seconds: number;
  rowsPerSecond: number;
  cpu: CpuUse;
}

export interface ServiceExportStats extends StreamStats {
  status: number;
  /** The service's RSS just before the request, its peak while streaming, in MiB. */
  rssBeforeMiB: number;
  rssPeakMiB: number;
  rssGrowthMiB: number;
  /** Peak RSS in the first and the second half of the stream: a trend upwards is buffering. */
  rssFirstHalfPeakMiB: number;
  rssSecondHalfPeakMiB: number;
  /** [ms since the request, RSS MiB], about 100 points. */
  rssSeries: Array<[number, number]>;
  /** Fields in the header line (the first and the last row have as many, or the run fails). */
  columns: number;
}

const NEWLINE = 0x0a;

/** Fields in one CSV line (RFC 4180: commas inside double quotes do not separate). */
function csvFieldCount(line: string): number {
  let fields = 1;
  let quoted = false;
  for (const ch of line) {
    if (ch === '"') quoted = !quoted;
    else if (ch === ',' && !quoted) fields += 1;
  }
  return fields;
}

/**
 * A complete CSV body, judged from its first and last bytes: it ends with CRLF (a stream cut off
 * mid-row does not), and the first and the last row have as many fields as the header. Returns
 * the header's field count, or throws saying what is wrong.
 */
function checkCsvEnds(head: string, tail: string, rows: number): number {
  if (!tail.endsWith('\r\n')) {
    throw new Error(
      `the export does not end with a complete line: …${JSON.stringify(tail.slice(-80))}`,
    );
  }
  const [header = '', first = ''] = head.split('\r\n');
  const columns = csvFieldCount(header);
  if (columns < 2) throw new Error(`the export's header is not CSV: ${JSON.stringify(header)}`);
  if (rows === 0) return columns;
  const body = tail.slice(0, -2);
  const last = body.slice(body.lastIndexOf('\n') + 1);
  for (const [name, line] of [
    ['first', first],
    ['last', last],
  ] as const) {
    if (csvFieldCount(line) !== columns) {
      throw new Error(
        `the export's ${name} row has ${csvFieldCount(line)} fields, the header ${columns}`,
      );
    }
  }
  return columns;
}

/** Bytes kept of the body's start and end for checkCsvEnds (longer than any two rows). */
const ENDS_KEPT = 64 * 1024;

function countLines(chunk: Buffer): number {
  let n = 0;
  let i = chunk.indexOf(NEWLINE);
  while (i !== -1) {
    n += 1;
    i = chunk.indexOf(NEWLINE, i + 1);
  }
  return n;
}

/** The Parquet footer's length: its last 8 bytes are the metadata length and "PAR1". */
const PARQUET_TAIL_KEPT = 16 * 1024 * 1024;

/**
 * The rows and columns of a whole Parquet file from its tail (the footer): hyparquet reads the
 * metadata, whose row count is the sum of the row groups'.
 */
function parquetRows(tail: Buffer): { rows: number; columns: number } {
  const length = tail.readUInt32LE(tail.length - 8);
  if (tail.subarray(tail.length - 4).toString() !== 'PAR1' || length + 8 > tail.length) {
    throw new Error('the Parquet export has no footer (truncated?)');
  }
  const footer = tail.subarray(tail.length - length - 8);
  const bytes = new Uint8Array(footer.length + 4);
  bytes.set(Buffer.from('PAR1'));
  bytes.set(footer, 4);
  const metadata = parquetMetadata(bytes.buffer);
  return { rows: Number(metadata.num_rows), columns: metadata.schema.length - 3 };
}

/**
 * GET /v1/exports/detailed/assessments.csv or .parquet (every row; uncompressed: no
 * Accept-Encoding), consumed as fast as the socket delivers it, while the service's RSS is
 * sampled from /proc every 20 ms.
 */
export function serviceExport(
  service: ServiceProcess,
  token: string,
  meters: CpuMeters,
  format: 'csv' | 'parquet' = 'csv',
): Promise<ServiceExportStats> {
  return new Promise((resolve, reject) => {
    const url = new URL(`/v1/exports/detailed/assessments.${format}`, service.baseUrl);
    const kept = format === 'parquet' ? PARQUET_TAIL_KEPT : ENDS_KEPT;
    const rssBefore = service.rssKiB();
    const samples: Array<[number, number]> = [];
    const cpu = startCpu(meters);
    const started = performance.now();
    const sampler = setInterval(() => {
      try {
        samples.push([performance.now() - started, service.rssKiB()]);
      } catch {
        // the process is gone: the request fails below
      }
    }, 20);
    const request = http.get(url, { headers: { authorization: `Bearer ${token}` } }, (res) => {
      let lines = 0;
      let bytes = 0;
      let errorBody = '';
      let head = Buffer.alloc(0);
      let tail = Buffer.alloc(0);
      res.on('data', (chunk: Buffer) => {
        bytes += chunk.length;
        lines += countLines(chunk);
        if (res.statusCode !== 200 && errorBody.length < 500) errorBody += chunk.toString('utf8');
        if (head.length < ENDS_KEPT) head = Buffer.concat([head, chunk]).subarray(0, ENDS_KEPT);
        tail = Buffer.concat([tail.subarray(-kept), chunk]).subarray(-kept);
      });
      res.on('end', () => {
        const seconds = (performance.now() - started) / 1000;
        clearInterval(sampler);
        samples.push([performance.now() - started, service.rssKiB()]);
        if (res.statusCode !== 200) {
          reject(new Error(`the export answered ${res.statusCode}: ${errorBody}`));
          return;
        }
        let rows = Math.max(0, lines - 1);
        let columns: number;
        try {
          if (format === 'parquet') ({ rows, columns } = parquetRows(tail));
          else columns = checkCsvEnds(head.toString('utf8'), tail.toString('utf8'), rows);
        } catch (error) {
          reject(error);
          return;
        }
        const half = (seconds * 1000) / 2;
        const peakOf = (list: Array<[number, number]>) =>
          list.reduce((max, [, kib]) => Math.max(max, kib), rssBefore) / 1024;
        const peak = peakOf(samples);
        const step = Math.max(1, Math.ceil(samples.length / 100));
        resolve({
          status: res.statusCode,
          rows,
          bytes,
          seconds,
          rowsPerSecond: rows / seconds,
          cpu: cpu(),
          rssBeforeMiB: rssBefore / 1024,
          rssPeakMiB: peak,
          rssGrowthMiB: peak - rssBefore / 1024,
          rssFirstHalfPeakMiB: peakOf(samples.filter(([t]) => t < half)),
          rssSecondHalfPeakMiB: peakOf(samples.filter(([t]) => t >= half)),
          rssSeries: samples
            .filter((_, i) => i % step === 0)
            .map(([t, kib]) => [Math.round(t), Math.round((kib / 1024) * 10) / 10]),
          columns,
        });
      });
      res.on('error', (error) => {
        clearInterval(sampler);
        reject(error);
      });
    });
    request.on('error', (error) => {
      clearInterval(sampler);
      reject(error);
    });
  });
}

/** The SELECT behind the export's pages (src/features/exports/repository.ts), all rows at once. */
export function exportCopySql(municipalityId: string): string {
  return `COPY (
    SELECT a.id, a.child_id, c.birth_date, c.sex, a.unit_id, u.kind AS unit_kind, u.district,
           a.round_id, r.name AS round_name, a.assessed_on, ru.key AS ruler_key,
           a.zone, a.level, a.score, cardinality(a.red_flags) AS red_flag_count,
           (SELECT string_agg(DISTINCT f.kind, ',' ORDER BY f.kind)
              FROM flags f WHERE f.assessment_id = a.id) AS flags
    FROM assessments a
    JOIN children c ON c.id = a.child_id
    JOIN units u ON u.id = a.unit_id
    LEFT JOIN rounds r ON r.id = a.round_id
    JOIN ruler_versions rv ON rv.id = a.ruler_version_id
    JOIN rulers ru ON ru.id = rv.ruler_id
    WHERE a.municipality_id = '${municipalityId}' AND a.status = 'current'
    ORDER BY a.assessed_on, a.id
  ) TO STDOUT WITH (FORMAT csv, HEADER)`;
}

/**
 * The baseline: `psql -1 -c "DO … lineal_enter_scope(…)" -c "COPY (…) TO STDOUT WITH CSV"` as
 * the service's role, in one transaction with its scope so row-level security applies as it does
 * to the service; psql's output is consumed by this process like the service's response.
 */
export function psqlCopy(
  psql: string,
  url: string,
  municipalityId: string,
  meters: CpuMeters,
): Promise<StreamStats> {
  return new Promise((resolve, reject) => {
    const cpu = startCpu(meters);
    const started = performance.now();
    const child = spawn(
      psql,
      [
        '-X',
        '-q',
        '-1',
        '-v',
        'ON_ERROR_STOP=1',
        '-d',
        url,
        // The scope is entered in the transaction, as the service does (-q keeps "DO" quiet).
        '-c',
        `DO $$ BEGIN PERFORM lineal_enter_scope('${municipalityId}'::uuid); END $$`,
        '-c',
        exportCopySql(municipalityId),
      ],
      {
        env: { PATH: process.env.PATH ?? '/usr/bin:/bin' },
        stdio: ['ignore', 'pipe', 'pipe'],
      },
    );
    let lines = 0;
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      lines += countLines(chunk);
    });
    child.stderr.on('data', (chunk: Buffer) => {
      stderr += chunk.toString('utf8');
    });
    child.on('error', reject);
    child.on('close', (code) => {
      const seconds = (performance.now() - started) / 1000;
      if (code !== 0) {
        reject(new Error(`psql exited with ${code}: ${stderr}`));
        return;
      }
      const rows = Math.max(0, lines - 1);
      // psql's backend exits with psql: its CPU time is counted once the postmaster has reaped
      // it (cutime), which can lag psql's exit by a moment; read before that, it would be lost.
      setTimeout(
        () => resolve({ rows, bytes, seconds, rowsPerSecond: rows / seconds, cpu: cpu() }),
        250,
      );
    });
  });
}
