import { z } from 'zod';
import { BandSchema, LabelSchema, ZoneSchema } from '../../domain/rulers/definition.js';
import { selfReportPurposes, selfReportRulers } from '../../domain/self-report.js';
import { IsoDateSchema } from '../../http/schemas.js';

export const SelfReportPurposeSchema = z
  .enum(selfReportPurposes)
  .describe(
    'The purpose stated to the child before answering; it decides who may see the report, ' +
      'for good. `dialogue`: the conversation with the child and the follow-up by the adults ' +
      'of the unit where it was given. `support`: as dialogue, and the social worker involved ' +
      'with the child. `statistics_only`: only counted in anonymous aggregates; no person sees ' +
      'the answers.',
  )
  .meta({ id: 'SelfReportPurpose' });

const AnswerSchema = z.union([z.number().int(), z.literal('na')]);

export const CreateSelfReportSchema = z
  .object({
    childId: z.uuid(),
    unitId: z
      .uuid()
      .describe('The unit where the child gave the report (enrolled there on reportedOn).'),
    reportedOn: IsoDateSchema.describe('The day the child answered (not in the future).'),
    rulerKey: z
      .enum(selfReportRulers.map((r) => r.key) as [string, ...string[]])
      .default('self-report-10-16')
      .describe('The child-facing ruler (GET /v1/self-report-rulers); its latest version.'),
    purpose: SelfReportPurposeSchema,
    answers: z
      .record(z.string(), AnswerSchema)
      .describe('Question key → the face chosen (1–5), or "na" for a question skipped.'),
    presentAdult: z
      .object({
        name: z.string().trim().min(1).max(200),
        role: z.string().trim().min(1).max(100),
      })
      .strict()
      .describe('The adult who was present while the child answered.'),
    sharedWithParents: z
      .boolean()
      .default(false)
      .describe(
        'The child agreed that the parents may see the report (for a parent view). Never with ' +
          'statistics_only.',
      ),
  })
  .strict()
  .meta({ id: 'CreateSelfReport' });
export type CreateSelfReport = z.output<typeof CreateSelfReportSchema>;

export const SelfReportExplanationSchema = z
  .object({
    rule: z.literal('mean_of_items'),
    outcome: z.enum(['classified', 'insufficient_data']),
    summary: z.string(),
    score: z.number().nullable(),
    band: BandSchema.nullable(),
    answeredItems: z.number().int(),
    skippedItems: z.number().int(),
    minAnsweredItems: z.number().int(),
    lowestAnswers: z
      .array(z.string())
      .describe('Questions answered with the lowest face: they keep the result from green.'),
    cappedFrom: ZoneSchema.nullable().describe('The zone of the mean alone, when lowered.'),
  })
  .meta({ id: 'SelfReportExplanation' });

export const SelfReportSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    reportedOn: IsoDateSchema,
    purpose: SelfReportPurposeSchema,
    rulerKey: z.string(),
    rulerVersion: z.number().int(),
    view: z
      .enum(['full', 'existence'])
      .describe(
        'What the purpose lets this caller see: `full`, or only that the report exists ' +
          '(`existence`: answers, zone, score and explanation are null).',
      ),
    answers: z.record(z.string(), AnswerSchema).nullable(),
    zone: ZoneSchema.nullable().describe('null: too few answered, or not in your view.'),
    score: z.number().nullable(),
    explanation: SelfReportExplanationSchema.nullable(),
    sharedWithParents: z.boolean(),
    presentAdult: z.object({ name: z.string(), role: z.string() }),
    createdAt: z.iso.datetime(),
    createdBy: z.uuid().describe('The key (principal) that recorded it.'),
  })
  .meta({ id: 'SelfReport' });
export type SelfReport = z.infer<typeof SelfReportSchema>;

export const SelfReportListSchema = z
  .object({
    childId: z.uuid(),
    items: z
      .array(SelfReportSchema)
      .describe(
        'The reports whose purpose covers the caller, by date. Reports given for statistics ' +
          'only, or for a purpose that does not cover the caller, are not listed (not counted).',
      ),
  })
  .meta({ id: 'SelfReportList' });

export const SelfReportParamsSchema = z.object({ selfReportId: z.uuid() });

/** The self-report beside a professionals' assessment (GET /v1/assessments/{id}). */
export const SelfReportLinkSchema = z
  .object({
    exists: z.literal(true),
    id: z.uuid(),
    reportedOn: IsoDateSchema,
    purpose: SelfReportPurposeSchema,
    zone: ZoneSchema.nullable().describe(
      "The child's own zone, side by side with the assessment's, where the purpose lets you " +
        'see it; null otherwise (or too few answered: see view).',
    ),
    view: z.enum(['full', 'existence']),
  })
  .meta({ id: 'SelfReportLink' });
export type SelfReportLink = z.infer<typeof SelfReportLinkSchema>;

export const SelfReportRulerSchema = z
  .object({
    key: z.string(),
    version: z.number().int(),
    name: z.string(),
    description: z.string(),
    minAge: z.number().int(),
    maxAge: z.number().int(),
    questions: z.array(z.object({ key: z.string(), label: LabelSchema, allowSkip: z.boolean() })),
    scale: z.array(
      z.object({
        value: z.number().int(),
        emoji: z.string(),
        label: LabelSchema,
        zone: ZoneSchema,
      }),
    ),
    minAnswered: z.number().int(),
  })
  .meta({ id: 'SelfReportRuler' });

export const SelfReportRulersSchema = z
  .object({
    items: z.array(SelfReportRulerSchema),
    purposes: z
      .array(z.object({ purpose: SelfReportPurposeSchema, statement: LabelSchema }))
      .describe('What each purpose says to the child (show it before the questions).'),
  })
  .meta({ id: 'SelfReportRulers' });

/** A date the database can hold and a report can have (year 0000 is no date in PostgreSQL). */
const ReportDateSchema = IsoDateSchema.refine((d) => d >= '1900-01-01', 'must be 1900 or later');

export const SelfReportStatisticsQuerySchema = z.object({
  from: ReportDateSchema.describe('First report date counted.'),
  to: ReportDateSchema.describe('Last report date counted.'),
});

const CountSchema = z
  .number()
  .int()
  .nullable()
  .describe('null: suppressed (fewer than 5 children, or a complement that would reveal one).');

export const SelfReportStatisticsSchema = z
  .object({
    from: IsoDateSchema,
    to: IsoDateSchema,
    purpose: z.literal('statistics_only').describe('Only reports given for statistics count.'),
    rows: z.array(
      z.object({
        age: z.number().int(),
        green: CountSchema,
        yellow: CountSchema,
        red: CountSchema,
        noZone: CountSchema,
        total: CountSchema,
      }),
    ),
    totals: z.object({
      green: CountSchema,
      yellow: CountSchema,
      red: CountSchema,
      noZone: CountSchema,
      total: CountSchema,
    }),
  })
  .meta({ id: 'SelfReportStatistics' });
export type SelfReportStatistics = z.infer<typeof SelfReportStatisticsSchema>;
