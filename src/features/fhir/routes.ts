import type { FastifyReply } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { problemResponses } from '../../http/problem.js';
import type { RouteDeps } from '../../request/route-deps.js';
import { ChildParamsSchema } from '../children/schemas.js';
import {
  FHIR_JSON,
  FHIR_NDJSON,
  FhirBundleSchema,
  FhirExportQuerySchema,
  FhirQuestionnaireSchema,
  RulerVersionParamsSchema,
} from './schemas.js';
import { childBundle, getQuestionnaire, openFhirExport } from './service.js';

const tags = ['FHIR'];

function fhirResponse<S extends z.ZodType>(schema: S, description: string) {
  return { description, content: { [FHIR_JSON]: { schema } } };
}

/**
 * FHIR R4 (issue 18, point 4): rulers as Questionnaires, a child's assessments and steps as a
 * Bundle, and the municipality's bulk export as NDJSON. See docs/fhir.md.
 */
export const fhirRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, { runner }) => {
  app.get(
    '/v1/fhir/Questionnaire/:rulerVersionId',
    {
      config: { permission: 'ruler:read' },
      schema: {
        operationId: 'getFhirQuestionnaire',
        tags,
        summary: 'A ruler version as a FHIR R4 Questionnaire',
        description:
          'The levels and zones as Codings, each ruler item as an item, the rule and its bands as ' +
          'extensions. Canonical URL urn:lineal:fhir:Questionnaire:<key> for presets (a ' +
          "municipality's own rulers are named under it), version = the ruler version.",
        params: RulerVersionParamsSchema,
        response: {
          200: fhirResponse(FhirQuestionnaireSchema, 'The Questionnaire'),
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) => {
      const questionnaire = await runner.run(
        request,
        getQuestionnaire,
        request.params.rulerVersionId,
      );
      return reply.header('content-type', `${FHIR_JSON}; charset=utf-8`).send(questionnaire);
    },
  );

  app.get(
    '/v1/children/:childId/fhir',
    {
      config: { permission: 'fhir:read', audit: { resource: 'child', action: 'read' } },
      schema: {
        operationId: 'getChildFhirBundle',
        tags,
        summary: "A child's assessments and steps as a FHIR R4 Bundle (case exchange)",
        description:
          'A collection Bundle: the child as Patient (lineal id and external reference as ' +
          'identifiers, name, birth date; never a CPR number), the Questionnaires of the rulers ' +
          'used, every current or withdrawn assessment the caller may see as a ' +
          "QuestionnaireResponse (topi-3 ones also answering KL's TOPI questionnaire), and the " +
          'steps the caller may see as Tasks. The same visibility and sharing rules as the ' +
          "child's timeline; audited as a read of the child.",
        params: ChildParamsSchema,
        response: {
          200: fhirResponse(FhirBundleSchema, 'The Bundle'),
          ...problemResponses(404),
        },
      },
    },
    async (request, reply) => {
      const bundle = await runner.run(request, childBundle, request.params.childId);
      return reply
        .header('content-type', `${FHIR_JSON}; charset=utf-8`)
        .header('cache-control', 'no-store')
        .send(bundle);
    },
  );

  app.get(
    '/v1/fhir/export',
    {
      // Fastify's automatic HEAD route would read the whole export and throw it away.
      exposeHeadRoute: false,
      config: { permission: 'fhir:export', audit: { resource: 'export', action: 'export' } },
      schema: {
        operationId: 'exportFhirNdjson',
        tags,
        summary: "The municipality's Questionnaires, assessments and steps as FHIR NDJSON",
        description:
          'One FHIR R4 resource a line (application/fhir+ndjson), streamed page by page: the ' +
          'Questionnaires of the rulers, then every current or withdrawn assessment as a ' +
          "QuestionnaireResponse (and KL's TOPI response for topi-3), then every step as a " +
          'Task. The child and unit are referred to logically, by lineal id: no names. Pages ' +
          'are read in separate transactions, so the body is not one snapshot. 403 for keys ' +
          'limited to units.',
        querystring: FhirExportQuerySchema,
        response: {
          200: {
            description: 'NDJSON: one FHIR resource per line.',
            content: { [FHIR_NDJSON]: { schema: z.string() } },
          },
        },
      },
    },
    async (request, reply) => {
      const abort = new AbortController();
      const body = await runner.runThen(request, openFhirExport, {
        query: request.query,
        signal: abort.signal,
        onClose: (summary) =>
          request.log.info(
            { export: 'fhir', ...summary },
            summary.completed ? 'export completed' : 'export aborted',
          ),
      });
      reply.raw.once('close', () => {
        if (!reply.raw.writableEnded) {
          abort.abort();
          body.destroy();
        }
      });
      // A stream, not the string the schema documents (as the row exports send theirs).
      return (reply as FastifyReply)
        .status(200)
        .header('content-type', `${FHIR_NDJSON}; charset=utf-8`)
        .header('content-disposition', 'attachment; filename="lineal-fhir.ndjson"')
        .header('cache-control', 'no-store')
        .send(body);
    },
  );
};
