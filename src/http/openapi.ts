import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { jsonSchemaTransform, jsonSchemaTransformObject } from 'fastify-type-provider-zod';
import { tidySchemaComponents } from './openapi-components.js';
import { declareResponseHeaders } from './openapi-headers.js';

const description = `lineal stores periodic well-being assessments of children, places them on the
municipality's ruler (green / yellow / red) and recommends what to do next.

Every \`/v1\` route needs \`Authorization: Bearer <API key>\`. Every error is an RFC 9457
\`application/problem+json\` document with the request id (also in the \`x-request-id\` header).`;

/** OpenAPI 3.1, generated from the routes' zod schemas; UI at /docs, document at /openapi.json. */
export const openApiPlugin = fp(
  async (app: FastifyInstance, opts: { version: string }) => {
    await app.register(swagger, {
      openapi: {
        openapi: '3.1.0',
        info: {
          title: 'lineal',
          description,
          version: opts.version,
          license: { name: 'MIT', identifier: 'MIT' },
        },
        // Relative: the document describes the deployment that serves it (clients are given
        // their deployment's base URL).
        servers: [{ url: '/', description: 'The deployment serving this document' }],
        tags: [
          { name: 'Health', description: 'Liveness and readiness probes' },
          { name: 'Municipalities', description: 'Tenants (kommuner)' },
          { name: 'API keys', description: 'Keys, roles and unit limits' },
          { name: 'Units', description: 'Institutions: daycare, schools, after-school care' },
          { name: 'Children', description: 'Children and their enrolments in units' },
          { name: 'Rulers', description: 'Versioned rulers: levels, zones, items, rules' },
          { name: 'Rounds', description: 'Screening rounds and their coverage' },
          { name: 'Assessments', description: 'Assessments, classification, corrections' },
          { name: 'Action guides', description: 'Versioned action guides (handleguides)' },
          { name: 'Recommendations', description: 'What to do next for an assessment' },
          { name: 'Follow-up', description: 'Steps, worklist, flags and concern reports' },
          {
            name: 'Transitions and consent',
            description: 'Consents, transition guidelines and the handover summary',
          },
          { name: 'Events', description: 'The change feed for integrations' },
          {
            name: 'FHIR',
            description:
              "FHIR R4: rulers as Questionnaires, a child's Bundle, the bulk NDJSON export",
          },
          {
            name: 'Analytics',
            description: 'Aggregates for analysts, with small-cell suppression',
          },
          {
            name: 'Privacy',
            description: "Audit log, the child's dossier (access requests) and erasure",
          },
        ],
        components: {
          securitySchemes: {
            bearerAuth: {
              type: 'http',
              scheme: 'bearer',
              description: 'An API key: `lnl_<key id>_<secret>`.',
            },
          },
        },
      },
      transform: keepResponseHeaders(jsonSchemaTransform),
      transformObject: (input) =>
        declareResponseHeaders(tidySchemaComponents(jsonSchemaTransformObject(input))),
    });
    await app.register(swaggerUi, { routePrefix: '/docs', staticCSP: true });
    app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());
  },
  { name: 'lineal-openapi' },
);

type Transform = typeof jsonSchemaTransform;
type ResponseEntry = { headers?: unknown; content?: Record<string, unknown> };

/**
 * fastify-type-provider-zod's transform keeps only `description` and `content` of a response
 * given by content type, so the `headers` it declares (ETag, …) never reached the document:
 * they are put back here, as @fastify/swagger expects them (JSON Schema per header). A response
 * without content (304) is marked `type: 'null'`, which @fastify/swagger documents without a
 * body.
 */
export function keepResponseHeaders(transform: Transform): Transform {
  return (input) => {
    const output = transform(input);
    const declared = input.schema?.response as Record<string, ResponseEntry> | undefined;
    const transformed = (
      output.schema as { response?: Record<string, Record<string, unknown>> } | undefined
    )?.response;
    if (!declared || !transformed) return output;
    for (const [status, entry] of Object.entries(declared)) {
      const target = transformed[status];
      if (!target || typeof entry !== 'object' || entry === null) continue;
      if (entry.headers) target.headers = entry.headers;
      if (entry.content && Object.keys(entry.content).length === 0) {
        delete target.content;
        target.type = 'null';
      }
    }
    return output;
  };
}

/** The document as committed in openapi/openapi.json (stable formatting, trailing newline). */
export function renderOpenApi(app: FastifyInstance): string {
  return `${JSON.stringify(app.swagger(), null, 2)}\n`;
}
