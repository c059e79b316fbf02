import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { ExternalRefSchema, IsoDateSchema } from '../../http/schemas.js';
import { ChildNameSchema, CprSchema, SexSchema } from '../children/schemas.js';

/** The columns (CSV) or fields (NDJSON) of one row: one child and one enrolment. */
export const IMPORT_COLUMNS = [
  'externalRef',
  'givenName',
  'familyName',
  'birthDate',
  'sex',
  'cpr',
  'unitId',
  'unitExternalRef',
  'startDate',
  'endDate',
] as const;
/** Columns a CSV header must name (a unit by unitId or unitExternalRef besides). */
export const REQUIRED_COLUMNS = ['externalRef', 'birthDate', 'startDate'] as const;

/**
 * One row of a roster import: the child as POST /v1/children takes it, and its enrolment in a
 * unit named by id or by the unit's externalRef. The same rules as the single routes apply.
 */
export const ImportRowSchema = z
  .object({
    externalRef: ExternalRefSchema,
    givenName: ChildNameSchema.optional(),
    familyName: ChildNameSchema.optional(),
    birthDate: IsoDateSchema,
    sex: SexSchema.optional(),
    cpr: CprSchema.optional(),
    unitId: z.uuid().optional(),
    unitExternalRef: z.string().trim().min(1).max(200).optional(),
    startDate: IsoDateSchema,
    endDate: IsoDateSchema.optional(),
  })
  .strict()
  .superRefine((row, ctx) => {
    if ((row.unitId === undefined) === (row.unitExternalRef === undefined)) {
      ctx.addIssue({
        code: 'custom',
        path: ['unitId'],
        message: 'name the unit by exactly one of unitId and unitExternalRef',
      });
    }
  });
export type ImportRow = z.infer<typeof ImportRowSchema>;

export const ImportStatusSchema = z
  .enum(['uploading', 'queued', 'running', 'succeeded', 'failed'])
  .meta({ id: 'ImportStatus' });
export type ImportStatus = z.infer<typeof ImportStatusSchema>;

export const ImportModeSchema = z.enum(['upsert', 'full']).meta({ id: 'ImportMode' });

export const CreateImportQuerySchema = z
  .object({
    dryRun: z
      .enum(['true', 'false'])
      .default('false')
      .transform((v) => v === 'true')
      .describe('Report what would change without changing anything.'),
    mode: ImportModeSchema.default('upsert').describe(
      '`upsert` creates and updates; `full` also ends the enrolments in `unitIds` whose child ' +
        'is absent from the file, on `endDate`.',
    ),
    unitIds: z
      .string()
      .max(20_000)
      .optional()
      .describe('Full mode: the units the file is complete for, comma-separated ids.'),
    endDate: IsoDateSchema.optional().describe(
      'Full mode: the last day of the enrolments that are absent from the file.',
    ),
  })
  .strict();
export type CreateImportQuery = z.infer<typeof CreateImportQuerySchema>;

export const ImportJobSchema = z
  .object({
    id: z.uuid(),
    status: ImportStatusSchema,
    format: z.enum(['csv', 'ndjson']),
    mode: ImportModeSchema,
    dryRun: z.boolean(),
    unitIds: z.array(z.uuid()).nullable(),
    endDate: z.string().nullable(),
    rowsTotal: z.number().int().nullable().describe('Rows in the file, once uploaded.'),
    counts: z.object({
      read: z.number().int().describe('Rows processed so far.'),
      created: z.number().int().describe('Rows that created a child.'),
      updated: z.number().int().describe('Rows that changed a child or an enrolment.'),
      unchanged: z.number().int(),
      rejected: z.number().int().describe('Rows with errors (see /errors); nothing applied.'),
      ended: z.number().int().describe('Full mode: enrolments ended as absent from the file.'),
    }),
    problem: z
      .object({ title: z.string(), detail: z.string() })
      .nullable()
      .describe('Why the job failed (a bad CSV header, an upload that never finished).'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
    startedAt: z.iso.datetime().nullable(),
    finishedAt: z.iso.datetime().nullable(),
  })
  .meta({ id: 'ImportJob' });
export type ImportJob = z.infer<typeof ImportJobSchema>;

export const ImportParamsSchema = z.object({ importId: z.uuid() });

export const ImportErrorSchema = z
  .object({
    row: z.number().int().describe('1-based: the record after the CSV header, or the line.'),
    field: z.string().describe('The column or field, or `row` for the row as a whole.'),
    message: z.string(),
  })
  .meta({ id: 'ImportError' });

export const ImportErrorsQuerySchema = PageQuerySchema;
export const ImportErrorPageSchema = pageSchema(ImportErrorSchema).meta({ id: 'ImportErrorPage' });
