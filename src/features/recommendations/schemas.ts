import { z } from 'zod';
import { flagKinds, InvolvedRoleSchema, stepPurposes } from '../../domain/guides/definition.js';
import { LabelSchema, ZoneSchema } from '../../domain/rulers/definition.js';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { IsoDateSchema } from '../../http/schemas.js';

export const stepStatuses = ['open', 'done', 'not_applicable', 'superseded'] as const;

export const StepTaskSchema = z
  .object({
    id: z.uuid(),
    recommendationId: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    zone: ZoneSchema,
    position: z.number().int(),
    stepKey: z.string().describe("The guide step's id, e.g. concern_report."),
    title: LabelSchema,
    description: LabelSchema,
    involve: z.array(InvolvedRoleSchema),
    responsible: InvolvedRoleSchema,
    mandatory: z.boolean(),
    legalReference: z.string().nullable(),
    purpose: z.enum(stepPurposes),
    source: z.enum(['zone', 'zone_change', 'escalation']),
    dueOn: z.string(),
    overdue: z.boolean().describe('Open and past its due date (today in Copenhagen).'),
    status: z.enum(stepStatuses),
    statusReason: z.string().nullable(),
    statusChangedAt: z.iso.datetime().nullable(),
    statusChangedBy: z.uuid().nullable(),
  })
  .meta({ id: 'Step' });
export type StepTask = z.infer<typeof StepTaskSchema>;

export const RecommendationSchema = z
  .object({
    id: z.uuid(),
    assessmentId: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    guideVersionId: z.uuid(),
    zone: ZoneSchema.nullable(),
    previousZone: ZoneSchema.nullable(),
    zoneChanged: z.boolean(),
    flags: z.array(z.object({ kind: z.enum(flagKinds), reason: z.string() })),
    summary: z.string(),
    steps: z.array(StepTaskSchema),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'Recommendation' });
export type RecommendationView = z.infer<typeof RecommendationSchema>;

export const UpdateStepSchema = z
  .object({
    status: z.enum(['open', 'done', 'not_applicable']),
    reason: z
      .string()
      .trim()
      .min(1)
      .max(2000)
      .optional()
      .describe('Required for not_applicable and for reopening a step.'),
  })
  .strict()
  .meta({ id: 'UpdateStep' });

export const StepParamsSchema = z.object({ stepId: z.uuid() });
export const RecommendationParamsSchema = z.object({ recommendationId: z.uuid() });

export const WorklistQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional(),
  responsible: InvolvedRoleSchema.optional(),
  zone: ZoneSchema.optional(),
  dueBefore: IsoDateSchema.optional().describe('Only steps due on or before this date.'),
  overdue: z
    .enum(['true', 'false'])
    .optional()
    .transform((v) => (v === undefined ? undefined : v === 'true'))
    .describe('true: only overdue steps; false: only steps not yet due.'),
});

export const WorklistItemSchema = StepTaskSchema.extend({
  child: z.object({
    id: z.uuid(),
    externalRef: z.string(),
    givenName: z.string().nullable(),
    familyName: z.string().nullable(),
  }),
}).meta({ id: 'WorklistItem' });
export const WorklistPageSchema = pageSchema(WorklistItemSchema).meta({ id: 'WorklistPage' });

export const FlagSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    unitId: z.uuid(),
    kind: z.enum(flagKinds),
    reason: z.string(),
    assessmentId: z.uuid().nullable(),
    roundId: z.uuid().nullable(),
    raisedAt: z.iso.datetime(),
    status: z.enum(['raised', 'acknowledged']),
    acknowledgedAt: z.iso.datetime().nullable(),
    acknowledgedBy: z.uuid().nullable(),
    acknowledgementNote: z.string().nullable(),
  })
  .meta({ id: 'Flag' });
export type Flag = z.infer<typeof FlagSchema>;

export const FlagListQuerySchema = PageQuerySchema.extend({
  unitId: z.uuid().optional(),
  childId: z.uuid().optional(),
  kind: z.enum(flagKinds).optional(),
  status: z.enum(['raised', 'acknowledged', 'all']).default('raised'),
});
export const FlagPageSchema = pageSchema(FlagSchema).meta({ id: 'FlagPage' });
export const FlagParamsSchema = z.object({ flagId: z.uuid() });
export const AcknowledgeFlagSchema = z
  .object({ note: z.string().trim().min(1).max(2000) })
  .strict()
  .meta({ id: 'AcknowledgeFlag' });

export const ConcernReportSchema = z
  .object({
    id: z.uuid(),
    childId: z.uuid(),
    reportedOn: z.string(),
    reportedBy: z.object({ name: z.string(), role: InvolvedRoleSchema }),
    reference: z.string().nullable().describe("Child and family services' reference number."),
    completedStepIds: z.array(z.uuid()),
    createdAt: z.iso.datetime(),
    createdBy: z.uuid(),
  })
  .meta({ id: 'ConcernReport' });

export const CreateConcernReportSchema = z
  .object({
    reportedOn: IsoDateSchema,
    reportedBy: z
      .object({ name: z.string().trim().min(1).max(200), role: InvolvedRoleSchema })
      .strict(),
    reference: z.string().trim().min(1).max(200).optional(),
    stepIds: z
      .array(z.uuid())
      .max(20)
      .optional()
      .describe(
        "The concern-report steps this report completes; default: all the child's open ones.",
      ),
  })
  .strict()
  .meta({ id: 'CreateConcernReport' });
export type CreateConcernReport = z.infer<typeof CreateConcernReportSchema>;

export const EventSchema = z
  .object({
    id: z.number().int(),
    type: z.string(),
    occurredAt: z.iso.datetime(),
    childId: z.uuid().nullable(),
    subject: z.object({ type: z.string(), id: z.uuid() }),
    data: z.record(z.string(), z.unknown()),
  })
  .meta({ id: 'Event' });
export const EventPageSchema = z
  .object({
    items: z.array(EventSchema),
    nextCursor: z
      .string()
      .nullable()
      .describe('Pass as `after` next time; the feed continues from here (also when empty).'),
    hasMore: z.boolean(),
  })
  .meta({ id: 'EventPage' });
export const EventQuerySchema = z.object({
  after: z.string().max(200).optional().describe('The nextCursor of the previous page.'),
  limit: z.coerce.number().int().min(1).max(500).default(100),
});
