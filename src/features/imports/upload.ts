import { type Readable, Transform, type TransformCallback } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { StringDecoder } from 'node:string_decoder';
import { parse } from 'csv-parse';
import { ProblemError } from '../../errors.js';
import type { StoredRow } from './repository.js';
import { IMPORT_COLUMNS, REQUIRED_COLUMNS } from './schemas.js';

export type ImportFormat = 'csv' | 'ndjson';

/** The file's whole structure is wrong (a CSV header without a required column). */
export class HeaderError extends Error {}

export class PayloadTooLargeError extends ProblemError {
  constructor(maxBytes: number) {
    super(
      413,
      'payload-too-large',
      'Payload Too Large',
      `The file is larger than the import limit of ${maxBytes} bytes (IMPORT_MAX_BYTES).`,
    );
  }
}

/** Passes bytes through, failing once more than `maxBytes` went by. */
class ByteCap extends Transform {
  #seen = 0;
  constructor(private readonly maxBytes: number) {
    super();
  }
  override _transform(chunk: Buffer, _enc: BufferEncoding, done: TransformCallback): void {
    this.#seen += chunk.length;
    if (this.#seen > this.maxBytes) done(new PayloadTooLargeError(this.maxBytes));
    else done(null, chunk);
  }
}

/** A longer line is a row error, not a reason to hold more in memory. */
const MAX_LINE_CHARS = 64 * 1024;

function csvHeader(record: string[]): string[] {
  const header = record.map((c) => c.trim());
  const unknown = header.filter((c) => !(IMPORT_COLUMNS as readonly string[]).includes(c));
  const missing = REQUIRED_COLUMNS.filter((c) => !header.includes(c));
  if (!header.includes('unitId') && !header.includes('unitExternalRef')) {
    missing.push('unitId or unitExternalRef' as never);
  }
  const duplicate = header.filter((c, i) => header.indexOf(c) !== i);
  const faults = [
    ...(missing.length > 0 ? [`missing column(s): ${missing.join(', ')}`] : []),
    ...(unknown.length > 0 ? [`unknown column(s): ${unknown.join(', ')}`] : []),
    ...(duplicate.length > 0 ? [`duplicate column(s): ${duplicate.join(', ')}`] : []),
  ];
  if (faults.length > 0) {
    throw new HeaderError(
      `The CSV header is not valid: ${faults.join('; ')}. Columns: ${IMPORT_COLUMNS.join(', ')}.`,
    );
  }
  return header;
}

function csvRow(header: string[], record: string[], row: number): StoredRow {
  if (record.length !== header.length) {
    return {
      row_no: row,
      data: undefined,
      parse_error: `has ${record.length} fields; the header has ${header.length}`,
    };
  }
  const data: Record<string, string> = {};
  header.forEach((column, i) => {
    const value = record[i] as string;
    if (value.trim() !== '') data[column] = value;
  });
  return { row_no: row, data, parse_error: null };
}

function ndjsonRow(line: string, row: number): StoredRow {
  if (line.length > MAX_LINE_CHARS) {
    return {
      row_no: row,
      data: undefined,
      parse_error: `is longer than ${MAX_LINE_CHARS} characters`,
    };
  }
  try {
    const data: unknown = JSON.parse(line);
    if (typeof data === 'object' && data !== null && !Array.isArray(data)) {
      return { row_no: row, data, parse_error: null };
    }
    return { row_no: row, data: undefined, parse_error: 'is not a JSON object' };
  } catch {
    return { row_no: row, data: undefined, parse_error: 'is not valid JSON' };
  }
}

/**
 * Reads an uploaded file as it streams in, in constant memory, handing rows to `flush` in
 * batches of `batchSize` (awaited: the upload is read no faster than the rows are stored).
 * CSV: a header naming the columns, then one record per row (row 1 is the first record after
 * the header); NDJSON: one JSON object per line (row n is line n; blank lines are skipped).
 * Returns the number of rows. Throws HeaderError for a bad CSV header or a CSV syntax error,
 * PayloadTooLargeError past `maxBytes`.
 */
export async function readUpload(
  body: NodeJS.ReadableStream,
  format: ImportFormat,
  options: { maxBytes: number; batchSize: number },
  flush: (rows: StoredRow[]) => Promise<void>,
): Promise<number> {
  let batch: StoredRow[] = [];
  let rows = 0;
  const add = async (row: StoredRow) => {
    rows = Math.max(rows, row.row_no);
    batch.push(row);
    if (batch.length >= options.batchSize) {
      const full = batch;
      batch = [];
      await flush(full);
    }
  };
  // The request stream is piped rather than put in the pipeline: an error (a bad header, the
  // limit passed) then stops the parsing without destroying the request (and its socket), so
  // the answer can still be sent; the rest of the upload is drained.
  const cap = new ByteCap(options.maxBytes);
  const source = body as Readable;
  source.once('error', (error) => cap.destroy(error));
  source.pipe(cap);
  const drain = () => {
    source.unpipe(cap);
    source.resume();
  };
  if (format === 'csv') {
    const parser = parse({ bom: true, skip_empty_lines: true, relax_column_count: true });
    try {
      await pipeline(cap, parser, async (records: AsyncIterable<string[]>) => {
        let header: string[] | undefined;
        let n = 0;
        for await (const record of records) {
          if (!header) header = csvHeader(record);
          else await add(csvRow(header, record, ++n));
        }
        if (!header) throw new HeaderError('The CSV file is empty: it has no header.');
      });
    } catch (error) {
      drain();
      const code = (error as { code?: unknown }).code;
      if (typeof code === 'string' && code.startsWith('CSV_')) {
        const line = (error as { lines?: number }).lines;
        throw new HeaderError(
          `The CSV file cannot be read${line ? ` at line ${line}` : ''} (${code}).`,
        );
      }
      throw error;
    }
  } else {
    await pipeline(cap, async (chunks: AsyncIterable<Buffer>) => {
      const decoder = new StringDecoder('utf8');
      let rest = '';
      let line = 0;
      const take = async (text: string) => {
        line += 1;
        const trimmed = text.trim();
        if (trimmed !== '') await add(ndjsonRow(trimmed, line));
      };
      for await (const chunk of chunks) {
        rest += decoder.write(chunk);
        let at = rest.indexOf('\n');
        while (at >= 0) {
          await take(rest.slice(0, at));
          rest = rest.slice(at + 1);
          at = rest.indexOf('\n');
        }
        if (rest.length > MAX_LINE_CHARS) {
          // Keep no more than the limit of an overlong line; it is a row error anyway.
          rest = rest.slice(0, MAX_LINE_CHARS + 1);
        }
      }
      rest += decoder.end();
      if (rest !== '') await take(rest);
    }).catch((error: unknown) => {
      drain();
      throw error;
    });
  }
  if (batch.length > 0) await flush(batch);
  return rows;
}
