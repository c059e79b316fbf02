import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  type AdmissibilityFacts,
  admissibility,
  rulerDefects,
} from '../../src/domain/admissibility.js';
import { addDays } from '../../src/domain/dates.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';

// Issue 13, point 3: the rules that decide whether an assessment may be recorded are pure.

const round = {
  rulerVersionId: 'rv-round',
  windowStart: '2026-10-01',
  windowEnd: '2026-10-31',
  unitIds: [] as string[],
  unitKinds: [] as string[],
  bornFrom: '2020-10-01',
  bornTo: '2023-10-01',
};

const facts = (over: Partial<AdmissibilityFacts> = {}): AdmissibilityFacts => ({
  today: '2026-11-22',
  assessedOn: '2026-10-15',
  child: { birthDate: '2022-05-10' },
  unit: { id: 'u1', kind: 'kindergarten' },
  enrolments: [{ start: '2024-08-01', end: null }],
  round,
  ...over,
});

const codes = (f: AdmissibilityFacts) => admissibility(f).errors.map((e) => e.code);

describe('admissibility at the exact boundaries', () => {
  it('the assessment date: today is fine, tomorrow is in the future', () => {
    const noRound = { round: undefined, rulerVersionId: 'rv' };
    expect(codes(facts({ ...noRound, assessedOn: '2026-11-22' }))).toEqual([]);
    expect(codes(facts({ ...noRound, assessedOn: '2026-11-23' }))).toEqual(['future_date']);
  });

  it('the enrolment period includes its first and last day', () => {
    const enrolments = [{ start: '2026-10-10', end: '2026-10-20' }];
    expect(codes(facts({ enrolments, assessedOn: '2026-10-10' }))).toEqual([]);
    expect(codes(facts({ enrolments, assessedOn: '2026-10-20' }))).toEqual([]);
    expect(codes(facts({ enrolments, assessedOn: '2026-10-09' }))).toEqual(['outside_enrolment']);
    expect(codes(facts({ enrolments, assessedOn: '2026-10-21' }))).toEqual(['outside_enrolment']);
    expect(codes(facts({ enrolments: [] }))).toEqual(['outside_enrolment']);
  });

  it("the round's window includes its first and last day", () => {
    expect(codes(facts({ assessedOn: '2026-10-01' }))).toEqual([]);
    expect(codes(facts({ assessedOn: '2026-10-31' }))).toEqual([]);
    expect(codes(facts({ assessedOn: '2026-09-30' }))).toEqual(['outside_round_window']);
    expect(codes(facts({ assessedOn: '2026-11-01' }))).toEqual(['outside_round_window']);
  });

  it('born after bornFrom (exclusive) and on or before bornTo (inclusive)', () => {
    expect(codes(facts({ child: { birthDate: '2020-10-02' } }))).toEqual([]);
    expect(codes(facts({ child: { birthDate: '2020-10-01' } }))).toEqual(['child_not_in_round']);
    expect(codes(facts({ child: { birthDate: '2023-10-01' } }))).toEqual([]);
    expect(codes(facts({ child: { birthDate: '2023-10-02' } }))).toEqual(['child_not_in_round']);
    const open = { ...round, bornFrom: null, bornTo: null };
    expect(codes(facts({ round: open, child: { birthDate: '2026-01-01' } }))).toEqual([]);
  });

  it("the round's units and unit kinds", () => {
    expect(codes(facts({ round: { ...round, unitIds: ['u1'] } }))).toEqual([]);
    expect(codes(facts({ round: { ...round, unitIds: ['u2'] } }))).toEqual(['unit_not_in_round']);
    expect(codes(facts({ round: { ...round, unitKinds: ['kindergarten'] } }))).toEqual([]);
    expect(codes(facts({ round: { ...round, unitKinds: ['school'] } }))).toEqual([
      'unit_not_in_round',
    ]);
  });

  it("the ruler version: the round's wins; another one named is an error; none without a round", () => {
    expect(admissibility(facts()).rulerVersionId).toBe('rv-round');
    expect(codes(facts({ rulerVersionId: 'rv-round' }))).toEqual([]);
    expect(codes(facts({ rulerVersionId: 'rv-other' }))).toEqual(['not_the_rounds_ruler']);
    expect(admissibility(facts({ round: undefined })).rulerVersionId).toBeUndefined();
    expect(admissibility(facts({ round: undefined, rulerVersionId: 'rv' })).rulerVersionId).toBe(
      'rv',
    );
  });

  it('raters: exactly as many as the ruler requires is enough, one fewer is not', () => {
    const ruler = presetRulers.find((r) => r.definition.ratersRequired > 1)?.definition;
    if (!ruler) throw new Error('a preset ruler with a joint assessment');
    const rater: { name: string; rating?: undefined } = { name: 'A' };
    const rating = { overallLevel: 1, answers: {} };
    const enough = Array.from({ length: ruler.ratersRequired }, () => rater);
    const tooFew = enough.slice(1);
    const defectCodes = (raters: (typeof rater)[]) =>
      rulerDefects(ruler, { rating, redFlags: [], raters }).map((d) => d.code);
    expect(defectCodes(enough)).not.toContain('too_few_raters');
    expect(defectCodes(tooFew)).toContain('too_few_raters');
  });
});

describe('admissibility properties', () => {
  const day = fc.integer({ min: -60, max: 60 }).map((n) => addDays('2026-10-15', n));
  const arbitraryFacts = fc.record({
    assessedOn: day,
    today: day,
    start: day,
    end: fc.option(day, { nil: null }),
    windowStart: day,
    windowEnd: day,
    birth: fc.integer({ min: 0, max: 3000 }).map((n) => addDays('2018-01-01', n)),
    withRound: fc.boolean(),
    named: fc.constantFrom(undefined, 'rv-round', 'rv-other'),
    coversUnit: fc.boolean(),
  });

  it('no error exactly when every rule holds; the round decides the ruler version', () => {
    fc.assert(
      fc.property(arbitraryFacts, (a) => {
        const r = {
          ...round,
          windowStart: a.windowStart,
          windowEnd: a.windowEnd,
          unitIds: a.coversUnit ? [] : ['elsewhere'],
        };
        const f = facts({
          today: a.today,
          assessedOn: a.assessedOn,
          rulerVersionId: a.named,
          child: { birthDate: a.birth },
          enrolments: [{ start: a.start, end: a.end }],
          round: a.withRound ? r : undefined,
        });
        const result = admissibility(f);
        const holds =
          a.assessedOn <= a.today &&
          a.assessedOn >= a.start &&
          (a.end === null || a.assessedOn <= a.end) &&
          (!a.withRound ||
            ((a.named === undefined || a.named === 'rv-round') &&
              a.assessedOn >= a.windowStart &&
              a.assessedOn <= a.windowEnd &&
              a.coversUnit &&
              a.birth > round.bornFrom &&
              a.birth <= round.bornTo));
        expect(result.errors.length === 0).toBe(holds);
        expect(result.rulerVersionId).toBe(a.withRound ? 'rv-round' : a.named);
        const keys = result.errors.map((e) => `${e.path} ${e.code}`);
        expect(new Set(keys).size).toBe(keys.length);
      }),
      { numRuns: 500 },
    );
  });
});
