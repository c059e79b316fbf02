import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, addMonths } from '../../src/domain/dates.js';
import {
  type AssessmentFacts,
  type GuideDefinition,
  GuideDefinitionSchema,
  type Recommendation,
  type RoundFacts,
} from '../../src/domain/guides/definition.js';
import { type PresetGuide, presetGuide, presetGuides } from '../../src/domain/guides/presets.js';
import { recommend } from '../../src/domain/guides/recommend.js';

// `persistent` needs the same non-green zone in consecutive rounds of the child's series: a
// round that covered the child and closed without an assessment breaks the series (issue 12,
// point 11: yellow, not assessed, yellow is not persistent).

const runs = { numRuns: 300 };
type Zone = 'green' | 'yellow' | 'red';
/** What happened to the child in a round: assessed in a zone (null: insufficient data), or missed. */
type Outcome = Zone | null | 'missed';

const topi = presetGuide('topi-3')?.definition as GuideDefinition;
const withRounds = (guide: GuideDefinition, persistentRounds: number) =>
  GuideDefinitionSchema.parse({
    ...guide,
    trajectory: { ...guide.trajectory, persistentRounds },
  });

/** Round i of a series: windows six months apart, each 61 days long. */
function round(i: number): RoundFacts {
  const windowStart = addMonths('2023-04-01', 6 * i);
  return { id: `r${i}`, windowStart, windowEnd: addDays(windowStart, 60) };
}

function assessed(i: number, zone: Zone | null, rulerKey = 'topi-3'): AssessmentFacts {
  const r = round(i);
  return {
    id: `a${i}`,
    assessedOn: addDays(r.windowStart, 10),
    roundId: r.id,
    roundStart: r.windowStart,
    rulerKey,
    higherIsBetter: false,
    zone,
    level: null,
    redFlagCategories: [],
    redFlags: [],
  };
}

/**
 * The series `history` (one outcome per round, in order) followed by the current assessment in
 * the next round: the facts and round list `recommend` gets.
 */
function series(history: readonly Outcome[], current: Zone, rulerKey = 'topi-3') {
  const previous = history.flatMap((outcome, i) =>
    outcome === 'missed' ? [] : [assessed(i, outcome, rulerKey)],
  );
  const rounds = [...history.map((_, i) => round(i)), round(history.length)];
  return { current: assessed(history.length, current, rulerKey), previous, rounds };
}

const kinds = (r: Recommendation) => r.flags.map((f) => f.kind);
const isPersistent = (r: Recommendation) => kinds(r).includes('persistent');

describe('persistent: examples at the boundaries', () => {
  it('yellow, missed, yellow: not persistent, no escalation, no concern report', () => {
    const { current, previous, rounds } = series(['yellow', 'missed'], 'yellow');
    const r = recommend(current, previous, topi, rounds);
    expect(kinds(r)).toEqual([]);
    expect(r.steps.some((s) => s.source === 'escalation')).toBe(false);
    expect(r.steps.some((s) => s.purpose === 'concern_report')).toBe(false);
    // Without the round list the missed round is invisible: the old, wrong answer.
    expect(kinds(recommend(current, previous, topi))).toEqual(['persistent']);
  });

  it('yellow, yellow: persistent, with red’s steps and the mandatory concern report', () => {
    const { current, previous, rounds } = series(['yellow'], 'yellow');
    const r = recommend(current, previous, topi, rounds);
    expect(kinds(r)).toEqual(['persistent']);
    expect(r.flags[0]?.reason).toBe('The child has been yellow in 2 consecutive rounds (r0, r1).');
    const report = r.steps.find((s) => s.purpose === 'concern_report');
    expect(report).toMatchObject({ mandatory: true, source: 'escalation' });
  });

  it('red, missed, red: not persistent (red’s own steps stay)', () => {
    const { current, previous, rounds } = series(['red', 'missed'], 'red');
    const r = recommend(current, previous, topi, rounds);
    expect(kinds(r)).toEqual([]);
    expect(r.steps.find((s) => s.purpose === 'concern_report')?.source).toBe('zone');
  });

  it('a round missed before the last two does not matter', () => {
    const { current, previous, rounds } = series(['missed', 'yellow'], 'yellow');
    expect(kinds(recommend(current, previous, topi, rounds))).toEqual(['persistent']);
  });

  it('a missed round is one whose window closed before the current assessment', () => {
    const { current, previous } = series(['yellow'], 'yellow');
    // A round between the two that is still open on the day of the current assessment: the
    // child may still be assessed in it, so it is not missed (yet) and left out.
    const between = (windowEnd: string): RoundFacts => ({
      id: 'between',
      windowStart: addDays(current.assessedOn, -20),
      windowEnd,
    });
    const rounds = (b: RoundFacts) => [round(0), b, round(1)];
    const on = current.assessedOn;
    expect(kinds(recommend(current, previous, topi, rounds(between(on))))).toEqual(['persistent']);
    expect(kinds(recommend(current, previous, topi, rounds(between(addDays(on, -1)))))).toEqual([]);
  });

  it('a round that starts after the current one (or is the current one) changes nothing', () => {
    const { current, previous, rounds } = series(['yellow'], 'yellow');
    const later = {
      id: 'later',
      windowStart: addDays(current.assessedOn, 1),
      windowEnd: '2099-01-01',
    };
    expect(kinds(recommend(current, previous, topi, [...rounds, later]))).toEqual(['persistent']);
    const earlyEnd = { ...round(1), windowEnd: addDays(current.assessedOn, -5) };
    expect(kinds(recommend(current, previous, topi, [round(0), earlyEnd]))).toEqual(['persistent']);
  });

  it('persistentRounds 3: a missed round anywhere in the last three breaks the series', () => {
    const three = withRounds(topi, 3);
    const run = (history: Outcome[]) => {
      const s = series(history, 'yellow');
      return kinds(recommend(s.current, s.previous, three, s.rounds));
    };
    expect(run(['yellow', 'yellow'])).toEqual(['persistent']);
    expect(run(['yellow', 'missed', 'yellow'])).toEqual([]);
    expect(run(['yellow', 'yellow', 'missed'])).toEqual([]);
    expect(run(['missed', 'yellow', 'yellow'])).toEqual(['persistent']);
    expect(run(['yellow', 'missed'])).toEqual([]);
  });

  it('a round with only insufficient data breaks the series, as before', () => {
    const { current, previous, rounds } = series(['yellow', null], 'yellow');
    expect(kinds(recommend(current, previous, topi, rounds))).toEqual([]);
  });
});

interface Case {
  guide: PresetGuide;
  persistentRounds: number;
  history: Outcome[];
  current: Zone;
}

const outcomeArb = fc.constantFrom<Outcome>('green', 'yellow', 'red', null, 'missed');

/** A preset guide, persistentRounds 2–4, a history of 0–7 rounds and the current zone. */
const caseArb: fc.Arbitrary<Case> = fc.record({
  guide: fc.constantFrom(...presetGuides),
  persistentRounds: fc.integer({ min: 2, max: 4 }),
  history: fc.array(outcomeArb, { maxLength: 7 }),
  current: fc.constantFrom<Zone>('green', 'yellow', 'red'),
});

/** `recommend` on the case's series; `rounds` may rework the round list it gets. */
function run(c: Case, rounds: (r: RoundFacts[]) => RoundFacts[] = (r) => r): Recommendation {
  const guide = withRounds(c.guide.definition, c.persistentRounds);
  const s = series(c.history, c.current, c.guide.rulerKey);
  return recommend(s.current, s.previous, guide, rounds(s.rounds));
}

describe('persistent: properties over generated round series', () => {
  it('persistent ⇔ the rounds right before the current one were all assessed in its zone', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const window = c.history.slice(c.history.length - (c.persistentRounds - 1));
        const expected =
          c.current !== 'green' &&
          c.history.length >= c.persistentRounds - 1 &&
          window.every((outcome) => outcome === c.current);
        expect(isPersistent(run(c))).toBe(expected);
      }),
      runs,
    );
  });

  it('a missed round among the last (persistentRounds − 1) never yields persistent', () => {
    fc.assert(
      fc.property(
        caseArb,
        fc.array(fc.constantFrom<Outcome>('yellow', 'red'), { maxLength: 3 }),
        fc.constantFrom<Zone>('yellow', 'red'),
        (c, tail, zone) => {
          fc.pre(tail.length < c.persistentRounds - 1);
          // e.g. yellow, missed, yellow — or yellow, missed, yellow, yellow with 3 rounds
          const r = run({ ...c, history: [...c.history, zone, 'missed', ...tail], current: zone });
          expect(isPersistent(r)).toBe(false);
          expect(r.steps.some((s) => s.source === 'escalation')).toBe(false);
          if (zone === 'yellow') {
            expect(r.steps.some((s) => s.purpose === 'concern_report')).toBe(false);
          }
        },
      ),
      runs,
    );
  });

  it('two consecutive yellows always are persistent (persistentRounds 2), whatever came before', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        const r = run({
          ...c,
          persistentRounds: 2,
          history: [...c.history, 'yellow'],
          current: 'yellow',
        });
        expect(isPersistent(r)).toBe(true);
        const reports = r.steps.filter((s) => s.purpose === 'concern_report' && s.mandatory);
        expect(reports.length).toBeGreaterThan(0);
      }),
      runs,
    );
  });

  it('the order and repetition of the round list do not matter', () => {
    fc.assert(
      fc.property(
        caseArb.chain((c) => {
          const rounds = series(c.history, c.current).rounds;
          return fc.record({
            c: fc.constant(c),
            reordered: fc.shuffledSubarray([...rounds, ...rounds], {
              minLength: rounds.length * 2,
              maxLength: rounds.length * 2,
            }),
            extra: fc.nat({ max: rounds.length }),
          });
        }),
        ({ c, reordered, extra }) => {
          const once = new Set<string>();
          // every round at least once, some twice, in any order
          const list = reordered.filter((r) => {
            if (!once.has(r.id)) return once.add(r.id);
            return reordered.indexOf(r) < extra;
          });
          expect(run(c, () => list)).toEqual(run(c));
        },
      ),
      runs,
    );
  });

  it('without a missed round, the round list changes nothing', () => {
    fc.assert(
      fc.property(caseArb, (c) => {
        fc.pre(!c.history.includes('missed'));
        expect(run(c)).toEqual(run(c, () => []));
      }),
      runs,
    );
  });

  it('rounds still open on the day of the current assessment change nothing', () => {
    fc.assert(
      fc.property(caseArb, fc.nat({ max: 150 }), fc.nat({ max: 400 }), (c, before, after) => {
        const s = series(c.history, c.current, c.guide.rulerKey);
        const open: RoundFacts = {
          id: 'still-open',
          windowStart: addDays(s.current.assessedOn, -before),
          windowEnd: addDays(s.current.assessedOn, after),
        };
        expect(run(c, (rounds) => [...rounds, open])).toEqual(run(c));
      }),
      runs,
    );
  });
});
