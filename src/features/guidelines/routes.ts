import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import {
  IfNoneMatchHeadersSchema,
  notModifiedResponse,
  PutHeadersSchema,
  sendTagged,
  taggedResponse,
} from '../../http/conditional.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { GuidelineParamsSchema, GuidelineSchema, PutGuidelineSchema } from './schemas.js';
import {
  getTransitionGuideline,
  listTransitionGuidelines,
  putTransitionGuideline,
} from './service.js';

const tags = ['Transitions and consent'];

export const guidelineRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.get(
    '/v1/transition-guidelines',
    {
      config: { permission: 'guideline:read' },
      schema: {
        operationId: 'listTransitionGuidelines',
        tags,
        summary: "The municipality's transition guidelines (on and off)",
        response: {
          200: jsonResponse(
            z.object({ items: z.array(GuidelineSchema) }),
            "The municipality's transition guidelines",
          ),
        },
      },
    },
    async (request) => runner.run(request, listTransitionGuidelines, undefined),
  );

  app.get(
    '/v1/transition-guidelines/:fromUnitKind/:toUnitKind',
    {
      config: { permission: 'guideline:read' },
      schema: {
        operationId: 'getTransitionGuideline',
        tags,
        summary: 'The guideline for one transition type',
        description: '404 until the guideline was first switched on or off.',
        headers: IfNoneMatchHeadersSchema,
        params: GuidelineParamsSchema,
        response: {
          200: taggedResponse(GuidelineSchema, 'The guideline'),
          304: notModifiedResponse,
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) =>
      sendTagged(request, reply, await runner.run(request, getTransitionGuideline, request.params)),
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
          'consent. Never free text. Off takes effect at once. With If-Match, only if the ' +
          'guideline exists and is still the version read (else 412); with If-None-Match: *, ' +
          'only if it does not exist yet (else 412).',
        headers: PutHeadersSchema,
        params: GuidelineParamsSchema,
        body: PutGuidelineSchema,
        response: {
          200: taggedResponse(GuidelineSchema, 'The guideline as switched'),
          ...problemResponses(412, 428),
        },
      },
    },
    async (request, reply) =>
      sendTagged(
        request,
        reply,
        await runner.run(request, putTransitionGuideline, {
          ...request.params,
          body: request.body,
          ifMatch: request.headers['if-match'],
          ifNoneMatch: request.headers['if-none-match'],
        }),
      ),
  );
};
