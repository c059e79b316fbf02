import { z } from 'zod';
import { AnalyticsFilterSchema } from '../analytics/schemas.js';
import { answerColumnSpecs, detailedColumnSpecs, exportColumnSpecs } from './columns.js';

/**
 * The columns of the default (coarse) assessment export, in order: the quasi-identifiers
 * coarsened (round instead of date, age band instead of age, district and unit kind instead of
 * unit; `*` where generalised) and no child pseudonym. See release.ts and columns.ts.
 */
export const exportColumns = exportColumnSpecs.map((c) => c.name);
export type ExportColumn = (typeof exportColumnSpecs)[number]['name'];

/** One row of the default export, as NDJSON writes it (CSV writes the same values as text). */
export interface ExportRow {
  round_id: string;
  round_name: string;
  round_start: string;
  district: string | null;
  unit_kind: string;
  age_band: string | null;
  sex: string | null;
  ruler_key: string;
  zone: string | null;
  level: number | null;
  score: number | null;
  red_flag_count: number;
  flags: string[];
}

/**
 * The columns of the detailed assessment export, in order. Nothing that names a child: no name,
 * external reference, CPR hash, birth date or free text (justification, child perspective,
 * raters); but a stable pseudonym, the unit, the date and the age in months.
 */
export const detailedColumns = detailedColumnSpecs.map((c) => c.name);
export type DetailedColumn = (typeof detailedColumnSpecs)[number]['name'];

/** One row of the detailed export, as NDJSON writes it (CSV writes the same values as text). */
export interface DetailedRow {
  child_pseudonym: string;
  age_months: number;
  sex: string | null;
  unit_id: string;
  unit_kind: string;
  district: string | null;
  round_id: string | null;
  round_name: string | null;
  assessed_on: string;
  ruler_key: string;
  zone: string | null;
  level: number | null;
  score: number | null;
  red_flag_count: number;
  flags: string[];
  status: string;
}

export const ExportQuerySchema = AnalyticsFilterSchema.extend({
  gzip: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe(
      'true: gzip the body (Content-Encoding: gzip) whatever Accept-Encoding says; false: never. ' +
        'Default: gzip when Accept-Encoding allows it.',
    ),
});
export type ExportQuery = z.output<typeof ExportQuerySchema>;

const list = (columns: readonly string[]) => columns.map((c) => `\`${c}\``).join(', ');

const formats = `CSV: RFC 4180 with a header line and CRLF line ends; null is an empty field, \`flags\` one
comma-separated field; a district or round name starting with \`=\`, \`+\`, \`-\` or \`@\` gets a
leading apostrophe so that spreadsheets do not run it as a formula. NDJSON: one JSON object per
line with the same keys, \`flags\` an array.

The body is streamed page by page; each page is read in its own short transaction, so rows
corrected or withdrawn while a long export runs may be missing or appear in both versions.
gzip with \`?gzip=true\` or \`Accept-Encoding: gzip\`.`;

export const exportDescription = `Current assessments in rounds of your municipality, one row each,
coarsened so that no child can be picked out, ordered by round. Columns: ${list(exportColumns)}.

- The quasi-identifiers are coarse: the round (\`round_start\`: its window's first day) instead
  of the date, the age band at the round's start instead of the age, the district and unit kind
  instead of the unit; no birth date, birth year or child pseudonym.
- k-anonymity, k = 5: every combination of round, district, unit kind, age band, sex and zone in
  the body occurs at least 5 times. A row whose combination is rarer, or whose zone count the
  zone distributions of the same filter hide, is released with sex, then age band, then unit
  kind, then district generalised to \`*\`, at the first step where both hold; else it is left
  out. The body therefore tells nothing about a zone count the aggregates hide. The headers
  \`Lineal-Export-Rows\`, \`Lineal-Export-Generalised\` and \`Lineal-Export-Suppressed\` count
  the rows released, released generalised, and left out.
- Assessments outside rounds are not in this export (they are in the detailed one).
- \`flags\`: the kinds of flags raised for the assessment (acknowledged or not), sorted.

${formats} Analysts and municipality administrators only; keys limited to units get 403.`;

export const answersExportDescription = `The item answers of the assessments the default export
releases, in long format: one row per answered item (${list(answerColumnSpecs.map((c) => c.name))}).
Each row carries its assessment's quasi-identifiers exactly as the default export releases them
(generalised to \`*\` where it does, and left out where it does), and \`assessment\` numbers the
assessments within this export only, so that an assessment's items can be put together; it is no
id and differs in every export. The Lineal-Export-* headers count assessments, not item rows.

${formats} Analysts and municipality administrators only; keys limited to units get 403.`;

export const detailedExportDescription = `Current assessments of your municipality, one row each,
pseudonymised, ordered by assessment date: the detailed export for approved research and the
municipality's own statistics. Columns: ${list(detailedColumns)}. Finer than the default
export (exact dates, units, age in months, a stable child pseudonym), so it is the municipality
administrator's alone, and every use is audited with \`detail: detailed\` in its criteria.

- \`child_pseudonym\`: a stable pseudonym of the child (keyed HMAC-SHA256, 20 hex digits); the
  same child gets the same pseudonym in every export of this municipality, and a different one
  in any other municipality. It cannot be turned back into the child without the service's key.
- \`age_months\`: whole months of age on \`assessed_on\` (no birth date is exported).
- \`round_id\`, \`round_name\`: empty for an assessment outside a round. With \`roundIds\`,
  \`from\`, \`to\` or \`ageBands\` only assessments in rounds are exported (age bands are taken
  at the round's window start, as in the analytics).
- \`flags\`: the kinds of flags raised for the assessment (acknowledged or not), sorted.
- \`status\`: always \`current\`; superseded and withdrawn versions are not exported.

${formats} Keys limited to units get 403.`;

/** The OpenAPI description of a streamed text body. */
export function streamedBody(contentType: string, description: string) {
  return {
    description,
    content: { [contentType]: { schema: z.string().describe(description) } },
  };
}
