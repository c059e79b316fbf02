import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  AccessLogPageSchema,
  AccessLogQuerySchema,
  ChildParamsSchema,
  CreatedParentLinkSchema,
  CreateParentLinkSchema,
  OpenParentSessionSchema,
  ParentAssessmentListSchema,
  ParentChildSchema,
  ParentConsentListSchema,
  ParentConsentParamsSchema,
  ParentConsentSchema,
  ParentLinkListSchema,
  ParentLinkParamsSchema,
  ParentLinkSchema,
  ParentRevokeConsentSchema,
  ParentSelfReportListSchema,
  ParentSessionSchema,
  ParentStepListSchema,
} from './schemas.js';
import {
  createLink,
  endParentSession,
  listChildLinks,
  openSession,
  parentAccessLog,
  parentAssessments,
  parentChild,
  parentConsents,
  parentSelfReports,
  parentStepList,
  revokeLink,
  revokeParentConsent,
} from './service.js';

/**
 * The parent view (issue 18, point 2). A unit hands a parent a one-time link; opening it gives a
 * parent session of an hour that sees that one child as shared with the parents — assessments
 * (no notes), the steps that involve the parents, the consents (which the parent may revoke) and
 * the access log — and nothing else: the database limits the session's transactions to the
 * child's rows, and the role has no other permission. While a red flag of violence or abuse says
 * the parents must not be informed, the view is empty.
 */
export const parentViewRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner, database } = deps;
  const unitTags = ['Parent view'];
  const parentTags = ['Parent view'];

  app.post(
    '/v1/children/:childId/parent-links',
    {
      config: {
        permission: 'parent_link:write',
        audit: { resource: 'parent_link', action: 'create' },
      },
      schema: {
        operationId: 'createParentLink',
        tags: unitTags,
        summary: 'Make a one-time link to the parent view for a child of the unit',
        description:
          'The code is shown once (only its hash is kept); the link can be opened once, within ' +
          '`validDays`. 409 while a red flag of violence or abuse says the parents must not be ' +
          'informed.',
        params: ChildParamsSchema,
        body: CreateParentLinkSchema,
        response: {
          201: jsonResponse(CreatedParentLinkSchema, 'The link, with its code'),
          ...problemResponses(403, 404, 409, 422),
        },
      },
    },
    // Not `runner.create`: a replayable response would keep the one-time code in the database.
    async (request, reply) => {
      const link = await runner.run(request, createLink, {
        childId: request.params.childId,
        body: request.body,
      });
      return reply
        .code(201)
        .header('location', `/v1/children/${link.childId}/parent-links`)
        .header('cache-control', 'no-store')
        .send(link);
    },
  );

  app.get(
    '/v1/children/:childId/parent-links',
    {
      config: {
        permission: 'parent_link:read',
        audit: { resource: 'parent_link', action: 'read' },
      },
      schema: {
        operationId: 'listParentLinks',
        tags: unitTags,
        summary: 'The links to the parent view made for a child (never their codes)',
        params: ChildParamsSchema,
        response: {
          200: jsonResponse(ParentLinkListSchema, 'The links, newest first'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, listChildLinks, { childId: request.params.childId }),
  );

  app.post(
    '/v1/parent-links/:linkId/revoke',
    {
      config: {
        permission: 'parent_link:write',
        audit: { resource: 'parent_link', action: 'update' },
      },
      schema: {
        operationId: 'revokeParentLink',
        tags: unitTags,
        summary: 'Revoke a link; the parent sessions opened with it end at once',
        params: ParentLinkParamsSchema,
        response: {
          200: jsonResponse(ParentLinkSchema, 'The link, revoked'),
          ...problemResponses(404, 409),
        },
      },
    },
    async (request) => runner.run(request, revokeLink, request.params.linkId),
  );

  app.post(
    '/v1/parent-sessions',
    {
      config: { public: true },
      schema: {
        operationId: 'openParentSession',
        tags: parentTags,
        security: [],
        summary: 'Open a link: exchange its one-time code for a parent session',
        description:
          'No authentication: the code is the credential, usable once. Every refusal (unknown, ' +
          'used, expired or revoked link) is the same 401. Rate-limited by client address.',
        body: OpenParentSessionSchema,
        response: {
          201: jsonResponse(ParentSessionSchema, 'The session: its bearer token and end'),
          ...problemResponses(401),
        },
      },
    },
    async (request, reply) => {
      const session = await openSession(database, request.body.code, deps.now(), request.id);
      return reply.code(201).header('cache-control', 'no-store').send(session);
    },
  );

  const parentRead = {
    permission: 'parent_view:read',
    audit: { resource: 'parent_view', action: 'read' },
  } as const;

  app.get(
    '/v1/parent/child',
    {
      config: parentRead,
      schema: {
        operationId: 'getParentChild',
        tags: parentTags,
        summary: 'The parent view: the child, its units and when the session ends',
        response: { 200: jsonResponse(ParentChildSchema, 'The child') },
      },
    },
    async (request) => runner.run(request, parentChild, null),
  );

  app.get(
    '/v1/parent/assessments',
    {
      config: parentRead,
      schema: {
        operationId: 'listParentAssessments',
        tags: parentTags,
        summary: "The child's assessments as shared with the parents (no notes), newest first",
        response: { 200: jsonResponse(ParentAssessmentListSchema, 'The assessments') },
      },
    },
    async (request) => runner.run(request, parentAssessments, null),
  );

  app.get(
    '/v1/parent/steps',
    {
      config: parentRead,
      schema: {
        operationId: 'listParentSteps',
        tags: parentTags,
        summary: 'The steps of the plan that involve the parents, by due date',
        response: { 200: jsonResponse(ParentStepListSchema, 'The steps') },
      },
    },
    async (request) => runner.run(request, parentStepList, null),
  );

  app.get(
    '/v1/parent/self-reports',
    {
      config: parentRead,
      schema: {
        operationId: 'listParentSelfReports',
        tags: parentTags,
        summary: "The child's own reports that the child agreed to share with the parents",
        description:
          'Only where the child said yes to sharing, and never a report given for statistics.',
        response: { 200: jsonResponse(ParentSelfReportListSchema, 'The reports') },
      },
    },
    async (request) => runner.run(request, parentSelfReports, null),
  );

  app.get(
    '/v1/parent/consents',
    {
      config: parentRead,
      schema: {
        operationId: 'listParentConsents',
        tags: parentTags,
        summary: 'The consents given for the child',
        response: { 200: jsonResponse(ParentConsentListSchema, 'The consents') },
      },
    },
    async (request) => runner.run(request, parentConsents, null),
  );

  app.post(
    '/v1/parent/consents/:consentId/revoke',
    {
      config: {
        permission: 'parent_view:write',
        audit: { resource: 'consent', action: 'update' },
      },
      schema: {
        operationId: 'revokeParentConsent',
        tags: parentTags,
        summary: 'Revoke a consent: it is no basis for sharing from now on',
        description: 'Not one the child gave itself (from 15): 403.',
        params: ParentConsentParamsSchema,
        body: ParentRevokeConsentSchema,
        response: {
          200: jsonResponse(ParentConsentSchema, 'The consent, revoked'),
          ...problemResponses(403, 404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, revokeParentConsent, {
        consentId: request.params.consentId,
        body: request.body,
      }),
  );

  app.get(
    '/v1/parent/access-log',
    {
      config: parentRead,
      schema: {
        operationId: 'getParentAccessLog',
        tags: parentTags,
        summary: "Who read or changed the child's data: roles, units and when, newest first",
        description:
          'From the audit log: the successful uses of the child’s record and of what this view ' +
          'shows, by role and the units the person or system was limited to (no names). Uses ' +
          'that concerned several children at once (lists, exports) are logged by their ' +
          'criteria, and uses of flags, concern reports and the like are left out: the full ' +
          'log is the dossier, on an access request to the municipality.',
        querystring: AccessLogQuerySchema,
        response: { 200: jsonResponse(AccessLogPageSchema, 'One page of the access log') },
      },
    },
    async (request) => runner.run(request, parentAccessLog, request.query),
  );

  app.post(
    '/v1/parent/session/end',
    {
      config: {
        permission: 'parent_view:read',
        audit: { resource: 'parent_session', action: 'update' },
      },
      schema: {
        operationId: 'endParentSession',
        tags: parentTags,
        summary: 'Sign out: the session token stops working at once',
        response: { 204: z.null().describe('Signed out.') },
      },
    },
    async (request, reply) => {
      await runner.run(request, endParentSession, null);
      return reply.code(204).send(null);
    },
  );
};
