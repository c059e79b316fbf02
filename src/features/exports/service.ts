import { Readable } from 'node:stream';
import type { Transaction } from 'kysely';
import { searchCriteria } from '../../audit/audit.js';
import type { DB } from '../../db/schema.js';
import { ForbiddenError } from '../../errors.js';
import type { ReadOn } from '../../request/runner.js';
import type { Session } from '../../request/session.js';
import { analyticsVersion, cacheKey, filterKey, readAtVersion } from '../analytics/cube-cache.js';
import { zoneCounts } from '../analytics/repository.js';
import type { AnalyticsFilter } from '../analytics/schemas.js';
import { cubeDimensions, zoneCubeAsync } from '../analytics/zone-lattice.js';
import {
  answerColumnSpecs,
  type ColumnSpec,
  detailedColumnSpecs,
  exportColumnSpecs,
} from './columns.js';
import {
  csvHeader,
  type ExportFormat,
  formatRows,
  pseudonymizer,
  toAnswerRows,
  toDetailedRow,
  toExportRow,
} from './format.js';
import { ParquetEncoder } from './parquet.js';
import { type ReleasePlan, releasePlan } from './release.js';
import { type ExportCursor, type ExportSourceRow, exportPage } from './repository.js';

/*
 * Pseudonymised row exports, streamed with constant memory.
 *
 * Both engines page with a keyset on (assessed_on, id) in short transactions rather than a
 * server-side cursor or COPY on PostgreSQL: a cursor lives in a transaction, so a slow or
 * stalled client would pin a pooled connection and hold a snapshot (blocking vacuum) for as
 * long as it reads; a keyset page holds a connection for one query and nothing in between, sets
 * the row-level-security scope per transaction like every other request, and is the only
 * option on PGlite, whose single connection must stay free for other requests. Costs: pages
 * are not one snapshot (see the route description), and each page query sorts the
 * municipality's current assessments unless an index on (municipality_id, assessed_on, id)
 * WHERE status = 'current' exists.
 */

/** Rows per page: one short read transaction each, about 1.3 MB of CSV. */
export const EXPORT_PAGE_SIZE = 5000;
/** Rows formatted between turns of the event loop. */
const FORMAT_SLICE = 500;

export interface ExportSummary {
  format: ExportFormat;
  /** Rows sent. */
  rows: number;
  pages: number;
  /** False when the stream was torn down before its end (client gone, or an error). */
  completed: boolean;
}

export interface ExportOptions {
  format: ExportFormat;
  /** Aborting stops the export before its next page. */
  signal: AbortSignal;
  pageSize?: number;
  /** Called once when the stream closes, however it ends. */
  onClose?: (summary: ExportSummary) => void;
}

/**
 * The export's pages: the first as read in the request's transaction, each further one in its
 * own short transaction in the municipality's scope (`read`, so row-level security applies). No
 * connection, transaction or cursor is held between pages: on PGlite other requests run in
 * between, on PostgreSQL the connection goes back to the pool.
 */
async function* exportPages(
  read: ReadOn,
  municipalityId: string,
  filter: AnalyticsFilter,
  pageSize: number,
  signal: AbortSignal,
  first: ExportSourceRow[],
  byRound: boolean,
  answers: boolean,
): AsyncGenerator<ExportSourceRow[]> {
  let rows = first;
  for (;;) {
    if (rows.length > 0) yield rows;
    const last = rows.at(-1);
    if (!last || rows.length < pageSize || signal.aborted) return;
    const cursor: ExportCursor = byRound
      ? { roundId: last.round_id as string, id: last.id }
      : { assessedOn: last.assessed_on, id: last.id };
    rows = await read((trx) =>
      exportPage(trx, municipalityId, filter, cursor, pageSize, byRound, answers),
    );
  }
}

export interface ExportInput extends ExportOptions {
  filter: AnalyticsFilter;
  /** The default export (coarse, k-anonymous), its item answers, or the detailed one. */
  detail: 'default' | 'answers' | 'detailed';
}

/** What the headers of a default export say about its rows. */
export interface ReleaseCounts {
  rows: number;
  generalised: number;
  suppressed: number;
}

export interface ExportBody {
  stream: Readable;
  /** The default export's release counts (none for the detailed export). */
  release?: ReleaseCounts;
}

const releaseCounts = (plan: ReleasePlan): ReleaseCounts => {
  const rows = plan.released.reduce((a, n) => a + n, 0);
  return { rows, generalised: rows - (plan.released[0] ?? 0), suppressed: plan.suppressed };
};

/**
 * Opens a pseudonymised export of the municipality's current assessments, run with
 * `Runner.runThen`: the checks, the audit entry (an export is one use, whatever number of rows
 * it streams) and the first page in the request's transaction, so a failing database or a
 * refused principal still gets a proper error response instead of a truncated body. The
 * continuation returns the body as a byte stream with backpressure: a further page is read only
 * when the consumer wants more, so memory stays constant whatever the size.
 */
export async function openAssessmentExport(
  session: Session,
  trx: Transaction<DB>,
  input: ExportInput,
): Promise<(read: ReadOn) => Promise<ExportBody>> {
  const municipalityId = session.municipalityId;
  if (session.access.isUnitLimited) {
    throw new ForbiddenError('Exports cover the whole municipality; this key is limited to units.');
  }
  const { filter, format, detail } = input;
  const pageSize = input.pageSize ?? EXPORT_PAGE_SIZE;
  session.audit({
    criteria: searchCriteria({ ...filter, dataset: 'assessments', format, detail }),
  });
  const byRound = detail !== 'detailed';
  const answers = detail === 'answers';
  const firstPage = await exportPage(
    trx,
    municipalityId,
    filter,
    undefined,
    pageSize,
    byRound,
    answers,
  );
  // The zone counts the release plan is made from: those the zone distributions of this filter
  // read. The plan itself (a cube: seconds for a large municipality) is made after the
  // transaction, in slices.
  const { rows: zoneRows, version } = byRound
    ? await readAtVersion(trx, municipalityId, await analyticsVersion(trx, municipalityId), () =>
        zoneCounts(trx, municipalityId, filter, cubeDimensions),
      )
    : { rows: [], version: undefined };
  // The same cube as the zone distributions of this filter (cube-cache.ts).
  const cubeKey = cacheKey(version, 'zone', municipalityId, filterKey(filter));
  const plan = async () => releasePlan(zoneRows, await zoneCubeAsync(zoneRows, cubeKey));
  return async (read) => {
    const body = exportBody(byRound ? await plan() : undefined);
    return {
      stream: exportStream(
        exportPages(
          read,
          municipalityId,
          filter,
          pageSize,
          input.signal,
          firstPage,
          byRound,
          answers,
        ),
        body.specs,
        body.rowsOf,
        input,
      ),
      ...(body.release ? { release: body.release } : {}),
    };
  };

  /** How the pages become rows of this export (with the release plan of a default one). */
  function exportBody(releasePlanned: ReleasePlan | undefined) {
    let rowsOf: (page: ExportSourceRow[]) => object[];
    let release: ReleaseCounts | undefined;
    if (releasePlanned) {
      const plan = releasePlanned;
      release = releaseCounts(plan);
      let assessment = 0;
      rowsOf = (page) => {
        const out: object[] = [];
        for (const row of page) {
          const rung = plan.rungOf(row);
          // A row of a class the plan does not release (or that did not exist when it was made:
          // written during the export) is left out.
          if (rung === undefined) continue;
          if (answers) {
            assessment += 1;
            out.push(...toAnswerRows(row, rung, assessment));
          } else out.push(toExportRow(row, rung));
        }
        return out;
      };
    } else {
      const pseudonym = pseudonymizer(session.cprSecret, municipalityId);
      rowsOf = (page) => page.map((row) => toDetailedRow(row, pseudonym));
    }
    const specs =
      detail === 'default'
        ? exportColumnSpecs
        : detail === 'answers'
          ? answerColumnSpecs
          : detailedColumnSpecs;
    return { specs, rowsOf, release };
  }
}

/** How a format writes: a head, each slice of rows, the end of each page, and the end. */
interface Encoder {
  head(): Buffer | undefined;
  rows(rows: object[]): Buffer | undefined;
  pageEnd(): Buffer | undefined;
  end(): Buffer | undefined;
}

function encoderOf(format: ExportFormat, specs: readonly ColumnSpec[]): Encoder {
  if (format === 'parquet') {
    const parquet = new ParquetEncoder(specs);
    return {
      head: () => undefined,
      rows: (rows) => {
        parquet.add(rows);
        return undefined;
      },
      pageEnd: () => parquet.rowGroup(),
      end: () => parquet.finish(),
    };
  }
  const columns = specs.map((s) => s.name);
  return {
    head: () => (format === 'csv' ? Buffer.from(csvHeader(columns)) : undefined),
    rows: (rows) => Buffer.from(formatRows(format, columns as never[], rows as never[])),
    pageEnd: () => undefined,
    end: () => undefined,
  };
}

function exportStream(
  pages: AsyncGenerator<ExportSourceRow[]>,
  specs: readonly ColumnSpec[],
  rowsOf: (page: ExportSourceRow[]) => object[],
  options: ExportOptions,
): Readable {
  const { format } = options;
  const summary: ExportSummary = { format, rows: 0, pages: 0, completed: false };
  const encoder = encoderOf(format, specs);
  const some = (chunk: Buffer | undefined): chunk is Buffer =>
    chunk !== undefined && chunk.length > 0;

  async function* body(): AsyncGenerator<Buffer> {
    // One page is read ahead while the current one is formatted and sent, so the database and
    // the service work at the same time; at most two pages are held, whatever the export's size.
    let ahead: Promise<IteratorResult<ExportSourceRow[]>> | undefined;
    try {
      const head = encoder.head();
      if (some(head)) yield head;
      // The first page was read in the request's transaction: here at once.
      let page = await pages.next();
      while (!page.done) {
        ahead = pages.next();
        // Settled here when the consumer goes away before awaiting it; reported by the await below.
        ahead.catch(() => {});
        summary.pages += 1;
        // Formatted in slices with a turn of the event loop in between, so the rows of the page
        // being read keep flowing in (a long synchronous loop here would leave them in the socket
        // and stall the database while it waits to send).
        for (let i = 0; i < page.value.length; i += FORMAT_SLICE) {
          if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
          const rows = rowsOf(page.value.slice(i, i + FORMAT_SLICE));
          summary.rows += rows.length;
          const chunk = encoder.rows(rows);
          if (some(chunk)) yield chunk;
        }
        const pageEnd = encoder.pageEnd();
        if (some(pageEnd)) yield pageEnd;
        page = await ahead;
        ahead = undefined;
      }
      const end = encoder.end();
      if (some(end)) yield end;
    } finally {
      // A read still running finishes first (its transaction ends), then the pages stop.
      if (ahead) await ahead.catch(() => {});
      await pages.return(undefined);
    }
  }

  // Not object mode: a chunk (a page) is above the high-water mark, so after each one the
  // stream waits until the consumer has taken it before reading the next page.
  const stream = Readable.from(body(), { objectMode: false, highWaterMark: 64 * 1024 });
  stream.once('end', () => {
    summary.completed = true;
  });
  stream.once('close', () => options.onClose?.({ ...summary }));
  return stream;
}
