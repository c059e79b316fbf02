import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import {
  ConsentParamsSchema,
  ConsentSchema,
  CreateConsentSchema,
  RevokeConsentSchema,
} from './schemas.js';
import {
  confirmChildConsent,
  createConsent,
  getConsent,
  listChildConsents,
  revokeChildConsent,
} from './service.js';

const tags = ['Transitions and consent'];

export const consentRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.post(
    '/v1/children/:childId/consents',
    {
      config: {
        permission: 'consent:write',
        audit: { resource: 'consent', action: 'create' },
      },
      schema: {
        operationId: 'createConsent',
        tags,
        summary: 'Record a consent to share a child’s data with a unit or role',
        description:
          'The consent names the purpose, the recipient (a unit, a role, or a role in a unit), ' +
          'the data categories (notes = free text), who gave it and when, and optionally the ' +
          'last day it holds. While active it lets the recipient see what other units recorded ' +
          '(transition_handover: what was recorded before the child started in the receiving ' +
          'unit; interdisciplinary_sharing: all of it). Only a parent, a guardian or the child ' +
          'from 15 gives consent (422 on givenBy.relation otherwise). A receiving unit cannot ' +
          'grant itself access: recorded by a key limited to units for one of its own units (or ' +
          'for a role), the consent is pending_confirmation until a leader of the recipient ' +
          'unit or an administrator confirms it (confirmConsent).',
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateConsentSchema,
        response: {
          201: jsonResponse(ConsentSchema, 'The consent recorded'),
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) =>
      runner.create(
        request,
        reply,
        createConsent,
        { childId: request.params.childId, body: request.body },
        { location: (created) => `/v1/children/${created.childId}/consents/${created.id}` },
      ),
  );

  app.get(
    '/v1/children/:childId/consents',
    {
      config: { permission: 'consent:read', audit: { resource: 'consent', action: 'read' } },
      schema: {
        operationId: 'listConsents',
        tags,
        summary: "A child's consents, oldest first, with their status today",
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(
            z.object({ items: z.array(ConsentSchema) }),
            "The child's consents, with their status today",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listChildConsents, request.params.childId),
  );

  app.get(
    '/v1/children/:childId/consents/:consentId',
    {
      config: { permission: 'consent:read', audit: { resource: 'consent', action: 'read' } },
      schema: {
        operationId: 'getConsent',
        tags,
        summary: 'Get a consent',
        params: ConsentParamsSchema,
        response: {
          200: jsonResponse(ConsentSchema, 'The consent, with its status today'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getConsent, request.params),
  );

  app.post(
    '/v1/children/:childId/consents/:consentId/revoke',
    {
      config: {
        permission: 'consent:write',
        audit: { resource: 'consent', action: 'withdraw' },
      },
      schema: {
        operationId: 'revokeConsent',
        tags,
        summary: 'Revoke a consent: it stops being a basis for sharing at once',
        description: 'Records who revoked it and why; a consent is revoked once (409 after).',
        params: ConsentParamsSchema,
        body: RevokeConsentSchema,
        response: {
          200: jsonResponse(ConsentSchema, 'The consent, revoked'),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, revokeChildConsent, { ...request.params, body: request.body }),
  );

  app.post(
    '/v1/children/:childId/consents/:consentId/confirm',
    {
      config: {
        permission: 'consent:confirm',
        audit: { resource: 'consent', action: 'update' },
      },
      schema: {
        operationId: 'confirmConsent',
        tags,
        summary: 'Confirm a consent a unit recorded for itself: from then on it is in force',
        description:
          'A consent that a key limited to units records for one of its own units (or for a ' +
          'role, which every unit has) has status pending_confirmation and is no basis for ' +
          'sharing until a unit leader of the recipient unit or a municipality administrator ' +
          'confirms it; whoever recorded it cannot (403 own-consent). A consent that needs no ' +
          'confirmation, is already confirmed or was revoked answers 409.',
        params: ConsentParamsSchema,
        response: {
          200: jsonResponse(ConsentSchema, 'The consent, confirmed and in force'),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) => runner.run(request, confirmChildConsent, request.params),
  );
};
