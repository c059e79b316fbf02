import type { FastifyRequest } from 'fastify';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { isUuid } from '../../audit/audit.js';
import { ProblemError } from '../../errors.js';
import { buildProblem } from '../../http/error-handler.js';
import { problemResponse, statusTitle } from '../../http/problem.js';
import { jsonResponse } from '../../http/schemas.js';
import type { EachItem, EachOutcome } from '../../request/bulk.js';
import { IdempotencyHeadersSchema } from '../../request/idempotency.js';
import type { RouteDeps } from '../../request/route-deps.js';
import {
  BULK_MAX_ITEMS,
  BulkAssessmentItemSchema,
  type BulkAssessmentResult,
  BulkAssessmentsResultSchema,
  BulkAssessmentsSchema,
} from './bulk-schemas.js';
import type { AssessmentWithRecommendation, CreateAssessment } from './schemas.js';
import { createAssessment } from './service.js';

const BulkHeadersSchema = z.looseObject({
  'idempotency-key': IdempotencyHeadersSchema.shape['idempotency-key'].describe(
    "Scopes the items' keys: an item is stored under this key and its own `key` (or, without " +
      'one, its position), so a retry of the whole request with the same Idempotency-Key ' +
      'replays every item that was recorded and records the rest.',
  ),
});

const description = `Records up to ${BULK_MAX_ITEMS} assessments (a class in a round) in one request. Each item is exactly a POST /v1/assessments body (plus an optional \`key\`) and is recorded exactly as that request would record it — the same checks, classification, recommendation, steps, flags, events and audit entries — in request order. Each item gets its own result: \`created\` (201), \`replayed\` (200: its key was used before for the same item) or \`failed\` with the problem the single request would have answered (400 invalid, 403, 404 unknown child or unit, 409 already assessed in the round, 422 not admissible or key reused); a failed item never affects the others. The answer is 200 whatever the items' outcomes.

Items are written in transactions of 50: when the database fails mid-request the answer is 503 and nothing in it is acknowledged, but earlier chunks may be committed — retry with the same Idempotency-Key and item keys, and they are replayed, not recorded twice.

Rate limit: the request counts as one request per item (a bulk of 300 uses what 300 single requests would); when the items do not fit in the rest of the window, it is refused whole (429) and nothing is recorded. Over ${BULK_MAX_ITEMS} items: 413 \`too-many-items\`.`;

export const bulkAssessmentRoutes: FastifyPluginAsyncZod<RouteDeps> = async (app, deps) => {
  const { runner } = deps;

  app.post(
    '/v1/assessments/bulk',
    {
      config: {
        permission: 'assessment:write',
        audit: { resource: 'assessment', action: 'create' },
        rateLimitCost: (request) => (request.body as { items: unknown[] }).items.length,
      },
      // Before validation: a request with too many items is refused as too large, not invalid.
      preValidation: async (request) => {
        const items = (request.body as { items?: unknown } | null)?.items;
        if (Array.isArray(items) && items.length > BULK_MAX_ITEMS) {
          throw new ProblemError(
            413,
            'too-many-items',
            statusTitle(413),
            `A bulk request takes at most ${BULK_MAX_ITEMS} items; this one has ` +
              `${items.length}. Send them in several requests.`,
          );
        }
      },
      schema: {
        operationId: 'createAssessmentsInBulk',
        tags: ['Assessments'],
        summary: 'Record many assessments at once, each with its own result',
        description,
        headers: BulkHeadersSchema,
        body: BulkAssessmentsSchema,
        response: {
          200: jsonResponse(
            BulkAssessmentsResultSchema,
            'One result per item, in request order: each created, replayed or refused with its own problem',
          ),
          413: {
            ...problemResponse(413),
            description:
              `The body is over the bulk body limit, or (\`too-many-items\`) it has more than ` +
              `${BULK_MAX_ITEMS} items.`,
          },
        },
      },
    },
    async (request) => {
      const raw = request.body.items;
      const outcomes = await runner.createEach(request, createAssessment, raw.map(prepareItem), {
        as: { method: 'POST', path: '/v1/assessments' },
        location: (created) => `/v1/assessments/${created.id}`,
      });
      const items = outcomes.map((o, index) => resultOf(request, raw[index], index, o));
      return {
        items,
        counts: {
          created: items.filter((i) => i.outcome === 'created').length,
          replayed: items.filter((i) => i.outcome === 'replayed').length,
          failed: items.filter((i) => i.outcome === 'failed').length,
        },
      };
    },
  );
};

const keyOf = (raw: unknown): string | undefined => {
  const key = (raw as { key?: unknown } | null)?.key;
  return typeof key === 'string' ? key : undefined;
};

/** Validates one item as its single request's body would be: a 400 problem when invalid. */
function prepareItem(raw: unknown, index: number): EachItem<CreateAssessment> {
  const parsed = BulkAssessmentItemSchema.safeParse(raw);
  if (parsed.success) {
    const { key, ...input } = parsed.data;
    return { key, childId: input.childId, input };
  }
  const errors = parsed.error.issues.map((issue) => ({
    path: ['body', ...issue.path.map(String)].join('.'),
    message: issue.message,
    code: issue.code,
  }));
  const childId = (raw as { childId?: unknown } | null)?.childId;
  return {
    key: keyOf(raw),
    childId: isUuid(childId) ? childId : null,
    problem: new ProblemError(
      400,
      'validation-error',
      statusTitle(400),
      `Item ${index} of the request body is invalid: ${errors.length} problem(s).`,
      errors,
    ),
  };
}

/** An item's result; the problem's field paths name the item (`body.items.3.assessedOn`). */
function resultOf(
  request: FastifyRequest,
  raw: unknown,
  index: number,
  outcome: EachOutcome<AssessmentWithRecommendation>,
): BulkAssessmentResult {
  const key = keyOf(raw);
  const head = { index, ...(key !== undefined ? { key } : {}) };
  if (outcome.outcome === 'failed') {
    const { problem } = outcome;
    const errors = problem.errors?.map((e) => ({
      ...e,
      path:
        e.path === 'body'
          ? `body.items.${index}`
          : e.path.replace(/^body\./, `body.items.${index}.`),
    }));
    return {
      outcome: 'failed',
      ...head,
      status: outcome.status,
      problem: buildProblem(request, problem.status, problem.slug, problem.detail, {
        title: problem.title,
        ...(errors ? { errors } : {}),
      }),
    };
  }
  const assessment = outcome.body;
  const location = outcome.location ?? `/v1/assessments/${assessment.id}`;
  return outcome.outcome === 'created'
    ? { outcome: 'created', ...head, status: 201, location, assessment }
    : { outcome: 'replayed', ...head, status: 200, location, assessment };
}
