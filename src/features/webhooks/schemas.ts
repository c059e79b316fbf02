import { z } from 'zod';
import { PageQuerySchema, pageSchema } from '../../http/pagination.js';
import { eventTypes } from '../events/outbox.js';

export const WebhookEventTypeSchema = z.enum(eventTypes).meta({ id: 'WebhookEventType' });

const EventTypesSchema = z
  .array(WebhookEventTypeSchema)
  .min(1)
  .max(eventTypes.length)
  .refine((types) => new Set(types).size === types.length, 'lists an event type twice')
  .describe('The event types sent to the URL.');

const UnitIdsSchema = z
  .array(z.uuid())
  .min(1)
  .max(500)
  .refine((ids) => new Set(ids).size === ids.length, 'lists a unit twice')
  .nullable()
  .describe(
    "Only the events of these units (each event's unitId); null or absent: the whole " +
      "municipality's. Events of no unit (concern reports) go to whole-municipality " +
      'subscriptions only.',
  );

export const WebhookSchema = z
  .object({
    id: z.uuid(),
    url: z.string(),
    eventTypes: z.array(WebhookEventTypeSchema),
    unitIds: z
      .array(z.uuid())
      .nullable()
      .describe("The units whose events it is sent; null: the whole municipality's."),
    description: z.string(),
    enabled: z.boolean(),
    previousSecretExpiresAt: z.iso
      .datetime()
      .nullable()
      .describe('Until then deliveries are also signed with the previous secret.'),
    createdAt: z.iso.datetime(),
    updatedAt: z.iso.datetime(),
  })
  .meta({ id: 'Webhook' });
export type Webhook = z.infer<typeof WebhookSchema>;

export const WebhookWithSecretSchema = WebhookSchema.extend({
  secret: z
    .string()
    .describe(
      'The signing secret (`whsec_…`, Standard Webhooks). Shown only in this response; verify ' +
        'the `webhook-signature` header with it.',
    ),
}).meta({ id: 'WebhookWithSecret' });

const UrlSchema = z
  .string()
  .trim()
  .min(1)
  .max(2000)
  .describe('https only (hosts in WEBHOOK_ALLOW_HOSTS excepted); no private addresses.');
const DescriptionSchema = z.string().trim().max(500);

export const CreateWebhookSchema = z
  .object({
    url: UrlSchema,
    eventTypes: EventTypesSchema,
    unitIds: UnitIdsSchema.default(null),
    description: DescriptionSchema.default(''),
    enabled: z.boolean().default(true),
  })
  .strict()
  .meta({ id: 'CreateWebhook' });
export type CreateWebhook = z.infer<typeof CreateWebhookSchema>;

export const UpdateWebhookSchema = z
  .object({
    url: UrlSchema.optional(),
    eventTypes: EventTypesSchema.optional(),
    unitIds: UnitIdsSchema.optional(),
    description: DescriptionSchema.optional(),
    enabled: z.boolean().optional(),
  })
  .strict()
  .refine((v) => Object.keys(v).length > 0, 'name at least one field to change')
  .meta({ id: 'UpdateWebhook' });
export type UpdateWebhook = z.infer<typeof UpdateWebhookSchema>;

export const WebhookParamsSchema = z.object({ webhookId: z.uuid() });
export const DeliveryParamsSchema = z.object({ webhookId: z.uuid(), deliveryId: z.uuid() });

export const WebhookPageSchema = pageSchema(WebhookSchema).meta({ id: 'WebhookPage' });

export const deliveryStatuses = ['pending', 'delivering', 'succeeded', 'dead'] as const;

export const WebhookDeliverySchema = z
  .object({
    id: z.uuid().describe('Also the `webhook-id` header: the same for every attempt.'),
    webhookId: z.uuid(),
    eventId: z.number().int(),
    eventType: WebhookEventTypeSchema,
    status: z
      .enum(deliveryStatuses)
      .describe('`dead`: every attempt failed (WEBHOOK_MAX_ATTEMPTS); redeliver to try again.'),
    attempts: z.number().int(),
    nextAttemptAt: z.iso.datetime().nullable().describe('When it is tried next (pending only).'),
    lastAttemptAt: z.iso.datetime().nullable(),
    lastStatusCode: z.number().int().nullable(),
    lastError: z.string().nullable(),
    lastResponseExcerpt: z
      .string()
      .nullable()
      .describe('The start of the last response body (at most 256 bytes).'),
    deliveredAt: z.iso.datetime().nullable(),
    createdAt: z.iso.datetime(),
  })
  .meta({ id: 'WebhookDelivery' });
export type WebhookDelivery = z.infer<typeof WebhookDeliverySchema>;

export const DeliveryListQuerySchema = PageQuerySchema.extend({
  status: z.enum(deliveryStatuses).optional().describe('Only deliveries in this state.'),
});
export type DeliveryListQuery = z.infer<typeof DeliveryListQuerySchema>;

export const WebhookDeliveryPageSchema = pageSchema(WebhookDeliverySchema).meta({
  id: 'WebhookDeliveryPage',
});

/** The body of every webhook: thin, ids only (the consumer reads details with its own key). */
export interface WebhookPayload {
  type: string;
  timestamp: string;
  data: {
    eventId: number;
    cursor: string;
    childId: string | null;
    unitId: string | null;
    subject: { type: string; id: string };
  };
}
