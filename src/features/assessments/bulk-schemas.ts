import { z } from 'zod';
import { ProblemSchema } from '../../http/problem.js';
import { AssessmentWithRecommendationSchema, CreateAssessmentSchema } from './schemas.js';

/** Items in one bulk request: a class, or a few, in a round. */
export const BULK_MAX_ITEMS = 300;

const KeySchema = z
  .string()
  .min(1)
  .max(255)
  .regex(/^[\x21-\x7e]+$/, 'must be 1-255 visible ASCII characters');

export const BulkAssessmentItemSchema = CreateAssessmentSchema.extend({
  key: KeySchema.optional().describe(
    "The item's own idempotency key (e.g. your system's id of the assessment): a retry with the " +
      'same key and item replays its first result (`outcome: replayed`) instead of recording ' +
      'it again; the same key with a different item is refused (422 ' +
      '`idempotency-key-reused`). Scoped to the key and the Idempotency-Key header sent with ' +
      'it; kept 24 hours.',
  ),
}).meta({
  id: 'BulkAssessmentItem',
  description: 'The body of POST /v1/assessments, with an optional per-item `key`.',
});
export type BulkAssessmentItem = z.infer<typeof BulkAssessmentItemSchema>;

/**
 * The request. Items are validated one by one (an invalid item is answered with its own 400
 * problem, the others still recorded), so the body's own schema takes any item: the second
 * branch of the union is dropped from the OpenAPI document, which shows the item's shape.
 */
export const BulkAssessmentsSchema = z
  .object({
    items: z
      .array(z.union([BulkAssessmentItemSchema, z.unknown()]))
      .min(1)
      .max(BULK_MAX_ITEMS)
      .describe(
        `1-${BULK_MAX_ITEMS} assessments, recorded in this order (a later item sees the ` +
          'earlier ones, as consecutive single requests would).',
      ),
  })
  .strict()
  .meta({ id: 'BulkAssessments' });

const resultFields = {
  index: z.number().int().min(0).describe("The item's position in the request, from 0."),
  key: z.string().optional().describe("The item's `key`, when it sent one."),
};

const recorded = {
  location: z.string().describe('Where the assessment is: /v1/assessments/{id}.'),
  assessment: AssessmentWithRecommendationSchema,
};

export const BulkAssessmentResultSchema = z
  .discriminatedUnion('outcome', [
    z.object({
      outcome: z.literal('created'),
      ...resultFields,
      status: z.literal(201),
      ...recorded,
    }),
    z.object({
      outcome: z.literal('replayed'),
      ...resultFields,
      status: z.literal(200).describe('A replay of the result stored under the item key.'),
      ...recorded,
    }),
    z.object({
      outcome: z.literal('failed'),
      ...resultFields,
      status: z
        .number()
        .int()
        .min(400)
        .max(499)
        .describe('The status the single request would have had (400, 403, 404, 409, 422).'),
      problem: ProblemSchema.describe(
        'What the single request would have answered; field paths name the item ' +
          '(`body.items.3.assessedOn`).',
      ),
    }),
  ])
  .meta({ id: 'BulkAssessmentResult' });
export type BulkAssessmentResult = z.infer<typeof BulkAssessmentResultSchema>;

export const BulkAssessmentsResultSchema = z
  .object({
    items: z.array(BulkAssessmentResultSchema).describe('One result per item, in request order.'),
    counts: z.object({
      created: z.number().int(),
      replayed: z.number().int(),
      failed: z.number().int(),
    }),
  })
  .meta({ id: 'BulkAssessmentsResult' });
