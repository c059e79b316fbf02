import { pipeline, type Readable } from 'node:stream';
import { createGzip } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { jsonResponse } from '../../http/schemas.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { sessionOf } from '../../request/session.js';
import {
  answerColumnSpecs,
  detailedColumnSpecs,
  exportColumnSpecs,
  tableSchema,
} from './columns.js';
import type { ExportFormat } from './format.js';
import {
  answersExportDescription,
  detailedExportDescription,
  type ExportQuery,
  ExportQuerySchema,
  exportDescription,
  streamedBody,
} from './schemas.js';
import { type ExportInput, openAssessmentExport } from './service.js';

const tags = ['Exports'];

const contentTypes: Record<ExportFormat, string> = {
  csv: 'text/csv; charset=utf-8; header=present',
  ndjson: 'application/x-ndjson; charset=utf-8',
  parquet: 'application/vnd.apache.parquet',
};

const bodyDescriptions: Record<ExportFormat, string> = {
  csv: 'CSV (RFC 4180, CRLF line ends) with a header line; empty fields are null.',
  ndjson: 'One JSON object per line; `flags` is an array of flag kinds.',
  parquet:
    'Apache Parquet (snappy): dates as DATE, counts and levels as INT32, `flags` a list of ' +
    'strings; one row group per page of 5,000 rows.',
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
  detail: ExportInput['detail'],
) {
  const { gzip: gzipParam, ...filter } = query;
  // Parquet compresses its own pages.
  const gzip =
    format !== 'parquet' && (gzipParam ?? acceptsGzip(request.headers['accept-encoding']));
  const principalId = sessionOf(request).principal.id;
  // Stops the export at its next page when the client goes away mid-stream.
  const abort = new AbortController();
  const { stream: source, release } = await runner.runThen(request, openAssessmentExport, {
    filter,
    format,
    detail,
    signal: abort.signal,
    onClose: (summary) => {
      metrics?.exportClosed(format, summary.rows, summary.completed);
      request.log.info(
        { export: 'assessments', detail, principalId, gzip, ...summary },
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
  if (release) {
    reply
      .header('lineal-export-rows', String(release.rows))
      .header('lineal-export-generalised', String(release.generalised))
      .header('lineal-export-suppressed', String(release.suppressed));
  }
  return reply.send(body);
}

/** The default export's response headers (RFC 9110 fields, declared in OpenAPI). */
const releaseHeaders = {
  'Lineal-Export-Rows': {
    type: 'integer',
    description: 'Rows in the body (in the answers export: assessments, each of several rows).',
  },
  'Lineal-Export-Generalised': {
    type: 'integer',
    description: 'Of those, released with some quasi-identifiers generalised to `*`.',
  },
  'Lineal-Export-Suppressed': {
    type: 'integer',
    description: 'Rows left out: too rare, or hidden by the zone distributions, at every step.',
  },
};

const TableSchemaSchema = z
  .object({
    $schema: z.string(),
    description: z.string(),
    fields: z.array(
      z.object({
        name: z.string(),
        type: z.enum(['string', 'integer', 'number', 'boolean', 'date', 'array']),
        description: z.string(),
        format: z.string().optional(),
        arrayItem: z.object({ type: z.string() }).optional(),
        constraints: z.object({ required: z.boolean(), enum: z.array(z.string()).optional() }),
      }),
    ),
    missingValues: z.array(z.string()),
  })
  .meta({ id: 'TableSchema' });

/** The data dictionary of an export (no data read; through the Runner like every route). */
async function dictionary(_session: unknown, _trx: unknown, detail: ExportInput['detail']) {
  return tableSchema(specsOf[detail], `lineal: ${exports[detail].title}`);
}

/** The three row exports: where they are, who may read them, what they are called. */
const exports = {
  default: {
    base: '/v1/exports/assessments',
    prefix: 'exportAssessments',
    permission: 'analytics:read',
    title: 'assessments, default export',
    summary: 'k-anonymous assessments',
    description: exportDescription,
  },
  answers: {
    base: '/v1/exports/answers',
    prefix: 'exportAnswers',
    permission: 'analytics:read',
    title: 'item answers, long format',
    summary: 'k-anonymous item answers, one row per item',
    description: answersExportDescription,
  },
  detailed: {
    base: '/v1/exports/detailed/assessments',
    prefix: 'exportDetailedAssessments',
    permission: 'export:detailed',
    title: 'assessments, detailed export',
    summary: 'Pseudonymised assessments in detail',
    description: detailedExportDescription,
  },
} as const;

const specsOf = {
  default: exportColumnSpecs,
  answers: answerColumnSpecs,
  detailed: detailedColumnSpecs,
} as const;

export const exportRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  for (const detail of ['default', 'answers', 'detailed'] as const) {
    const { base, prefix, permission, summary, description, title } = exports[detail];
    for (const format of ['csv', 'ndjson', 'parquet'] as const) {
      const body = streamedBody(
        contentTypes[format].split(';')[0] as string,
        bodyDescriptions[format],
      );
      const name = format === 'csv' ? 'Csv' : format === 'ndjson' ? 'Ndjson' : 'Parquet';
      app.get(
        `${base}.${format}`,
        {
          // Fastify's automatic HEAD route would read the whole export and throw it away.
          exposeHeadRoute: false,
          config: {
            permission,
            audit: { resource: 'export', action: 'export' },
            readReplica: true,
          },
          schema: {
            operationId: `${prefix}${name}`,
            tags,
            summary: `${summary} as ${name.toUpperCase()} (streamed)`,
            description,
            querystring: ExportQuerySchema,
            response: {
              200: detail === 'detailed' ? body : { ...body, headers: releaseHeaders },
            },
          },
        },
        (request, reply) => sendExport(deps, request, reply, request.query, format, detail),
      );
    }
    app.get(
      `${base}.schema.json`,
      {
        config: { permission },
        schema: {
          operationId: `${prefix}TableSchema`,
          tags,
          summary: `The data dictionary of the export of ${title}`,
          description:
            'A Frictionless Table Schema (https://specs.frictionlessdata.io/table-schema/): ' +
            'every column with its type, description, whether it may be empty and the values ' +
            'it takes. The same for the CSV, NDJSON and Parquet bodies.',
          response: {
            200: jsonResponse(TableSchemaSchema, 'The Table Schema of the export.'),
          },
        },
      },
      (request) => deps.runner.run(request, dictionary, detail),
    );
  }
};
