import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classify } from '../../src/domain/rulers/classify.js';
import { RulerDefinitionSchema } from '../../src/domain/rulers/definition.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';
import { answerDefects, rulerDefects } from '../../src/domain/rulers/validate.js';
import {
  inputArb,
  rulerAndInputArb,
  validRulerArb,
  worsen,
  worsenRating,
  zoneRankOf,
} from './rulers-arbitraries.js';

const runs = { numRuns: 200 };

describe('generated rulers', () => {
  it('(d) valid generated rulers pass the schema and have no defects', () => {
    fc.assert(
      fc.property(validRulerArb, (def) => {
        expect(RulerDefinitionSchema.safeParse(def).success).toBe(true);
        expect(rulerDefects(def)).toEqual([]);
      }),
      runs,
    );
  });

  it('generated inputs have no answer defects', () => {
    fc.assert(
      fc.property(rulerAndInputArb(), ({ def, input }) => {
        expect(answerDefects(def, input.joint, input.redFlags, 'joint')).toEqual([]);
        input.raterRatings.forEach((rating, i) => {
          expect(answerDefects(def, rating, [], `raters.${i}`)).toEqual([]);
        });
      }),
      runs,
    );
  });

  it('breaking one level’s zone against the direction is a defect', () => {
    fc.assert(
      fc.property(validRulerArb, (def) => {
        // Make the best end red and the worst end green: never monotone.
        const levels = def.levels.map((level, i) => {
          const bestEnd = def.higherIsBetter ? def.levels.length - 1 : 0;
          const worstEnd = def.higherIsBetter ? 0 : def.levels.length - 1;
          if (i === bestEnd) return { ...level, zone: 'red' as const };
          if (i === worstEnd) return { ...level, zone: 'green' as const };
          return level;
        });
        const codes = rulerDefects({ ...def, levels }).map((d) => d.code);
        expect(codes).toContain('level_zones_not_monotone');
      }),
      runs,
    );
  });
});

describe('classification properties (presets and generated rulers)', () => {
  it('(a) making every answer one step worse never gives a better zone', () => {
    fc.assert(
      fc.property(rulerAndInputArb(), ({ def, input }) => {
        const before = classify(def, input);
        const after = classify(def, { ...input, joint: worsenRating(def, input.joint) });
        if (before.zone !== null && after.zone !== null) {
          expect(zoneRankOf[after.zone]).toBeLessThanOrEqual(zoneRankOf[before.zone]);
        }
        // Worsening changes no answered/N/A counts, so data sufficiency does not change.
        expect(after.zone === null).toBe(before.zone === null);
      }),
      runs,
    );
  });

  it('(a) assessor position: a worse overall level never gives a better zone', () => {
    const positional = presetRulers
      .map((p) => p.definition)
      .filter((def) => def.rule.kind === 'assessor_position');
    const arb = fc.constantFrom(...positional).chain((def) =>
      fc.record({
        def: fc.constant(def),
        level: fc.constantFrom(...def.levels.map((l) => l.value)),
      }),
    );
    fc.assert(
      fc.property(arb, ({ def, level }) => {
        const at = (value: number) =>
          classify(def, {
            joint: { overallLevel: value, answers: {} },
            redFlags: [],
            raterRatings: [],
          });
        const before = at(level);
        const after = at(worsen(def, level));
        expect(before.zone).not.toBeNull();
        expect(after.zone).not.toBeNull();
        if (before.zone !== null && after.zone !== null) {
          expect(zoneRankOf[after.zone]).toBeLessThanOrEqual(zoneRankOf[before.zone]);
        }
      }),
      runs,
    );
  });

  it('(b) is deterministic', () => {
    fc.assert(
      fc.property(rulerAndInputArb(), ({ def, input }) => {
        expect(classify(def, structuredClone(input))).toStrictEqual(classify(def, input));
      }),
      runs,
    );
  });

  it('(c) always explains itself; zone is null exactly when data is insufficient', () => {
    fc.assert(
      fc.property(rulerAndInputArb(), ({ def, input }) => {
        const result = classify(def, input);
        const { explanation } = result;
        expect(explanation.summary.trim().length).toBeGreaterThan(0);
        expect(explanation.summary).toMatch(/^(Green|Yellow|Red|No zone): .*\.$/);
        expect(explanation.rule).toBe(def.rule.kind);
        expect(result.zone === null).toBe(explanation.outcome === 'insufficient_data');
        expect(explanation.outcome === 'red_flag').toBe(input.redFlags.length > 0);
        expect(result.score).toBe(explanation.score);
        expect(result.level).toBe(explanation.decisiveLevel);
        if (def.rule.kind === 'mean_of_items' || def.rule.kind === 'sum_of_items') {
          expect(result.level).toBeNull();
          expect(result.score === null).toBe(explanation.band === null);
        } else {
          expect(result.score).toBeNull();
        }
        expect(explanation.answeredItems).toBeGreaterThanOrEqual(0);
        for (const d of explanation.disagreements) {
          expect(d.levels.length).toBeGreaterThanOrEqual(2);
          expect((d.levels.at(-1) as number) - (d.levels[0] as number)).toBeGreaterThan(1);
        }
      }),
      runs,
    );
  });

  it('(c) with too few answers the zone is never green, and is null without red flags', () => {
    fc.assert(
      fc.property(rulerAndInputArb({ redFlags: 'none' }), ({ def, input }) => {
        const result = classify(def, input);
        const needed =
          def.rule.kind === 'assessor_position'
            ? def.minAnsweredItems
            : Math.max(def.minAnsweredItems, 1);
        if (result.explanation.answeredItems < needed) {
          expect(result.zone).toBeNull();
          expect(result.explanation.outcome).toBe('insufficient_data');
        }
      }),
      runs,
    );
  });

  it('(e) any red flag makes it red', () => {
    const withFlags = fc
      .oneof(
        fc.constantFrom(...presetRulers.map((p) => p.definition)),
        validRulerArb.filter((def) => def.items.some((item) => item.redFlag)),
      )
      .chain((def) => inputArb(def, { redFlags: 'some' }).map((input) => ({ def, input })));
    fc.assert(
      fc.property(withFlags, ({ def, input }) => {
        const result = classify(def, input);
        expect(result.zone).toBe('red');
        expect(result.explanation.outcome).toBe('red_flag');
        expect([...result.explanation.redFlags].sort()).toEqual(
          [...new Set(input.redFlags)].sort(),
        );
        // The rest of the explanation is what it would be without the flags.
        const without = classify(def, { ...input, redFlags: [] });
        expect(result.score).toBe(without.score);
        expect(result.level).toBe(without.level);
        expect(result.explanation.band).toEqual(without.explanation.band);
      }),
      runs,
    );
  });
});
