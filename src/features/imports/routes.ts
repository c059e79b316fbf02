import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { ProblemError } from '../../errors.js';
import { problemResponses } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  CreateImportQuerySchema,
  ImportErrorPageSchema,
  ImportErrorsQuerySchema,
  ImportJobSchema,
  ImportParamsSchema,
} from './schemas.js';
import { createImport, getImport, listImportErrors } from './service.js';
import { importQueued } from './signal.js';
import { type ImportFormat, PayloadTooLargeError } from './upload.js';

const tags = ['Imports'];

/**
 * The unread request stream, as the route's body. Its one field is private, so the hooks that
 * walk a parsed body (the input-strings guard) see an empty object, not the stream's internals.
 */
class Upload {
  readonly #stream: NodeJS.ReadableStream;
  constructor(stream: NodeJS.ReadableStream) {
    this.#stream = stream;
  }
  get stream(): NodeJS.ReadableStream {
    return this.#stream;
  }
}

class UnsupportedMediaTypeError extends ProblemError {
  constructor(detail: string) {
    super(415, 'unsupported-media-type', 'Unsupported Media Type', detail);
  }
}

const FORMATS: Record<string, ImportFormat> = {
  'text/csv': 'csv',
  'application/x-ndjson': 'ndjson',
};

export const importRoutes: FastifyPluginAsyncZod<RouteDeps & { importMaxBytes: number }> = async (
  app,
  deps,
) => {
  const { runner, importMaxBytes } = deps;

  // The file is not parsed by Fastify: the route reads the stream as it arrives (constant
  // memory) and enforces IMPORT_MAX_BYTES itself. These parsers exist in this plugin only.
  for (const type of Object.keys(FORMATS)) {
    app.addContentTypeParser(type, (_request, payload, done) => done(null, new Upload(payload)));
  }

  app.post(
    '/v1/imports',
    {
      bodyLimit: importMaxBytes,
      config: { permission: 'child:write', audit: { resource: 'child', action: 'create' } },
      schema: {
        operationId: 'createImport',
        tags,
        summary: 'Import children and enrolments (roster sync)',
        description:
          'The body is a CSV file (text/csv, a header row naming the columns) or NDJSON ' +
          '(application/x-ndjson, one object per line) with one row per child and enrolment: ' +
          'externalRef, birthDate, givenName, familyName, sex, cpr, unitId or unitExternalRef, ' +
          'startDate, endDate. Children are matched by externalRef, enrolments by unit and ' +
          'start date. The upload is stored as it streams in, then processed asynchronously: ' +
          'the answer is 202 with the job (Location /v1/imports/{id}); follow its progress ' +
          'there. A file over IMPORT_MAX_BYTES is answered 413.',
        querystring: CreateImportQuerySchema,
        response: {
          202: jsonResponse(
            ImportJobSchema,
            'Accepted: the import job, queued (follow it at Location)',
          ),
          ...problemResponses(404, 413, 415, 422),
        },
      },
    },
    async (request, reply) => {
      const type = (request.headers['content-type'] ?? '').split(';')[0]?.trim().toLowerCase();
      const format = type ? FORMATS[type] : undefined;
      const upload = request.body;
      if (!format || !(upload instanceof Upload)) {
        throw new UnsupportedMediaTypeError('Send the file as text/csv or application/x-ndjson.');
      }
      const length = Number(request.headers['content-length']);
      if (Number.isFinite(length) && length > importMaxBytes) {
        throw new PayloadTooLargeError(importMaxBytes);
      }
      const job = await runner.runThen(request, createImport, {
        query: request.query,
        format,
        body: upload.stream,
        maxBytes: importMaxBytes,
      });
      if (job.status === 'queued') importQueued();
      return reply.status(202).header('location', `/v1/imports/${job.id}`).send(job);
    },
  );

  app.get(
    '/v1/imports/:importId',
    {
      config: { permission: 'child:write', audit: { resource: 'child', action: 'read' } },
      schema: {
        operationId: 'getImport',
        tags,
        summary: 'Get an import job: status and counts',
        params: ImportParamsSchema,
        response: {
          200: jsonResponse(ImportJobSchema, 'The import job: status and counts'),
          ...problemResponses(404),
        },
      },
    },
    async (request) => runner.run(request, getImport, request.params.importId),
  );

  app.get(
    '/v1/imports/:importId/errors',
    {
      config: { permission: 'child:write', audit: { resource: 'child', action: 'read' } },
      schema: {
        operationId: 'listImportErrors',
        tags,
        summary: "An import's row errors (row number, field, message)",
        params: ImportParamsSchema,
        querystring: ImportErrorsQuerySchema,
        response: {
          200: jsonResponse(
            ImportErrorPageSchema,
            "One page of the import's row errors, by row number",
          ),
          ...problemResponses(404),
        },
      },
    },
    async (request) =>
      runner.run(request, listImportErrors, { id: request.params.importId, ...request.query }),
  );
};
