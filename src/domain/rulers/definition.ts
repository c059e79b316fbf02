import { z } from 'zod';

/**
 * A ruler (lineal) as data: an ordered scale of levels, each in a zone, optional rated items
 * (domains) and red-flag indicators, and the rule that turns answers into an overall zone.
 * Rulers are versioned; a version's definition never changes once stored.
 */

export const zones = ['green', 'yellow', 'red'] as const;
export const ZoneSchema = z.enum(zones).meta({ id: 'Zone' });
export type Zone = z.infer<typeof ZoneSchema>;

export const LabelSchema = z
  .object({ da: z.string().trim().min(1).max(200), en: z.string().trim().min(1).max(200) })
  .strict();

export const LevelSchema = z
  .object({
    value: z.number().int().min(-1000).max(1000).describe('A point on the scale (integers).'),
    label: LabelSchema,
    zone: ZoneSchema,
  })
  .strict();
export type Level = z.infer<typeof LevelSchema>;

/** Kinds of red flag; issue 4's action guides react to `violence` and `sexual_abuse`. */
export const redFlagCategories = ['violence', 'sexual_abuse', 'neglect', 'other'] as const;

export const ItemSchema = z
  .object({
    key: z.string().regex(/^[a-z][a-z0-9_]{0,62}$/, 'must be snake_case: a-z, 0-9, _ (max 63)'),
    label: LabelSchema,
    domain: z
      .string()
      .regex(/^[a-z][a-z0-9_]{0,62}$/)
      .optional()
      .describe('Optional grouping (e.g. a TOPI aspect) for reports and explanations.'),
    allowNotApplicable: z.boolean().default(false),
    redFlag: z
      .boolean()
      .default(false)
      .describe(
        'A red-flag indicator: not rated on the scale but reported present or not; ' +
          'present makes the result red whatever the score.',
      ),
    redFlagCategory: z.enum(redFlagCategories).optional(),
  })
  .strict();
export type Item = z.infer<typeof ItemSchema>;

/**
 * A score band: `min <= score < max`, except that the band ending at the top of the score
 * range includes it. Bands must tile the score range without gaps or overlaps.
 */
export const BandSchema = z.object({ zone: ZoneSchema, min: z.number(), max: z.number() }).strict();
export type Band = z.infer<typeof BandSchema>;

export const OverallRuleSchema = z.discriminatedUnion('kind', [
  z
    .object({ kind: z.literal('assessor_position') })
    .strict()
    .describe("The joint overall level decides (the assessors' position on the ruler)."),
  z
    .object({ kind: z.literal('worst_domain') })
    .strict()
    .describe('The worst-rated item (domain), in the ruler direction, decides.'),
  z
    .object({ kind: z.literal('mean_of_items'), bands: z.array(BandSchema).min(1).max(20) })
    .strict()
    .describe('The mean of the answered items, cut into bands.'),
  z
    .object({ kind: z.literal('sum_of_items'), bands: z.array(BandSchema).min(1).max(20) })
    .strict()
    .describe(
      'The sum of the items, cut into bands; with N/A answers the sum is prorated ' +
        '(mean of answered items × number of rated items).',
    ),
]);
export type OverallRule = z.infer<typeof OverallRuleSchema>;

export const RulerDefinitionSchema = z
  .object({
    levels: z.array(LevelSchema).min(2).max(101),
    higherIsBetter: z
      .boolean()
      .describe('Direction: true when a higher level means better well-being (Signs of Safety).'),
    items: z.array(ItemSchema).max(200).default([]),
    rule: OverallRuleSchema,
    minAnsweredItems: z
      .number()
      .int()
      .min(0)
      .max(200)
      .default(0)
      .describe('Fewer answered (not N/A) rated items than this gives no zone.'),
    ratersRequired: z.number().int().min(1).max(10).default(1),
  })
  .strict()
  .meta({ id: 'RulerDefinition' });
export type RulerDefinition = z.output<typeof RulerDefinitionSchema>;
export type RulerDefinitionInput = z.input<typeof RulerDefinitionSchema>;

/** One rater's own rating, or the joint rating, of one assessment. */
export const RatingSchema = z
  .object({
    overallLevel: z.number().int().optional(),
    answers: z
      .record(z.string(), z.union([z.number().int(), z.literal('na')]))
      .default({})
      .describe('Rated item key → level, or "na" where the item allows N/A.'),
  })
  .strict();
export type Rating = z.output<typeof RatingSchema>;

/** What the classifier sees: the ruler version and the assessment's ratings and flags. */
export interface ClassificationInput {
  joint: Rating;
  /** Keys of red-flag items reported present. */
  redFlags: string[];
  /** Each rater's own rating, where given (for disagreement). */
  raterRatings: Rating[];
}

export interface Disagreement {
  /** `overall` or a rated item key. */
  subject: string;
  levels: number[];
}

export interface Explanation {
  rule: OverallRule['kind'];
  outcome: 'classified' | 'insufficient_data' | 'red_flag';
  /** One sentence in English saying why. */
  summary: string;
  /** The level that decided (assessor_position, worst_domain), if any. */
  decisiveLevel: number | null;
  /** Items that decided (worst_domain: the worst ones; score rules: all answered). */
  decisiveItems: string[];
  redFlags: string[];
  score: number | null;
  band: Band | null;
  answeredItems: number;
  notApplicableItems: number;
  minAnsweredItems: number;
  disagreements: Disagreement[];
}

export interface Classification {
  zone: Zone | null;
  /** The decisive level, or null for score rules and insufficient data. */
  level: number | null;
  score: number | null;
  explanation: Explanation;
}
