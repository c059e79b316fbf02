import { z } from 'zod';
import { AnalyticsFilterSchema } from '../analytics/schemas.js';

/**
 * The columns of an assessment export, in order. Nothing that names a child: no name, external
 * reference, CPR hash, birth date or free text (justification, child perspective, raters).
 */
export const exportColumns = [
  'child_pseudonym',
  'age_months',
  'sex',
  'unit_id',
  'unit_kind',
  'district',
  'round_id',
  'round_name',
  'assessed_on',
  'ruler_key',
  'zone',
  'level',
  'score',
  'red_flag_count',
  'flags',
  'status',
] as const;
export type ExportColumn = (typeof exportColumns)[number];

/** One exported row, as NDJSON writes it (CSV writes the same values as text). */
export interface ExportRow {
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

const columnList = exportColumns.map((c) => `\`${c}\``).join(', ');

export const exportDescription = `Current assessments of your municipality, one row each, pseudonymised
for statistical work, ordered by assessment date. Columns: ${columnList}.

- \`child_pseudonym\`: a stable pseudonym of the child (keyed HMAC-SHA256, 20 hex digits); the
  same child gets the same pseudonym in every export of this municipality, and a different one
  in any other municipality. It cannot be turned back into the child without the service's key.
- \`age_months\`: whole months of age on \`assessed_on\` (no birth date is exported).
- \`round_id\`, \`round_name\`: empty for an assessment outside a round. With \`roundIds\`,
  \`from\`, \`to\` or \`ageBands\` only assessments in rounds are exported (age bands are taken
  at the round's window start, as in the analytics).
- \`flags\`: the kinds of flags raised for the assessment (acknowledged or not), sorted.
- \`status\`: always \`current\`; superseded and withdrawn versions are not exported.

CSV: RFC 4180 with a header line and CRLF line ends; null is an empty field, \`flags\` one
comma-separated field; a district or round name starting with \`=\`, \`+\`, \`-\` or \`@\` gets a
leading apostrophe so that spreadsheets do not run it as a formula. NDJSON: one JSON object per
line with the same keys, \`flags\` an array.

The body is streamed page by page; each page is read in its own short transaction, so rows
corrected or withdrawn while a long export runs may be missing or appear in both versions.
gzip with \`?gzip=true\` or \`Accept-Encoding: gzip\`. Analysts and municipality administrators
only; keys limited to units get 403.`;

/** The OpenAPI description of a streamed text body. */
export function streamedBody(contentType: string, description: string) {
  return {
    description,
    content: { [contentType]: { schema: z.string().describe(description) } },
  };
}
