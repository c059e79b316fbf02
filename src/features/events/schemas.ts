import { z } from 'zod';

export const EventSchema = z
  .object({
    id: z.number().int(),
    type: z.string(),
    occurredAt: z.iso.datetime(),
    childId: z.uuid().nullable(),
    unitId: z
      .uuid()
      .nullable()
      .describe('The unit the event concerns; null for events of no unit (concern reports).'),
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
export type EventQuery = z.output<typeof EventQuerySchema>;
