import { z } from 'zod';
import {
  flagKinds,
  InvolvedRoleSchema,
  stepPurposes,
  stepStatuses,
} from '../../domain/guides/definition.js';
import { LabelSchema, ZoneSchema } from '../../domain/rulers/definition.js';

export { stepStatuses };

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
/** An assessment named in a path (here, below assessments/, so both features can use it). */
export const AssessmentParamsSchema = z.object({ assessmentId: z.uuid() });
