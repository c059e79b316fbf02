import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { RouteDeps } from '../../request/route-deps.js';
import { GuidelineParamsSchema, GuidelineSchema, PutGuidelineSchema } from './schemas.js';
import { listTransitionGuidelines, putTransitionGuideline } from './service.js';

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
        response: { 200: z.object({ items: z.array(GuidelineSchema) }) },
      },
    },
    async (request) => runner.run(request, listTransitionGuidelines, undefined),
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
        params: GuidelineParamsSchema,
        body: PutGuidelineSchema,
        response: { 200: GuidelineSchema },
      },
    },
    async (request) =>
      runner.run(request, putTransitionGuideline, { ...request.params, body: request.body }),
  );
};
