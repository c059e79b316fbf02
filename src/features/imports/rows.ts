import { birthDateErrors, cprErrors } from '../../domain/children.js';
import { enrolmentPeriodErrors } from '../../domain/enrolments.js';
import type { RowError, StoredRow } from './repository.js';
import { type ImportRow, ImportRowSchema } from './schemas.js';

/** Rows that fail their own schema or the child and enrolment rules (no database needed). */
export function checkRow(stored: StoredRow, ctx: { today: string }): ImportRow | RowError[] {
  const row = stored.row_no;
  if (stored.parse_error !== null) return [{ row, field: 'row', message: stored.parse_error }];
  const parsed = ImportRowSchema.safeParse(stored.data);
  if (!parsed.success) {
    return parsed.error.issues.flatMap((issue) =>
      issue.code === 'unrecognized_keys'
        ? issue.keys.map((key) => ({ row, field: key, message: 'is not a known field' }))
        : [
            {
              row,
              field: issue.path.length > 0 ? String(issue.path[0]) : 'row',
              message: issue.message,
            },
          ],
    );
  }
  const input = parsed.data;
  const errors = [
    ...birthDateErrors(input.birthDate, ctx.today, 'birthDate'),
    ...(input.cpr !== undefined ? cprErrors(input.cpr, input.birthDate, 'cpr').errors : []),
    ...enrolmentPeriodErrors(
      { start: input.startDate, end: input.endDate ?? null },
      input.birthDate,
      'enrolment',
    ).map((e) => ({ ...e, path: e.path.replace('enrolment.', '') })),
  ];
  if (errors.length > 0) return errors.map((e) => ({ row, field: e.path, message: e.message }));
  return input;
}
