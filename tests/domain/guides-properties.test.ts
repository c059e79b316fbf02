import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, compareDates } from '../../src/domain/dates.js';
import type { AssessmentFacts } from '../../src/domain/guides/definition.js';
import { type PresetGuide, presetGuides } from '../../src/domain/guides/presets.js';
import { recommend } from '../../src/domain/guides/recommend.js';
import { redFlagCategories } from '../../src/domain/rulers/definition.js';
import { presetRuler } from '../../src/domain/rulers/presets.js';

const runs = { numRuns: 300 };
type Zone = 'green' | 'yellow' | 'red';

/** Rounds the generated assessments may belong to, with their window starts. */
const rounds = [
  { roundId: 'r1', roundStart: '2024-04-01' },
  { roundId: 'r2', roundStart: '2024-10-01' },
  { roundId: 'r3', roundStart: '2025-04-01' },
  { roundId: 'r4', roundStart: '2025-10-01' },
];

/**
 * One assessment's facts on the guide's ruler. `consistent` facts take zone and level from a
 * level of the ruler (no level for the score ruler) and are red whenever a red flag is present;
 * the other facts combine the fields freely, to check that `recommend` is total.
 */
function factsArb(guide: PresetGuide, id: string): fc.Arbitrary<AssessmentFacts> {
  const ruler = presetRuler(guide.rulerKey)?.definition;
  if (ruler === undefined) throw new Error(`no ruler ${guide.rulerKey}`);
  const scoreRule = ruler.rule.kind === 'mean_of_items' || ruler.rule.kind === 'sum_of_items';
  return fc
    .record({
      day: fc.integer({ min: 0, max: 800 }),
      round: fc.option(fc.constantFrom(...rounds), { nil: null }),
      withoutStart: fc.boolean(),
      consistent: fc.boolean(),
      levelIndex: fc.option(fc.nat({ max: ruler.levels.length - 1 }), { nil: null }),
      freeZone: fc.constantFrom<Zone | null>('green', 'yellow', 'red', null),
      categories: fc.subarray([...redFlagCategories]),
    })
    .map(({ day, round, withoutStart, consistent, levelIndex, freeZone, categories }) => {
      const level = levelIndex === null ? undefined : ruler.levels[levelIndex];
      let zone: Zone | null = consistent ? (level?.zone ?? null) : freeZone;
      if (consistent && categories.length > 0) zone = 'red';
      return {
        id,
        assessedOn: addDays('2024-03-01', day),
        roundId: round?.roundId ?? null,
        roundStart: round === null || withoutStart ? null : round.roundStart,
        rulerKey: guide.rulerKey,
        higherIsBetter: ruler.higherIsBetter,
        zone,
        level: scoreRule || level === undefined ? null : level.value,
        redFlagCategories: categories,
        redFlags: categories.map((category) => `${category}_signs`),
      };
    });
}

/** A preset guide, the current facts and up to six earlier (or later) facts, unique ids. */
const caseArb = fc.constantFrom(...presetGuides).chain((guide) =>
  fc.nat({ max: 6 }).chain((n) =>
    fc.record({
      guide: fc.constant(guide),
      current: factsArb(guide, 'current'),
      previous: fc.tuple(...Array.from({ length: n }, (_, i) => factsArb(guide, `p${i}`))),
    }),
  ),
);

describe('recommend over the preset guides and generated facts', () => {
  it('a red assessment always has a mandatory concern_report step', () => {
    fc.assert(
      fc.property(caseArb, ({ guide, current, previous }) => {
        fc.pre(current.zone === 'red');
        const r = recommend(current, previous, guide.definition);
        const reports = r.steps.filter((s) => s.mandatory && s.purpose === 'concern_report');
        expect(reports.length).toBeGreaterThan(0);
        expect(reports.every((s) => s.involve.includes('child_services'))).toBe(true);
      }),
      runs,
    );
  });

  it("a green assessment with no flags has exactly the guide's green steps (none)", () => {
    fc.assert(
      fc.property(caseArb, ({ guide, current, previous }) => {
        fc.pre(current.zone === 'green');
        const r = recommend(current, previous, guide.definition);
        fc.pre(r.flags.length === 0);
        expect(r.steps.filter((s) => s.source !== 'zone_change')).toEqual([]);
        expect(guide.definition.zones.green).toEqual([]);
        // the only possible step is informing the parents of an improvement
        for (const s of r.steps) expect(s.stepId).toBe('inform_parents');
        expect(r.steps.length).toBe(r.zoneChanged ? 1 : 0);
      }),
      runs,
    );
  });

  it('the same inputs always give deep-equal output, and the inputs are not changed', () => {
    fc.assert(
      fc.property(caseArb, ({ guide, current, previous }) => {
        const before = structuredClone({ current, previous, def: guide.definition });
        const a = recommend(current, previous, guide.definition);
        const b = recommend(
          structuredClone(current),
          structuredClone(previous),
          structuredClone(guide.definition),
        );
        expect(b).toEqual(a);
        expect({ current, previous, def: guide.definition }).toEqual(before);
      }),
      runs,
    );
  });

  it('the order of previous does not matter', () => {
    fc.assert(
      fc.property(
        caseArb.chain((c) =>
          fc.record({
            c: fc.constant(c),
            shuffled: fc.shuffledSubarray([...c.previous], {
              minLength: c.previous.length,
              maxLength: c.previous.length,
            }),
          }),
        ),
        ({ c, shuffled }) => {
          expect(recommend(c.current, shuffled, c.guide.definition)).toEqual(
            recommend(c.current, c.previous, c.guide.definition),
          );
        },
      ),
      runs,
    );
  });

  it('later assessments and the current one itself in previous change nothing', () => {
    fc.assert(
      fc.property(caseArb, ({ guide, current, previous }) => {
        const earlier = previous.filter((p) => compareDates(p.assessedOn, current.assessedOn) < 0);
        const later = previous
          .filter((p) => compareDates(p.assessedOn, current.assessedOn) > 0)
          .map((p, i) => ({ ...p, id: `zz${i}` }));
        expect(recommend(current, [...earlier, ...later, current], guide.definition)).toEqual(
          recommend(current, earlier, guide.definition),
        );
      }),
      runs,
    );
  });

  it("every step is due on or after the assessment, at the step's deadline", () => {
    fc.assert(
      fc.property(caseArb, ({ guide, current, previous }) => {
        const r = recommend(current, previous, guide.definition);
        const def = guide.definition;
        const all = [
          ...def.zones.green,
          ...def.zones.yellow,
          ...def.zones.red,
          def.trajectory.informParentsStep,
        ];
        for (const s of r.steps) {
          expect(compareDates(s.dueOn, current.assessedOn)).toBeGreaterThanOrEqual(0);
          const source = all.find((step) => step.id === s.stepId);
          expect(s.dueOn).toBe(addDays(current.assessedOn, source?.deadlineDays ?? -1));
        }
      }),
      runs,
    );
  });

  it('is total and well-formed: unique step ids and flag kinds, no steps without a zone', () => {
    fc.assert(
      fc.property(caseArb, ({ guide, current, previous }) => {
        const r = recommend(current, previous, guide.definition);
        expect(r.zone).toBe(current.zone);
        expect(new Set(r.steps.map((s) => s.stepId)).size).toBe(r.steps.length);
        expect(new Set(r.flags.map((f) => f.kind)).size).toBe(r.flags.length);
        expect(r.summary).toMatch(/^[A-Z][^\n]*\.$/);
        if (current.zone === null) {
          expect(r.steps).toEqual([]);
          expect(r.zoneChanged).toBe(false);
        }
        expect(r.flags.some((f) => f.kind === 'red_flag')).toBe(current.redFlags.length > 0);
        if (r.zoneChanged) expect(r.previousZone).not.toBe(current.zone);
        const abuse = current.redFlagCategories.some(
          (c) => c === 'violence' || c === 'sexual_abuse',
        );
        // red flags make the zone red; there, nothing involves the parents
        if (abuse && current.zone === 'red') {
          expect(r.steps.some((s) => s.involve.includes('parents'))).toBe(false);
        }
        if (current.zone !== 'yellow') {
          expect(r.steps.some((s) => s.source === 'escalation')).toBe(false);
        }
      }),
      runs,
    );
  });
});
