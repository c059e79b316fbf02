import { createHmac } from 'node:crypto';
import { ageInMonths } from '../../domain/dates.js';
import type { ExportSourceRow } from './repository.js';
import { type ExportColumn, type ExportRow, exportColumns } from './schemas.js';

export type ExportFormat = 'csv' | 'ndjson';

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

/** A database row as exported: pseudonymised, the birth date replaced by the age in months. */
export function toExportRow(
  row: ExportSourceRow,
  pseudonym: (childId: string) => string,
): ExportRow {
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
    ruler_key: row.ruler_key,
    zone: row.zone,
    level: row.level,
    score: row.score,
    red_flag_count: row.red_flag_count,
    flags: row.flags ? row.flags.split(',') : [],
    status: 'current',
  };
}

/** Free-text columns a spreadsheet could take for a formula. */
const textColumns = new Set<ExportColumn>(['district', 'round_name']);
const FORMULA_START = /^[=+\-@\t\r]/;
const NEEDS_QUOTES = /[",\r\n]/;

/**
 * One CSV field (RFC 4180): quoted when it holds a comma, quote or line break, quotes doubled.
 * Free text starting like a formula gets a leading apostrophe, so spreadsheets show it as text
 * (OWASP "CSV injection"); null is an empty field.
 */
export function csvField(value: unknown, column?: ExportColumn): string {
  if (value === null || value === undefined) return '';
  let text = Array.isArray(value) ? value.join(',') : String(value);
  if (column && textColumns.has(column) && FORMULA_START.test(text)) text = `'${text}`;
  return NEEDS_QUOTES.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export const csvHeader = `${exportColumns.join(',')}\r\n`;

export function csvLine(row: ExportRow): string {
  return `${exportColumns.map((c) => csvField(row[c], c)).join(',')}\r\n`;
}

export function ndjsonLine(row: ExportRow): string {
  return `${JSON.stringify(row)}\n`;
}

/** A page of rows as one chunk of the body. */
export function formatRows(format: ExportFormat, rows: readonly ExportRow[]): string {
  const line = format === 'csv' ? csvLine : ndjsonLine;
  let out = '';
  for (const row of rows) out += line(row);
  return out;
}
