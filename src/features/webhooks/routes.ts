import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { BadRequestError } from '../../errors.js';
import { PageQuerySchema } from '../../http/pagination.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  CreateWebhookSchema,
  DeliveryListQuerySchema,
  DeliveryParamsSchema,
  UpdateWebhookSchema,
  WebhookDeliveryPageSchema,
  WebhookDeliverySchema,
  WebhookPageSchema,
  WebhookParamsSchema,
  WebhookSchema,
  WebhookWithSecretSchema,
} from './schemas.js';
import {
  changeWebhook,
  createWebhook,
  getWebhook,
  listWebhookDeliveries,
  listWebhooks,
  redeliverWebhook,
  removeWebhook,
  rotateWebhookSecret,
  type WebhookSettings,
} from './service.js';

const tags = ['Webhooks'];
const permission = 'webhook:manage';

/**
 * The municipality's webhook subscriptions, managed by its administrator. Deliveries are made
 * by the webhook job (src/jobs/webhooks.ts) from the event outbox.
 */
export const webhookRoutes: FastifyPluginAsyncZod<
  RouteDeps & { webhooks: WebhookSettings }
> = async (app, { runner, webhooks: settings }) => {
  app.post(
    '/v1/webhooks',
    {
      config: { permission },
      schema: {
        operationId: 'createWebhook',
        tags,
        summary: 'Subscribe a URL to events',
        description:
          'Events of the chosen types that happen from now on are POSTed to the URL, signed as ' +
          'Standard Webhooks (`webhook-id`, `webhook-timestamp`, `webhook-signature`). The ' +
          'signing `secret` is in this response only.',
        body: CreateWebhookSchema,
        response: {
          201: jsonResponse(
            WebhookWithSecretSchema,
            'The webhook created, with its signing secret (shown only this once)',
          ),
          ...problemResponses(422),
        },
      },
    },
    async (request, reply) => {
      if (request.headers['idempotency-key'] !== undefined) {
        // A replay would have to return the secret again, and it is shown once.
        throw new BadRequestError(
          'Idempotency-Key is not supported when creating webhooks: the secret is shown once. ' +
            'If a creation may have failed, list the webhooks and delete strays.',
          [{ path: 'header.idempotency-key', message: 'not supported here', code: 'unsupported' }],
        );
      }
      reply.header('cache-control', 'no-store');
      return runner.create(
        request,
        reply,
        createWebhook,
        { body: request.body, settings },
        { location: (webhook) => `/v1/webhooks/${webhook.id}` },
      );
    },
  );

  app.get(
    '/v1/webhooks',
    {
      config: { permission },
      schema: {
        operationId: 'listWebhooks',
        tags,
        summary: "List the municipality's webhooks",
        description: 'Oldest first. Secrets are never returned.',
        querystring: PageQuerySchema,
        response: {
          200: jsonResponse(WebhookPageSchema, 'One page of webhooks (never their secrets)'),
        },
      },
    },
    async (request) => runner.run(request, listWebhooks, request.query),
  );

  app.get(
    '/v1/webhooks/:webhookId',
    {
      config: { permission },
      schema: {
        operationId: 'getWebhook',
        tags,
        summary: 'Get a webhook',
        params: WebhookParamsSchema,
        response: {
          200: jsonResponse(WebhookSchema, 'The webhook (never its secret)'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getWebhook, request.params.webhookId),
  );

  app.patch(
    '/v1/webhooks/:webhookId',
    {
      config: { permission },
      schema: {
        operationId: 'updateWebhook',
        tags,
        summary: 'Change a webhook (URL, event types, description, enabled)',
        description: 'A disabled webhook keeps its place in the feed and sends nothing.',
        params: WebhookParamsSchema,
        body: UpdateWebhookSchema,
        response: {
          200: jsonResponse(WebhookSchema, 'The webhook changed'),
          ...problemResponses(404, 422),
        },
      },
    },
    async (request) =>
      runner.run(request, changeWebhook, {
        id: request.params.webhookId,
        body: request.body,
        settings,
      }),
  );

  app.delete(
    '/v1/webhooks/:webhookId',
    {
      config: { permission },
      schema: {
        operationId: 'deleteWebhook',
        tags,
        summary: 'Delete a webhook and its delivery log',
        params: WebhookParamsSchema,
        response: { 204: z.null().describe('Deleted.'), ...problemResponses(404) },
      },
    },
    async (request, reply) => {
      await runner.run(request, removeWebhook, request.params.webhookId);
      return reply.code(204).send(null);
    },
  );

  app.post(
    '/v1/webhooks/:webhookId/rotate-secret',
    {
      config: { permission },
      schema: {
        operationId: 'rotateWebhookSecret',
        tags,
        summary: "Replace a webhook's signing secret",
        description:
          'The new `secret` is in this response only. For 24 hours deliveries carry a ' +
          'signature with the previous secret too, so the receiver can switch without a gap.',
        params: WebhookParamsSchema,
        response: {
          200: jsonResponse(
            WebhookWithSecretSchema,
            'The webhook with its new signing secret (shown only this once); the old one still signs for 24 hours',
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return runner.run(request, rotateWebhookSecret, {
        id: request.params.webhookId,
        settings,
      });
    },
  );

  app.get(
    '/v1/webhooks/:webhookId/deliveries',
    {
      config: { permission },
      schema: {
        operationId: 'listWebhookDeliveries',
        tags,
        summary: "A webhook's delivery log",
        description: 'Newest first: one entry per event, with its attempts and last outcome.',
        params: WebhookParamsSchema,
        querystring: DeliveryListQuerySchema,
        response: {
          200: jsonResponse(WebhookDeliveryPageSchema, 'One page of deliveries, newest first'),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, listWebhookDeliveries, {
        id: request.params.webhookId,
        query: request.query,
      }),
  );

  app.post(
    '/v1/webhooks/:webhookId/deliveries/:deliveryId/redeliver',
    {
      config: { permission },
      schema: {
        operationId: 'redeliverWebhook',
        tags,
        summary: 'Send a delivery again',
        description:
          'Makes the delivery due now, with a fresh set of attempts and the same `webhook-id` ' +
          '(a dead one too). 409 while it is being delivered.',
        params: DeliveryParamsSchema,
        response: {
          202: jsonResponse(WebhookDeliverySchema, 'The delivery, queued to be sent again'),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request, reply) => {
      const delivery = await runner.run(request, redeliverWebhook, request.params);
      return reply.code(202).send(delivery);
    },
  );
};
