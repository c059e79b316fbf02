import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { principalOf } from '../../auth/plugin.js';
import { AUTHENTICATED_PROBLEMS, CREATE_PROBLEMS, problemResponses } from '../../http/problem.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import { createInMunicipality } from '../../request/legacy.js';
import { bearerSecurity, type RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import {
  ConsentParamsSchema,
  ConsentSchema,
  CreateConsentSchema,
  GuidelineParamsSchema,
  GuidelineSchema,
  HandoverSchema,
  PutGuidelineSchema,
  RevokeConsentSchema,
} from './schemas.js';
import {
  confirmChildConsent,
  createConsent,
  getConsent,
  getHandover,
  listChildConsents,
  listTransitionGuidelines,
  putTransitionGuideline,
  revokeChildConsent,
} from './service.js';

const tags = ['Transitions and consent'];

export const consentRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { database, now } = deps;

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
        security: bearerSecurity,
        headers: IdempotencyHeadersSchema,
        params: ChildParamsSchema,
        body: CreateConsentSchema,
        response: { 201: ConsentSchema, ...problemResponses(...CREATE_PROBLEMS) },
      },
    },
    async (request, reply) =>
      createInMunicipality(
        deps,
        request,
        reply,
        (trx, principal) =>
          createConsent(trx, principal, request.params.childId, request.body, now()),
        (created) => `/v1/children/${created.childId}/consents/${created.id}`,
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
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: {
          200: z.object({ items: z.array(ConsentSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404),
        },
      },
    },
    async (request) =>
      listChildConsents(database, principalOf(request), request.params.childId, now()),
  );

  app.get(
    '/v1/children/:childId/consents/:consentId',
    {
      config: { permission: 'consent:read', audit: { resource: 'consent', action: 'read' } },
      schema: {
        operationId: 'getConsent',
        tags,
        summary: 'Get a consent',
        security: bearerSecurity,
        params: ConsentParamsSchema,
        response: { 200: ConsentSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) =>
      getConsent(
        database,
        principalOf(request),
        request.params.childId,
        request.params.consentId,
        now(),
      ),
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
        security: bearerSecurity,
        params: ConsentParamsSchema,
        body: RevokeConsentSchema,
        response: {
          200: ConsentSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409, 413, 415),
        },
      },
    },
    async (request) =>
      revokeChildConsent(
        database,
        principalOf(request),
        request.params.childId,
        request.params.consentId,
        request.body,
        now(),
      ),
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
        security: bearerSecurity,
        params: ConsentParamsSchema,
        response: {
          200: ConsentSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 404, 409),
        },
      },
    },
    async (request) =>
      confirmChildConsent(
        database,
        principalOf(request),
        request.params.childId,
        request.params.consentId,
        now(),
      ),
  );

  app.get(
    '/v1/children/:childId/handover',
    {
      config: { permission: 'handover:read', audit: { resource: 'handover', action: 'read' } },
      schema: {
        operationId: 'getHandover',
        tags,
        summary: 'Handover summary for the receiving unit',
        description:
          'Latest zone and level per ruler domain, open steps and flags, from what the key may ' +
          'see: its own units’ records and, from other units, what a consent in force or a ' +
          'transition guideline covers. No free text unless a consent covering notes addresses ' +
          'the key. Says which bases were used and counts what was withheld.',
        security: bearerSecurity,
        params: ChildParamsSchema,
        response: { 200: HandoverSchema, ...problemResponses(...AUTHENTICATED_PROBLEMS, 404) },
      },
    },
    async (request) => getHandover(database, principalOf(request), request.params.childId, now()),
  );

  app.get(
    '/v1/transition-guidelines',
    {
      config: { permission: 'guideline:read' },
      schema: {
        operationId: 'listTransitionGuidelines',
        tags,
        summary: "The municipality's transition guidelines (on and off)",
        security: bearerSecurity,
        response: {
          200: z.object({ items: z.array(GuidelineSchema) }),
          ...problemResponses(...AUTHENTICATED_PROBLEMS),
        },
      },
    },
    async (request) => listTransitionGuidelines(database, principalOf(request)),
  );

  app.put(
    '/v1/transition-guidelines/:fromUnitKind/:toUnitKind',
    {
      config: { permission: 'guideline:write' },
      schema: {
        operationId: 'putTransitionGuideline',
        tags,
        summary: 'Switch the guideline for a transition type on or off',
        description:
          'While on, a unit of kind toUnitKind sees what units of kind fromUnitKind recorded ' +
          'about a child before the child started there, in the categories named, without a ' +
          'consent. Never free text. Off takes effect at once.',
        security: bearerSecurity,
        params: GuidelineParamsSchema,
        body: PutGuidelineSchema,
        response: {
          200: GuidelineSchema,
          ...problemResponses(...AUTHENTICATED_PROBLEMS, 413, 415),
        },
      },
    },
    async (request) =>
      putTransitionGuideline(database, principalOf(request), request.params, request.body, now()),
  );
};
