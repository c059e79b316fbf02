import fc from 'fast-check';
import {
  type Band,
  type ClassificationInput,
  type Rating,
  type RulerDefinition,
  RulerDefinitionSchema,
  type Zone,
} from '../../src/domain/rulers/definition.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';

const zoneByRank: readonly Zone[] = ['red', 'yellow', 'green'];

/** Sorted zone ranks from the bad end to the good end, at least two distinct when `distinct`. */
function monotoneRanks(length: number, distinct: boolean): fc.Arbitrary<number[]> {
  return fc
    .array(fc.integer({ min: 0, max: 2 }), { minLength: length, maxLength: length })
    .map((ranks) => {
      const sorted = [...ranks].sort((a, b) => a - b);
      if (distinct && sorted[0] === sorted[sorted.length - 1]) {
        sorted[0] = 0;
        sorted[sorted.length - 1] = 2;
      }
      return sorted;
    });
}

const ruleKinds = ['assessor_position', 'worst_domain', 'mean_of_items', 'sum_of_items'] as const;

/**
 * Valid ruler definitions: a scale of 2–11 consecutive levels starting anywhere in −5..5, either
 * direction, zones monotone along the direction, 1–8 rated items and 0–3 red flags, any rule; score
 * rules get 1–5 bands tiling the score range with monotone zones, listed in random order.
 */
export const validRulerArb: fc.Arbitrary<RulerDefinition> = fc
  .record({
    size: fc.integer({ min: 2, max: 11 }),
    start: fc.integer({ min: -5, max: 5 }),
    higherIsBetter: fc.boolean(),
    rated: fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
    flags: fc.array(fc.constantFrom('violence', 'sexual_abuse', 'neglect', 'other'), {
      maxLength: 3,
    }),
    kind: fc.constantFrom(...ruleKinds),
    ratersRequired: fc.integer({ min: 1, max: 3 }),
    cuts: fc.uniqueArray(fc.integer({ min: 1, max: 19 }), { maxLength: 4 }),
    minAnsweredFraction: fc.double({ min: 0, max: 1, noNaN: true }),
    seed: fc.integer(),
  })
  .chain((p) =>
    fc
      .record({
        levelRanks: monotoneRanks(p.size, true),
        bandRanks: monotoneRanks(p.cuts.length + 1, false),
        bandOrder: fc.shuffledSubarray(
          Array.from({ length: p.cuts.length + 1 }, (_, i) => i),
          { minLength: p.cuts.length + 1, maxLength: p.cuts.length + 1 },
        ),
      })
      .map(({ levelRanks, bandRanks, bandOrder }) => {
        const values = Array.from({ length: p.size }, (_, i) => p.start + i);
        // levelRanks go from the bad end to the good end.
        const levels = values.map((value, i) => {
          const rank = (p.higherIsBetter ? levelRanks[i] : levelRanks[p.size - 1 - i]) as number;
          return {
            value,
            label: { da: `niveau ${value}`, en: `level ${value}` },
            zone: zoneByRank[rank] as Zone,
          };
        });
        const ratedItems = p.rated.map((allowNotApplicable, i) => ({
          key: `item_${i}`,
          label: { da: `punkt ${i}`, en: `item ${i}` },
          domain: i % 2 === 0 ? 'even' : 'odd',
          allowNotApplicable,
        }));
        const flagItems = p.flags.map((category, i) => ({
          key: `flag_${i}`,
          label: { da: `flag ${i}`, en: `flag ${i}` },
          redFlag: true,
          redFlagCategory: category,
        }));
        const n = ratedItems.length;
        const m = p.kind === 'sum_of_items' ? n : 1;
        const lo = p.start * m;
        const hi = (p.start + p.size - 1) * m;
        const edges = [
          lo,
          ...[...p.cuts].sort((a, b) => a - b).map((c) => lo + ((hi - lo) * c) / 20),
          hi,
        ];
        const ascending: Band[] = edges.slice(0, -1).map((min, i) => ({
          min,
          max: edges[i + 1] as number,
          // Score rises with the levels: along the good direction when higherIsBetter.
          zone: zoneByRank[
            (p.higherIsBetter ? bandRanks[i] : bandRanks[bandRanks.length - 1 - i]) as number
          ] as Zone,
        }));
        const bands = bandOrder.map((i) => ascending[i] as Band);
        const rule =
          p.kind === 'mean_of_items' || p.kind === 'sum_of_items'
            ? { kind: p.kind, bands }
            : { kind: p.kind };
        // Interleave rated items and flags deterministically from the seed.
        const items = [...ratedItems, ...flagItems].sort(
          (a, b) => hash(a.key, p.seed) - hash(b.key, p.seed),
        );
        return RulerDefinitionSchema.parse({
          levels,
          higherIsBetter: p.higherIsBetter,
          items,
          rule,
          minAnsweredItems: Math.floor(p.minAnsweredFraction * n),
          ratersRequired: p.ratersRequired,
        });
      }),
  );

function hash(text: string, seed: number): number {
  let h = seed | 0;
  for (const ch of text) h = (Math.imul(h, 31) + (ch.codePointAt(0) ?? 0)) | 0;
  return h;
}

/** The presets, or a generated valid ruler. */
export const anyRulerArb: fc.Arbitrary<RulerDefinition> = fc.oneof(
  fc.constantFrom(...presetRulers.map((preset) => preset.definition)),
  validRulerArb,
);

/** A rating that passes answerDefects on this ruler (answers missing, N/A where allowed, or levels). */
export function ratingArb(def: RulerDefinition): fc.Arbitrary<Rating> {
  const values = def.levels.map((level) => level.value);
  const rated = def.items.filter((item) => !item.redFlag);
  const answerArbs = rated.map((item) =>
    fc.oneof(
      { arbitrary: fc.constantFrom(...values), weight: 6 },
      { arbitrary: fc.constant(undefined), weight: 1 },
      ...(item.allowNotApplicable ? [{ arbitrary: fc.constant('na' as const), weight: 1 }] : []),
    ),
  );
  return fc
    .record({
      overallLevel: fc.option(fc.constantFrom(...values), { nil: undefined, freq: 8 }),
      answers: fc.tuple(...answerArbs),
    })
    .map(({ overallLevel, answers }) => {
      const record: Record<string, number | 'na'> = {};
      rated.forEach((item, i) => {
        const answer = answers[i];
        if (answer !== undefined) record[item.key] = answer;
      });
      return overallLevel === undefined ? { answers: record } : { overallLevel, answers: record };
    });
}

/** A valid classification input for this ruler. */
export function inputArb(
  def: RulerDefinition,
  options: { redFlags?: 'none' | 'some' | 'any' } = {},
): fc.Arbitrary<ClassificationInput> {
  const flagKeys = def.items.filter((item) => item.redFlag).map((item) => item.key);
  const mode = options.redFlags ?? 'any';
  const flags =
    mode === 'none' || flagKeys.length === 0
      ? fc.constant<string[]>([])
      : fc.shuffledSubarray(flagKeys, { minLength: mode === 'some' ? 1 : 0 });
  return fc.record({
    joint: ratingArb(def),
    redFlags: flags,
    raterRatings: fc.array(ratingArb(def), { maxLength: 3 }),
  });
}

/** A ruler paired with a valid input. */
export const rulerAndInputArb = (
  options: { redFlags?: 'none' | 'some' | 'any' } = {},
): fc.Arbitrary<{ def: RulerDefinition; input: ClassificationInput }> =>
  anyRulerArb.chain((def) => inputArb(def, options).map((input) => ({ def, input })));

/** One step toward the bad end of the scale, clamped. */
export function worsen(def: RulerDefinition, value: number): number {
  const values = def.levels.map((level) => level.value);
  return def.higherIsBetter
    ? Math.max(value - 1, Math.min(...values))
    : Math.min(value + 1, Math.max(...values));
}

/** The same rating with every answer (and the overall level) one step worse. */
export function worsenRating(def: RulerDefinition, rating: Rating): Rating {
  const answers: Record<string, number | 'na'> = {};
  for (const [key, value] of Object.entries(rating.answers)) {
    answers[key] = value === 'na' ? 'na' : worsen(def, value);
  }
  return rating.overallLevel === undefined
    ? { answers }
    : { overallLevel: worsen(def, rating.overallLevel), answers };
}

export const zoneRankOf: Readonly<Record<Zone, number>> = { red: 0, yellow: 1, green: 2 };
