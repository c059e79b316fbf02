import { pipeline, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { RouteDeps } from '../../request/route-deps.js';
import { sessionOf } from '../../request/session.js';
import type { ExportFormat } from './format.js';
import { type ExportQuery, ExportQuerySchema, exportDescription, streamedBody } from './schemas.js';
import { openAssessmentExport } from './service.js';

const tags = ['Exports'];

const contentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
};

/** Whether Accept-Encoding allows gzip (listed, or `*`, with a non-zero q). */
export function acceptsGzip(header: string | string[] | undefined): boolean {
  const value = Array.isArray(header) ? header.join(',') : (header ?? '');
  let gzip: boolean | undefined;
  let star = false;
  for (const part of value.split(',')) {
    const [coding = '', ...params] = part.trim().toLowerCase().split(';');
    const q = params.map((p) => p.trim()).find((p) => p.startsWith('q='));
    const allowed = q === undefined || Number(q.slice(2)) > 0;
    if (coding.trim() === 'gzip' || coding.trim() === 'x-gzip') gzip = allowed;
    else if (coding.trim() === '*') star = allowed;
  }
  return gzip ?? star;
}

/**
 * Sends an export: the service runs in the request's transaction and hands back the body, whose
 * further pages are read in their own short transactions (`Runner.runThen`).
 */
async function sendExport(
  { runner, metrics }: RouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  query: ExportQuery,
  format: ExportFormat,
) {
  const { gzip: gzipParam, ...filter } = query;
  const gzip = gzipParam ?? acceptsGzip(request.headers['accept-encoding']);
  const principalId = sessionOf(request).principal.id;
  // Stops the export at its next page when the client goes away mid-stream.
  const abort = new AbortController();
  const source = await runner.runThen(request, openAssessmentExport, {
    filter,
    format,
    signal: abort.signal,
    onClose: (summary) => {
      metrics?.exportClosed(format, summary.rows, summary.completed);
      request.log.info(
        { export: 'assessments', principalId, gzip, ...summary },
        summary.completed ? 'export completed' : 'export aborted',
      );
    },
  });
  let body: Readable = source;
  if (gzip) {
    const compressed = createGzip();
    // pipeline tears the source down with the gzip stream, whichever side fails or closes.
    pipeline(source, compressed, () => {});
    body = compressed;
  }
  reply.raw.once('close', () => {
    if (!reply.raw.writableEnded) {
      abort.abort();
      body.destroy();
      source.destroy();
    }
  });
  reply
    .status(200)
    .header('content-type', contentTypes[format])
    .header('content-disposition', `attachment; filename="assessments.${format}"`)
    .header('cache-control', 'no-store')
    .header('vary', 'Accept-Encoding');
  if (gzip) reply.header('content-encoding', 'gzip');
  return reply.send(body);
}

export const exportRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  for (const format of ['csv', 'ndjson'] as const) {
    const contentType = format === 'csv' ? 'text/csv' : 'application/x-ndjson';
    app.get(
      `/v1/exports/assessments.${format}`,
      {
        // Fastify's automatic HEAD route would read the whole export and throw it away.
        exposeHeadRoute: false,
        config: {
          permission: 'analytics:read',
          audit: { resource: 'export', action: 'export' },
          readReplica: true,
        },
        schema: {
          operationId: format === 'csv' ? 'exportAssessmentsCsv' : 'exportAssessmentsNdjson',
          tags,
          summary:
            format === 'csv'
              ? 'Pseudonymised assessments as CSV (streamed)'
              : 'Pseudonymised assessments as NDJSON (streamed)',
          description: exportDescription,
          querystring: ExportQuerySchema,
          response: {
            200: streamedBody(
              contentType,
              format === 'csv'
                ? 'CSV (RFC 4180, CRLF line ends) with a header line; empty fields are null.'
                : 'One JSON object per line; `flags` is an array of flag kinds.',
            ),
          },
        },
      },
      (request, reply) => sendExport(deps, request, reply, request.query, format),
    );
  }
};
