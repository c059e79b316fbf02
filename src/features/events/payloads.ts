import { z } from 'zod';
import { flagKinds, stepStatuses } from '../../domain/guides/definition.js';
import { ZoneSchema } from '../../domain/rulers/definition.js';
import { IsoDateSchema } from '../../http/schemas.js';

/** The event types, in the order the documentation lists them. */
export const eventTypes = [
  'recommendation.created',
  'step.status_changed',
  'flag.raised',
  'flag.acknowledged',
  'concern_report.recorded',
  'parent_notice.created',
  'parent_notice.closed',
] as const;
export type EventType = (typeof eventTypes)[number];

/**
 * What each event type carries in `data`: thin facts about the change, never a child's name or
 * CPR number (the feed and webhook consumers fetch details with their own key). The producers
 * are typed by these (NewEvent in outbox.ts), and the feed's response schema is their union.
 * Objects are loose so that a field added later does not break readers of older events.
 */
export const eventPayloadSchemas = {
  'recommendation.created': z
    .object({
      assessmentId: z.uuid(),
      zone: ZoneSchema.nullable().describe('null: the assessment could not be placed.'),
      previousZone: ZoneSchema.nullable(),
      flags: z.array(z.enum(flagKinds)).describe('The kinds of the flags raised with it.'),
      steps: z.array(
        z.object({ stepKey: z.string(), dueOn: IsoDateSchema, mandatory: z.boolean() }).loose(),
      ),
    })
    .loose()
    .meta({ id: 'RecommendationCreatedData' }),
  'step.status_changed': z
    .object({
      stepKey: z.string(),
      from: z.enum(stepStatuses),
      to: z.enum(stepStatuses),
      reason: z.string().optional(),
      concernReportId: z
        .uuid()
        .optional()
        .describe('Set when recording a concern report completed the step.'),
    })
    .loose()
    .meta({ id: 'StepStatusChangedData' }),
  'flag.raised': z
    .object({
      kind: z.enum(flagKinds),
      reason: z.string(),
      assessmentId: z.uuid().optional().describe('The assessment that raised it.'),
      roundId: z.uuid().optional().describe('The round not assessed (kind `not_assessed`).'),
    })
    .loose()
    .meta({ id: 'FlagRaisedData' }),
  'flag.acknowledged': z
    .object({ kind: z.enum(flagKinds), note: z.string().nullable() })
    .loose()
    .meta({ id: 'FlagAcknowledgedData' }),
  'concern_report.recorded': z
    .object({
      reportedOn: IsoDateSchema,
      reference: z.string().nullable(),
      stepIds: z.array(z.uuid()).describe('The concern-report steps the report completed.'),
    })
    .loose()
    .meta({ id: 'ConcernReportRecordedData' }),
  'parent_notice.created': z
    .object({
      assessmentId: z.uuid(),
      reason: z.enum(['first_assessment', 'zone_change']),
      dueOn: IsoDateSchema,
      status: z
        .enum(['open', 'informed', 'not_informed_risk'])
        .describe('informed: recorded with the assessment (or kept from the one it corrects).'),
    })
    .loose()
    .meta({ id: 'ParentNoticeCreatedData' }),
  'parent_notice.closed': z
    .object({
      assessmentId: z.uuid(),
      status: z.enum(['informed', 'not_informed_risk']),
      informedOn: IsoDateSchema.optional(),
      method: z.enum(['meeting', 'letter', 'phone', 'digital_post']).optional(),
    })
    .loose()
    .meta({ id: 'ParentNoticeClosedData' }),
} as const satisfies Record<EventType, z.ZodType>;

type PayloadSchemas = typeof eventPayloadSchemas;
export type EventPayload<T extends EventType> = z.input<PayloadSchemas[T]>;
