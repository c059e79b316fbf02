import { stringify } from 'csv-stringify/sync';
import { items, type LinealClient, type Schemas } from '../typescript/index.js';
import type { Output } from './common.js';

type Assessment = Schemas['Assessment'];

export interface ExportAssessmentsOptions {
  format: 'csv' | 'ndjson';
  roundId?: string;
  unitId?: string;
  childId?: string;
  updatedSince?: string;
}

/**
 * The CSV columns: the assessment's identity, place, date, result and status. The free-text
 * fields (justification, the child's perspective) and the item answers are in the NDJSON
 * export only: a spreadsheet is not where they belong.
 */
export const ASSESSMENT_COLUMNS = [
  'id',
  'lineageId',
  'version',
  'status',
  'childId',
  'unitId',
  'roundId',
  'rulerKey',
  'rulerVersion',
  'assessedOn',
  'zone',
  'level',
  'score',
  'parentsInformed',
  'createdAt',
  'statusChangedAt',
] as const satisfies readonly (keyof Assessment)[];

/** One assessment as a CSV record (RFC 4180 quoting by csv-stringify). */
export function assessmentCsvRow(a: Assessment): string {
  return stringify([ASSESSMENT_COLUMNS.map((column) => a[column] ?? '')], {
    cast: { boolean: (value) => String(value) },
  });
}

/**
 * `lineal export assessments`: every assessment the key may read, in change order (GET
 * /v1/assessments, page by page), as CSV with a header or as NDJSON (one full assessment per
 * line). With --updated-since, only those changed since: a nightly incremental export.
 */
export async function exportAssessments(
  client: LinealClient,
  options: ExportAssessmentsOptions,
  out: Output,
): Promise<number> {
  if (options.format === 'csv') await out.write(stringify([[...ASSESSMENT_COLUMNS]]));
  let count = 0;
  const filters = {
    ...(options.roundId ? { roundId: options.roundId } : {}),
    ...(options.unitId ? { unitId: options.unitId } : {}),
    ...(options.childId ? { childId: options.childId } : {}),
    ...(options.updatedSince ? { updatedSince: options.updatedSince } : {}),
  };
  for await (const assessment of items((cursor) =>
    client.GET('/v1/assessments', {
      params: { query: { limit: 200, ...filters, ...(cursor ? { cursor } : {}) } },
    }),
  )) {
    await out.write(
      options.format === 'csv' ? assessmentCsvRow(assessment) : `${JSON.stringify(assessment)}\n`,
    );
    count += 1;
  }
  out.info(`${count} assessments exported.`);
  return 0;
}
