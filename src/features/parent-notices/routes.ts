import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { letterLanguages } from '../../domain/parent-letter.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { letterContentTypes, letterFormats, letterHtml, letterPdf, letterText } from './letter.js';
import {
  LetterLanguagesSchema,
  ParentNoticeListQuerySchema,
  ParentNoticePageSchema,
  ParentNoticeParamsSchema,
  ParentNoticeSchema,
  RecordInformedSchema,
  RecordNotInformedSchema,
  SetLetterLanguagesSchema,
} from './schemas.js';
import {
  getLetterLanguages,
  getNotice,
  listNotices,
  noticeLetter,
  recordInformed,
  recordNotInformed,
  setLetterLanguages,
} from './service.js';

const LetterQuerySchema = z.object({
  language: z.enum(letterLanguages).default('da'),
  format: z.enum(letterFormats).default('html'),
});

/**
 * Parent information as a tracked duty (issue 18): every zone change and a child's first
 * assessment oblige the unit to inform the parents by the guide's deadline; the duty is closed by
 * recording how and when they were, or — under a red flag of violence or abuse — by a leader's
 * decision not to inform them, with a reason.
 */
export const parentNoticeRoutes: FastifyPluginAsyncZod<
  RouteDeps & { retentionYears: number }
> = async (app, deps) => {
  const { runner, retentionYears } = deps;
  const tags = ['Follow-up'];

  app.get(
    '/v1/parent-notices',
    {
      config: {
        permission: 'parent_notice:read',
        audit: { resource: 'parent_notice', action: 'search' },
      },
      schema: {
        operationId: 'listParentNotices',
        tags,
        summary: 'Parents to be informed, by due date (open ones unless asked otherwise)',
        querystring: ParentNoticeListQuerySchema,
        response: { 200: jsonResponse(ParentNoticePageSchema, 'One page of parent notices') },
      },
    },
    async (request) => runner.run(request, listNotices, request.query),
  );

  app.get(
    '/v1/parent-notices/:noticeId',
    {
      config: {
        permission: 'parent_notice:read',
        audit: { resource: 'parent_notice', action: 'read' },
      },
      schema: {
        operationId: 'getParentNotice',
        tags,
        summary: 'One parent notice',
        params: ParentNoticeParamsSchema,
        response: {
          200: jsonResponse(ParentNoticeSchema, 'The parent notice'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getNotice, request.params.noticeId),
  );

  app.post(
    '/v1/parent-notices/:noticeId/informed',
    {
      config: {
        permission: 'parent_notice:write',
        audit: { resource: 'parent_notice', action: 'update' },
      },
      schema: {
        operationId: 'recordParentsInformed',
        tags,
        summary: 'Record how and when the parents were informed (once)',
        description:
          "Closes the notice and the assessment's open inform-parents steps. Under a red flag " +
          'of violence or abuse only a unit leader or the administrator records it (403).',
        params: ParentNoticeParamsSchema,
        body: RecordInformedSchema,
        response: {
          200: jsonResponse(ParentNoticeSchema, 'The notice, closed as informed'),
          ...problemResponses(403, 404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, recordInformed, { id: request.params.noticeId, body: request.body }),
  );

  app.post(
    '/v1/parent-notices/:noticeId/not-informed',
    {
      config: {
        permission: 'parent_notice:write',
        audit: { resource: 'parent_notice', action: 'update' },
      },
      schema: {
        operationId: 'recordParentsNotInformed',
        tags,
        summary: 'Record a leader’s decision not to inform the parents: a risk to the child',
        description:
          'Only under a red flag of violence or abuse (409 otherwise), and only by a unit ' +
          'leader or the administrator (403), with the reason.',
        params: ParentNoticeParamsSchema,
        body: RecordNotInformedSchema,
        response: {
          200: jsonResponse(ParentNoticeSchema, 'The notice, closed as not informed'),
          ...problemResponses(403, 404, 409),
        },
      },
    },
    async (request) =>
      runner.run(request, recordNotInformed, { id: request.params.noticeId, body: request.body }),
  );

  app.get(
    '/v1/parent-letter-languages',
    {
      config: { permission: 'parent_notice:read' },
      schema: {
        operationId: 'getParentLetterLanguages',
        tags,
        summary: 'The languages the municipality offers parent letters in',
        response: { 200: jsonResponse(LetterLanguagesSchema, 'Danish, then those enabled') },
      },
    },
    async (request) => runner.run(request, getLetterLanguages, null),
  );

  app.put(
    '/v1/parent-letter-languages',
    {
      config: { permission: 'parent_letter:configure' },
      schema: {
        operationId: 'setParentLetterLanguages',
        tags,
        summary: 'Choose the languages parent letters are offered in besides Danish',
        body: SetLetterLanguagesSchema,
        response: { 200: jsonResponse(LetterLanguagesSchema, 'The languages now offered') },
      },
    },
    async (request) => runner.run(request, setLetterLanguages, request.body),
  );

  app.get(
    '/v1/parent-notices/:noticeId/letter',
    {
      config: {
        permission: 'parent_notice:read',
        audit: { resource: 'parent_notice', action: 'read' },
      },
      schema: {
        operationId: 'getParentLetter',
        tags,
        summary: 'The letter to the parents: the assessment, what happens next, their rights',
        description:
          'What was assessed and what the zone means, the steps that involve the parents, and ' +
          'the information of GDPR art. 13/14 (what is recorded, why, who can see it, how long ' +
          'it is kept, the parents’ rights). Never staff notes. Danish, or a language the ' +
          'municipality enabled (422 otherwise). 409 while a violence or abuse flag leaves the ' +
          'decision to a leader, and for a superseded notice.',
        params: ParentNoticeParamsSchema,
        querystring: LetterQuerySchema,
        response: {
          200: {
            description: 'The letter',
            content: {
              'text/html': { schema: z.string() },
              'text/plain': { schema: z.string() },
              'application/pdf': { schema: z.string().meta({ format: 'binary' }) },
            },
          },
          ...problemResponses(404, 409, 422),
        },
      },
    },
    async (request, reply) => {
      const { language, format } = request.query;
      const letter = await runner.run(request, noticeLetter, {
        id: request.params.noticeId,
        language,
        retentionYears,
      });
      const body =
        format === 'pdf'
          ? await letterPdf(letter)
          : format === 'text'
            ? letterText(letter)
            : letterHtml(letter);
      return (
        reply
          .header('content-type', letterContentTypes[format])
          .header('cache-control', 'no-store')
          .header('content-language', language)
          // Its own inline style and nothing else (the API's policy would block the style).
          .header(
            'content-security-policy',
            "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'",
          )
          .header(
            'content-disposition',
            `${format === 'pdf' ? 'attachment' : 'inline'}; filename="parent-letter-${request.params.noticeId}.${format === 'text' ? 'txt' : format}"`,
          )
          .send(body)
      );
    },
  );
};
