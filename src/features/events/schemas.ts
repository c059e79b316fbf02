import { z } from 'zod';
import { type EventType, eventPayloadSchemas } from './payloads.js';

const eventFields = {
  id: z.number().int(),
  occurredAt: z.iso.datetime(),
  childId: z.uuid().nullable(),
  unitId: z
    .uuid()
    .nullable()
    .describe('The unit the event concerns; null for events of no unit (concern reports).'),
  subject: z.object({
    type: z.enum(['recommendation', 'step', 'flag', 'concern_report', 'parent_notice']),
    id: z.uuid(),
  }),
};

/** The component name of each event type's schema. */
const eventSchemaIds = {
  'recommendation.created': 'RecommendationCreatedEvent',
  'step.status_changed': 'StepStatusChangedEvent',
  'flag.raised': 'FlagRaisedEvent',
  'flag.acknowledged': 'FlagAcknowledgedEvent',
  'concern_report.recorded': 'ConcernReportRecordedEvent',
  'parent_notice.created': 'ParentNoticeCreatedEvent',
  'parent_notice.closed': 'ParentNoticeClosedEvent',
} as const satisfies Record<EventType, string>;

/** One event type's shape: the common fields, its `type` and its typed `data`. */
function eventOf<T extends EventType>(type: T) {
  return z
    .object({ ...eventFields, type: z.literal(type), data: eventPayloadSchemas[type] })
    .meta({ id: eventSchemaIds[type] });
}

/** An event of the feed: a union discriminated by `type`, each with its own `data`. */
export const EventSchema = z
  .discriminatedUnion('type', [
    eventOf('recommendation.created'),
    eventOf('step.status_changed'),
    eventOf('flag.raised'),
    eventOf('flag.acknowledged'),
    eventOf('concern_report.recorded'),
    eventOf('parent_notice.created'),
    eventOf('parent_notice.closed'),
  ])
  .meta({
    id: 'Event',
    discriminator: {
      propertyName: 'type',
      mapping: Object.fromEntries(
        Object.entries(eventSchemaIds).map(([type, id]) => [type, `#/components/schemas/${id}`]),
      ),
    },
  });
export type Event = z.output<typeof EventSchema>;
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
export type EventQuery = z.output<typeof EventQuerySchema>;
