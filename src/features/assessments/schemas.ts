import { z } from 'zod';
import { BandSchema, RatingSchema, ZoneSchema } from '../../domain/rulers/definition.js';
import { PageQuerySchema, pageSchema, UpdatedSinceSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';
import { BasisSchema, WithheldSchema } from '../consents/schemas.js';
import { RecommendationSchema } from '../recommendations/schemas.js';
import { SelfReportLinkSchema } from '../self-reports/schemas.js';

export const raterRoles = [
  'unit_staff',
  'unit_leader',
  'teacher',
  'health_visitor',
  'ppr',
  'school_social_worker',
  'other',
] as const;

export const RaterSchema = z
  .object({
    personId: z
      .string()
      .trim()
      .min(1)
      .max(200)
      .optional()
      .describe("The rater's id in your system."),
    name: z.string().trim().min(1).max(200),
    role: z.enum(raterRoles),
    rating: RatingSchema.optional().describe("This rater's own rating before the joint one."),
  })
  .strict()
  .meta({ id: 'Rater' });

export const ExplanationSchema = z
  .object({
    rule: z.enum(['assessor_position', 'worst_domain', 'mean_of_items', 'sum_of_items']),
    outcome: z.enum(['classified', 'insufficient_data', 'red_flag']),
    summary: z.string(),
    decisiveLevel: z.number().int().nullable(),
    decisiveItems: z.array(z.string()),
    redFlags: z.array(z.string()),
    score: z.number().nullable(),
    band: BandSchema.nullable(),
    answeredItems: z.number().int(),
    notApplicableItems: z.number().int(),
    minAnsweredItems: z.number().int(),
    disagreements: z.array(z.object({ subject: z.string(), levels: z.array(z.number().int()) })),
  })
  .meta({ id: 'Explanation' });

const assessmentFields = {
  unitId: z.uuid().describe('The unit that assessed the child (the child must be enrolled there).'),
  roundId: z.uuid().optional().describe('The screening round, if the assessment belongs to one.'),
  rulerVersionId: z
    .uuid()
    .optional()
    .describe("Required without a round; with a round it must be the round's version."),
  assessedOn: IsoDateSchema,
  raters: z.array(RaterSchema).min(1).max(10),
  rating: RatingSchema.describe('The joint rating (fælles vurdering).'),
  redFlags: z
    .array(z.string())
    .max(50)
    .default([])
    .describe("Keys of the ruler's red-flag items present."),
  justification: z.string().trim().min(1).max(4000).optional(),
  parentsInformed: z
    .boolean()
    .describe(
      'Whether the parents have been informed. When the recommendation has an inform-parents ' +
        'step (the zone changed), true completes that step at once; false leaves it open.',
    ),
  childPerspective: z.string().trim().min(1).max(4000).optional().describe("The child's own view."),
};

export const CreateAssessmentSchema = z
  .object({ childId: z.uuid(), ...assessmentFields })
  .strict()
  .meta({ id: 'CreateAssessment' });
export type CreateAssessment = z.infer<typeof CreateAssessmentSchema>;

export const CorrectAssessmentSchema = z
  .object({
    reason: z.string().trim().min(1).max(2000).describe('Why the assessment is corrected.'),
    ...assessmentFields,
    roundId: z
      .uuid()
      .nullable()
      .optional()
      .describe('Omit to keep the round of the corrected version; null to leave the round.'),
  })
  .strict()
  .meta({ id: 'CorrectAssessment' });
export type CorrectAssessment = z.infer<typeof CorrectAssessmentSchema>;

export const WithdrawAssessmentSchema = z
  .object({ reason: z.string().trim().min(1).max(2000) })
  .strict()
  .meta({ id: 'WithdrawAssessment' });

export const AssessmentSchema = z
  .object({
    id: z.uuid(),
    lineageId: z
      .uuid()
      .describe('Shared by every version of the assessment (the id of version 1).'),
    version: z.number().int(),
    status: z.enum(['current', 'superseded', 'withdrawn']),
    childId: z.uuid(),
    unitId: z.uuid(),
    roundId: z.uuid().nullable(),
    rulerVersionId: z.uuid(),
    rulerKey: z.string(),
    rulerVersion: z.number().int(),
    assessedOn: z.string(),
    raters: z.array(RaterSchema),
    rating: RatingSchema,
    redFlags: z.array(z.string()),
    justification: z.string().nullable(),
    parentsInformed: z
      .boolean()
      .describe(
        'Whether the parents have been informed. One record: the inform-parents step of the ' +
          'recommendation when it has one (true once that step is done; reopening it makes ' +
          'this false again), else what was recorded with the assessment.',
      ),
    parentsInformedAt: z.iso
      .datetime()
      .nullable()
      .describe('When that was recorded: the step marked done, or the assessment recorded.'),
    parentsInformedBy: z.uuid().nullable().describe('The key (principal) that recorded it.'),
    informParentsStepId: z
      .uuid()
      .nullable()
      .describe(
        'The inform-parents step that records it (PATCH /v1/steps/{id}); null: none was due.',
      ),
    childPerspective: z.string().nullable(),
    zone: ZoneSchema.nullable().describe('null: insufficient data, never a falsely green zone.'),
    level: z.number().int().nullable(),
    score: z.number().nullable(),
    explanation: ExplanationSchema,
    supersedesId: z.uuid().nullable(),
    supersededById: z.uuid().nullable(),
    correctionReason: z.string().nullable(),
    withdrawalReason: z.string().nullable(),
    createdAt: z.iso.datetime(),
    createdBy: z.uuid().describe('The key (principal) that recorded this version.'),
    statusChangedAt: z.iso.datetime().nullable(),
    statusChangedBy: z.uuid().nullable(),
    sharing: z
      .object({
        bases: z.array(BasisSchema).describe('Why this key may see the assessment.'),
        notes: z
          .array(BasisSchema)
          .describe(
            'Consents covering its free text; empty: justification, childPerspective and the ' +
              'correction and withdrawal reasons are withheld (null).',
          ),
      })
      .optional()
      .describe(
        "Present when a unit-limited key sees an assessment made in another unit (not one of the key's units): the consent or guideline it is shared under.",
      ),
  })
  .meta({ id: 'Assessment' });
export type Assessment = z.infer<typeof AssessmentSchema>;

/** One assessment as GET /v1/assessments/{id} answers it: with the child's own voice beside it. */
export const AssessmentViewSchema = AssessmentSchema.extend({
  selfReport: SelfReportLinkSchema.optional().describe(
    "The child's own self-report nearest in date (within 60 days), where its purpose covers " +
      'you: that it exists, and its zone side by side where the purpose lets you see it. ' +
      'Absent when there is none whose purpose covers you (so the read equals the write).',
  ),
}).meta({ id: 'AssessmentView' });
export type AssessmentView = z.infer<typeof AssessmentViewSchema>;

export const AssessmentParamsSchema = z.object({ assessmentId: z.uuid() });

export const TimelineQuerySchema = z.object({
  includeWithdrawn: z
    .enum(['true', 'false'])
    .default('false')
    .transform((v) => v === 'true'),
});

export const TimelineSchema = z
  .object({
    childId: z.uuid(),
    items: z
      .array(AssessmentSchema)
      .describe('Current (and optionally withdrawn) assessments by date.'),
    withheld: WithheldSchema.nullable().describe(
      "Assessments made in other units that this key may not see (null: none withheld). Keys limited to units see other units' assessments only under a consent or transition guideline.",
    ),
  })
  .meta({ id: 'Timeline' });

export const AssessmentWithRecommendationSchema = AssessmentSchema.extend({
  recommendation: RecommendationSchema.describe(
    'What to do next: the action-guide steps with who to involve, who is responsible and by ' +
      'when, and the trajectory flags.',
  ),
}).meta({ id: 'AssessmentWithRecommendation' });
export type AssessmentWithRecommendation = z.infer<typeof AssessmentWithRecommendationSchema>;

export const AssessmentListQuerySchema = PageQuerySchema.extend({
  roundId: z.uuid().optional().describe('Only assessments in this round.'),
  unitId: z.uuid().optional().describe('Only assessments made in this unit.'),
  childId: z.uuid().optional().describe('Only assessments of this child.'),
  updatedSince: UpdatedSinceSchema.optional().describe(
    'RFC 3339 timestamp: only assessments made, superseded or withdrawn at or after it. ' +
      'Assessments are immutable apart from their status: a correction is a new version.',
  ),
});
export type AssessmentListQuery = z.output<typeof AssessmentListQuerySchema>;

export const AssessmentPageSchema = pageSchema(AssessmentSchema).meta({ id: 'AssessmentPage' });
