import { createHmac } from 'node:crypto';
import { ageInMonths } from '../../domain/dates.js';
import type { AnswerColumn } from './columns.js';
import { generalise } from './release.js';
import type { ExportSourceRow } from './repository.js';
import type { DetailedColumn, DetailedRow, ExportColumn, ExportRow } from './schemas.js';

export type ExportFormat = 'csv' | 'ndjson' | 'parquet';
export type TextFormat = Exclude<ExportFormat, 'parquet'>;

/** Hex digits of the pseudonym: 80 bits, so collisions among a municipality's children are nil. */
const PSEUDONYM_LENGTH = 20;

/**
 * The child's pseudonym in exports: HMAC-SHA256 under the deployment secret of the municipality
 * and the child's id, hex, first 20 digits. Stable across exports, different per municipality,
 * and not reversible without the secret. The "export-pseudonym" label keeps it apart from every
 * other use of the secret (CPR hashes, idempotency fingerprints).
 */
export function childPseudonym(secret: string, municipalityId: string, childId: string): string {
  return createHmac('sha256', secret)
    .update(`export-pseudonym\n${municipalityId}\n${childId}`, 'utf8')
    .digest('hex')
    .slice(0, PSEUDONYM_LENGTH);
}

/** Pseudonyms kept per export before the memo starts afresh (about 10 MiB at most). */
const PSEUDONYM_MEMO_SIZE = 50_000;

/**
 * `childPseudonym` for one export, memoised: a child appears once per round, so most rows of an
 * export repeat a pseudonym already computed. The memo is bounded (cleared when full), so memory
 * stays constant for any municipality size, and it lives only as long as the export.
 */
export function pseudonymizer(secret: string, municipalityId: string): (childId: string) => string {
  const memo = new Map<string, string>();
  return (childId) => {
    let pseudonym = memo.get(childId);
    if (pseudonym === undefined) {
      pseudonym = childPseudonym(secret, municipalityId, childId);
      if (memo.size >= PSEUDONYM_MEMO_SIZE) memo.clear();
      memo.set(childId, pseudonym);
    }
    return pseudonym;
  };
}

/** A database row as the detailed export has it: pseudonymised, the age in months. */
export function toDetailedRow(
  row: ExportSourceRow,
  pseudonym: (childId: string) => string,
): DetailedRow {
  return {
    child_pseudonym: pseudonym(row.child_id),
    age_months: ageInMonths(row.birth_date, row.assessed_on),
    sex: row.sex,
    unit_id: row.unit_id,
    unit_kind: row.unit_kind,
    district: row.district,
    round_id: row.round_id,
    round_name: row.round_name,
    assessed_on: row.assessed_on,
    ...figuresOf(row),
    status: 'current',
  };
}

/** The answer rows of an assessment released at `rung`: one per answered item, by item key. */
export function toAnswerRows(row: ExportSourceRow, rung: number, assessment: number) {
  // The assessment's released columns but its figures (level, score, flags): the items instead.
  const {
    level: _level,
    score: _score,
    red_flag_count: _count,
    flags: _flags,
    ...released
  } = toExportRow(row, rung);
  const keys = Object.keys(row.answers ?? {}).sort();
  return keys.map((key) => {
    const value = row.answers?.[key];
    return {
      assessment,
      ...released,
      item_key: key,
      domain: row.domains?.[key] ?? null,
      answer: typeof value === 'number' ? value : null,
      not_applicable: value === 'na',
    };
  });
}

/** A database row (in a round) as the default export has it, at its release rung. */
export function toExportRow(row: ExportSourceRow, rung: number): ExportRow {
  return {
    round_id: row.round_id as string,
    round_name: row.round_name as string,
    round_start: row.round_start as string,
    ...generalise(row, rung),
    ...figuresOf(row),
  };
}

/** The assessment's own figures, as every export has them (flags as a list). */
function figuresOf(row: ExportSourceRow) {
  return {
    ruler_key: row.ruler_key,
    zone: row.zone,
    level: row.level,
    score: row.score,
    red_flag_count: row.red_flag_count,
    flags: row.flags ? row.flags.split(',') : [],
  };
}

type AnyColumn = ExportColumn | DetailedColumn | AnswerColumn;

/** Free-text columns a spreadsheet could take for a formula. */
const textColumns = new Set<AnyColumn>(['district', 'round_name']);
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * Free text starting like a formula gets a leading apostrophe, so spreadsheets show it as text
 * (OWASP "CSV injection"); null is an empty field.
 */
export function csvField(value: unknown, column?: AnyColumn): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value) ? value.join(',') : String(value);
  if (column && textColumns.has(column) && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvHeader = (columns: readonly string[]) => `${columns.join(',')}\r\n`;

/**
 * Columns whose values cannot hold a comma, quote or line break (ids, dates, numbers), written
 * as they are; every other column goes through `csvField`.
 */
const plainColumns = new Set<AnyColumn>([
  'child_pseudonym',
  'age_months',
  'unit_id',
  'round_id',
  'round_start',
  'assessed_on',
  'level',
  'score',
  'red_flag_count',
]);

/** One CSV line of `row`'s `columns`. */
export function csvLine<C extends AnyColumn>(
  columns: readonly C[],
  row: { [K in C]: unknown },
): string {
  const last = columns.length - 1;
  let line = '';
  for (let i = 0; i <= last; i += 1) {
    const column = columns[i] as C;
    const value = row[column];
    line += plainColumns.has(column)
      ? value === null || value === undefined
        ? ''
        : String(value)
      : csvField(value, column);
    line += i === last ? '\r\n' : ',';
  }
  return line;
}

export function ndjsonLine(row: object): string {
  return `${JSON.stringify(row)}\n`;
}

/** A page of rows as one chunk of the body. */
export function formatRows<C extends AnyColumn>(
  format: TextFormat,
  columns: readonly C[],
  rows: readonly { [K in C]: unknown }[],
): string {
  let out = '';
  if (format === 'csv') for (const row of rows) out += csvLine(columns, row);
  else for (const row of rows) out += ndjsonLine(row);
  return out;
}
