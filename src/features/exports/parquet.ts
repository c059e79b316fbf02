import { ByteWriter, ParquetWriter } from 'hyparquet-writer';
import { type ColumnSpec, parquetSchema } from './columns.js';

/**
 * Streams an export as Apache Parquet (hyparquet-writer): one row group per page of rows,
 * handed on as bytes as soon as it is written, so memory holds one page whatever the size. Typed
 * columns (dates as DATE, integers as INT32, `flags` a list of strings), snappy-compressed;
 * readable by DuckDB, R (arrow) and pandas (pyarrow) without options.
 */
export class ParquetEncoder {
  readonly #specs: readonly ColumnSpec[];
  readonly #writer: ByteWriter & { flush: () => void } = Object.assign(new ByteWriter(), {
    flush: () => {},
  });
  readonly #parquet: ParquetWriter;
  #chunks: Uint8Array[] = [];
  #rows: Record<string, unknown>[] = [];

  constructor(specs: readonly ColumnSpec[]) {
    this.#specs = specs;
    const writer = this.#writer;
    // Bytes written so far leave at each row group (and at the end); the writer's offset keeps
    // counting the whole file, which the footer's offsets need.
    writer.flush = () => {
      this.#chunks.push(new Uint8Array(writer.buffer.slice(0, writer.index)));
      writer.index = 0;
    };
    writer.finish = () => writer.flush();
    this.#parquet = new ParquetWriter({
      writer,
      schema: parquetSchema(specs),
      createdBy: 'lineal',
    });
  }

  /** Adds rows to the current row group. */
  add(rows: readonly object[]): void {
    for (const row of rows) this.#rows.push(row as Record<string, unknown>);
  }

  /** Writes the rows added since the last call as one row group; the bytes to send. */
  rowGroup(): Buffer {
    const rows = this.#rows;
    this.#rows = [];
    if (rows.length > 0) {
      void this.#parquet.write({
        columnData: this.#specs.map((spec) => ({
          name: spec.name,
          data: rows.map((row) => parquetValue(spec, row[spec.name])),
        })),
        rowGroupSize: rows.length,
      });
    }
    return this.#take();
  }

  /** Writes the last row group and the footer; the remaining bytes. */
  finish(): Buffer {
    const last = this.rowGroup();
    void this.#parquet.finish();
    return Buffer.concat([last, this.#take()]);
  }

  #take(): Buffer {
    if (this.#writer.index > 0) this.#writer.flush();
    const out = Buffer.concat(this.#chunks);
    this.#chunks = [];
    return out;
  }
}

/** A value as the Parquet column of `spec` takes it (a date as a Date at UTC midnight). */
function parquetValue(spec: ColumnSpec, value: unknown): unknown {
  if (value === null || value === undefined) return null;
  if (spec.type === 'date') return new Date(`${String(value)}T00:00:00Z`);
  return value;
}
