import { z } from 'zod';
import { informMethods, parentNoticeReasons } from '../../domain/parent-information.js';
import { letterLanguages, optionalLetterLanguages } from '../../domain/parent-letter.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';

const ZoneSchema = z.enum(['green', 'yellow', 'red']);
export const parentNoticeStatuses = [
  'open',
  'informed',
  'not_informed_risk',
  'superseded',
] as const;

export const ParentNoticeSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    assessmentId: z.uuid(),
    reason: z
      .enum(parentNoticeReasons)
      .describe("The child's first assessment with a zone, or a zone other than the last one."),
    zone: ZoneSchema,
    previousZone: ZoneSchema.nullable(),
    assessedOn: IsoDateSchema,
    dueOn: IsoDateSchema.describe("The assessment's date plus the action guide's deadline."),
    overdue: z.boolean().describe('Open after its due date.'),
    riskCategories: z
      .array(z.string())
      .describe(
        'Red flag categories (violence, sexual abuse) for which the guide says not to inform ' +
          'the parents first: a leader decides, and may close it as not informed.',
      ),
    status: z.enum(parentNoticeStatuses),
    informedOn: IsoDateSchema.nullable(),
    method: z
      .enum(informMethods)
      .nullable()
      .describe('Null when the parents were informed as the assessment was recorded.'),
    informedBy: z.object({ name: z.string(), role: z.string() }).nullable(),
    note: z.string().nullable().describe('For not_informed_risk: the reason.'),
    closedAt: z.iso.datetime().nullable(),
    closedBy: z.uuid().nullable(),
  })
  .meta({ id: 'ParentNotice' });
export type ParentNotice = z.infer<typeof ParentNoticeSchema>;

export const ParentNoticeListQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional(),
  childId: z.uuid().optional(),
  status: z.enum([...parentNoticeStatuses, 'all']).default('open'),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('true: only open notices past their due date; false: only those not yet due.'),
});
export type ParentNoticeListQuery = z.output<typeof ParentNoticeListQuerySchema>;
export const ParentNoticePageSchema = pageSchema(ParentNoticeSchema).meta({
  id: 'ParentNoticePage',
});
export const ParentNoticeParamsSchema = z.object({ noticeId: z.uuid() });

export const RecordInformedSchema = z
  .object({
    informedOn: IsoDateSchema.describe('The day the parents were informed.'),
    method: z.enum(informMethods),
    informedBy: z
      .object({
        name: z.string().trim().min(1).max(200),
        role: z.string().trim().min(1).max(100),
      })
      .strict()
      .describe('Who informed them.'),
    note: z.string().trim().min(1).max(2000).optional(),
  })
  .strict()
  .meta({ id: 'RecordParentsInformed' });
export type RecordInformed = z.output<typeof RecordInformedSchema>;

export const RecordNotInformedSchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .describe('Why informing the parents would put the child at risk (kept in the record).'),
  })
  .strict()
  .meta({ id: 'RecordParentsNotInformed' });
export type RecordNotInformed = z.output<typeof RecordNotInformedSchema>;

export const LetterLanguagesSchema = z
  .object({
    languages: z
      .array(z.enum(letterLanguages))
      .describe('The languages letters are offered in: Danish always, then those enabled.'),
    available: z.array(z.enum(letterLanguages)).describe('Every language lineal has letters in.'),
  })
  .meta({ id: 'ParentLetterLanguages' });

export const SetLetterLanguagesSchema = z
  .object({
    languages: z
      .array(z.enum(optionalLetterLanguages))
      .max(optionalLetterLanguages.length)
      .refine((l) => new Set(l).size === l.length, 'must not repeat a language')
      .describe('The languages to offer besides Danish (Danish is always offered).'),
  })
  .strict();
