import { describe, expect, it } from 'vitest';
import { classify } from '../../src/domain/rulers/classify.js';
import {
  type ClassificationInput,
  type Rating,
  type RulerDefinition,
  type RulerDefinitionInput,
  RulerDefinitionSchema,
} from '../../src/domain/rulers/definition.js';
import { rulerDefects } from '../../src/domain/rulers/validate.js';

type LevelInput = RulerDefinitionInput['levels'][number];
const lv = (value: number, zone: 'green' | 'yellow' | 'red'): LevelInput => ({
  value,
  label: { da: `niveau ${value}`, en: `level ${value}` },
  zone,
});
const items = (n: number, allowNotApplicable = true) =>
  Array.from({ length: n }, (_, i) => ({
    key: `i${String(i).padStart(3, '0')}`,
    label: { da: `punkt ${i}`, en: `item ${i}` },
    allowNotApplicable,
  }));
const violence = {
  key: 'violence',
  label: { da: 'tegn på vold', en: 'signs of violence' },
  redFlag: true,
  redFlagCategory: 'violence' as const,
};

function ruler(input: RulerDefinitionInput): RulerDefinition {
  const def = RulerDefinitionSchema.parse(input);
  expect(rulerDefects(def)).toEqual([]);
  return def;
}

function answers(...values: (number | 'na' | undefined)[]): Rating {
  const record: Record<string, number | 'na'> = {};
  values.forEach((value, i) => {
    if (value !== undefined) record[`i${String(i).padStart(3, '0')}`] = value;
  });
  return { answers: record };
}

const joint = (rating: Rating, redFlags: string[] = []): ClassificationInput => ({
  joint: rating,
  redFlags,
  raterRatings: [],
});

describe('worst_domain', () => {
  // Higher is worse: 1 green, 2 yellow, 3–4 red.
  const worse = ruler({
    levels: [lv(1, 'green'), lv(2, 'yellow'), lv(3, 'red'), lv(4, 'red')],
    higherIsBetter: false,
    items: [...items(4), violence],
    rule: { kind: 'worst_domain' },
    minAnsweredItems: 2,
  });
  // Higher is better: 0 red, 1 yellow, 2 green.
  const better = ruler({
    levels: [lv(0, 'red'), lv(1, 'yellow'), lv(2, 'green')],
    higherIsBetter: true,
    items: items(3),
    rule: { kind: 'worst_domain' },
  });

  it('takes the highest level when higher is worse, naming all items at it', () => {
    const result = classify(worse, joint(answers(1, 3, 2, 3)));
    expect(result.zone).toBe('red');
    expect(result.level).toBe(3);
    expect(result.score).toBeNull();
    expect(result.explanation).toMatchObject({
      outcome: 'classified',
      decisiveLevel: 3,
      decisiveItems: ['i001', 'i003'],
      answeredItems: 4,
      summary: 'Red: the worst-rated items, i001 and i003, are at level 3 (niveau 3).',
    });
  });

  it('takes the lowest level when higher is better', () => {
    const result = classify(better, joint(answers(2, 1, 2)));
    expect(result.zone).toBe('yellow');
    expect(result.level).toBe(1);
    expect(result.explanation.decisiveItems).toEqual(['i001']);
    expect(result.explanation.summary).toBe(
      'Yellow: the worst-rated item, i001, is at level 1 (niveau 1).',
    );
  });

  it('ignores N/A answers', () => {
    const result = classify(worse, joint(answers(1, 'na', 2, 'na')));
    expect(result.zone).toBe('yellow');
    expect(result.explanation.notApplicableItems).toBe(2);
  });

  it('gives no zone below the minimum and with nothing answered (minimum 0)', () => {
    const few = classify(worse, joint(answers(1, 'na', 'na')));
    expect(few.zone).toBeNull();
    expect(few.level).toBeNull();
    expect(few.explanation.outcome).toBe('insufficient_data');
    expect(few.explanation.summary).toBe(
      'No zone: 1 of 4 items answered (2 not applicable), at least 2 needed.',
    );
    const none = classify(better, joint(answers()));
    expect(none.zone).toBeNull();
    expect(none.explanation.summary).toBe('No zone: 0 of 3 items answered, at least 1 needed.');
  });

  it('is red with a red flag, keeping the decisive level', () => {
    const result = classify(worse, joint(answers(1, 1), ['violence']));
    expect(result.zone).toBe('red');
    expect(result.level).toBe(1);
    expect(result.explanation.decisiveItems).toEqual(['i000', 'i001']);
    expect(result.explanation.outcome).toBe('red_flag');
  });
});

describe('sum_of_items', () => {
  // Four items on 1..5, higher is better: sum range [4, 20].
  const def = ruler({
    levels: [lv(1, 'red'), lv(2, 'red'), lv(3, 'yellow'), lv(4, 'green'), lv(5, 'green')],
    higherIsBetter: true,
    items: items(4),
    rule: {
      kind: 'sum_of_items',
      bands: [
        { zone: 'red', min: 4, max: 10 },
        { zone: 'yellow', min: 10, max: 15 },
        { zone: 'green', min: 15, max: 20 },
      ],
    },
    minAnsweredItems: 2,
  });

  it.each([
    [[1, 1, 1, 1], 'red', 4],
    [[3, 3, 2, 1], 'red', 9],
    [[3, 3, 3, 1], 'yellow', 10],
    [[4, 4, 4, 2], 'yellow', 14],
    [[4, 4, 4, 3], 'green', 15],
    [[5, 5, 5, 5], 'green', 20],
  ] as const)('sum of %j is %s', (values, zone, score) => {
    const result = classify(def, joint(answers(...values)));
    expect(result.zone).toBe(zone);
    expect(result.score).toBe(score);
    expect(result.explanation.summary).toContain(`the sum of 4 items is ${score.toFixed(2)}`);
  });

  it('prorates the sum over the rated items when some are N/A', () => {
    // 3 + 4 + 3 = 10 over 3 answered → 10 × 4 / 3 = 13.33 (yellow); unprorated 10 would be too.
    const result = classify(def, joint(answers(3, 4, 3, 'na')));
    expect(result.score).toBe(13.33);
    expect(result.zone).toBe('yellow');
    expect(result.explanation.summary).toBe(
      'Yellow: the sum prorated from 3 of 4 items is 13.33, in the yellow band [10, 15).',
    );
    // 4 + 4 = 8 over 2 answered → 16 (green), where the raw sum 8 would be red.
    expect(classify(def, joint(answers(4, 'na', 4, 'na'))).zone).toBe('green');
    // Missing answers prorate too; 5 + 5 → 20, exactly the top.
    const top = classify(def, joint(answers(5, undefined, 5)));
    expect(top.score).toBe(20);
    expect(top.zone).toBe('green');
  });

  it('compares prorated sums with the band edges exactly', () => {
    // 5 + 5 + 5 = 15 → 15 × 4 / 3 = 20: top edge included.
    expect(classify(def, joint(answers(5, 5, 5, 'na'))).zone).toBe('green');
    // 3 + 3 + 3 = 9 → 9 × 4 / 3 = 12 (yellow); 2 + 3 + 3 = 8 → 10.67 (yellow); 2 + 2 + 3 = 7 → 9.33.
    expect(classify(def, joint(answers(3, 3, 3, 'na'))).score).toBe(12);
    expect(classify(def, joint(answers(2, 3, 3, 'na'))).zone).toBe('yellow');
    expect(classify(def, joint(answers(2, 2, 3, 'na'))).zone).toBe('red');
    // 4 + 4 + 3 = 11 → 14.67 (yellow); 4 + 4 + 4 = 12 → 16 (green).
    expect(classify(def, joint(answers(4, 4, 3, 'na'))).zone).toBe('yellow');
    expect(classify(def, joint(answers(4, 4, 4, 'na'))).zone).toBe('green');
  });
});

describe('mean_of_items: exact boundaries', () => {
  it('compares the exact quotient with a fractional band edge (11/5 is 2.2, not 2.1999…)', () => {
    const def = ruler({
      levels: [lv(1, 'red'), lv(2, 'red'), lv(3, 'green'), lv(4, 'green'), lv(5, 'green')],
      higherIsBetter: true,
      items: items(5),
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'red', min: 1, max: 2.2 },
          { zone: 'green', min: 2.2, max: 5 },
        ],
      },
    });
    // Adding 0.2 + 0.4 + … fifths one by one would drift; the single division 11/5 does not.
    const at = classify(def, joint(answers(2, 2, 2, 2, 3)));
    expect(at.zone).toBe('green');
    expect(at.score).toBe(2.2);
    expect(classify(def, joint(answers(2, 2, 2, 2, 2))).zone).toBe('red');
  });

  it('keeps 2.995 below 3 although it displays as 3.00', () => {
    const def = ruler({
      levels: [lv(1, 'red'), lv(2, 'red'), lv(3, 'yellow'), lv(4, 'green'), lv(5, 'green')],
      higherIsBetter: true,
      items: items(200),
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'red', min: 1, max: 3 },
          { zone: 'yellow', min: 3, max: 4 },
          { zone: 'green', min: 4, max: 5 },
        ],
      },
    });
    const values = Array.from({ length: 200 }, (_, i) => (i === 0 ? 2 : 3));
    const below = classify(def, joint(answers(...values)));
    expect(below.zone).toBe('red');
    expect(below.score).toBe(3);
    expect(below.explanation.summary).toContain('3.00 (below 3)');
    // 2.99 exactly: two 2s among 200.
    const twoNinetyNine = classify(def, joint(answers(...values.map((v, i) => (i < 2 ? 2 : v)))));
    expect(twoNinetyNine.score).toBe(2.99);
    expect(twoNinetyNine.zone).toBe('red');
    expect(classify(def, joint(answers(...values.map(() => 3)))).zone).toBe('yellow');
  });

  it('rounds the displayed score half away from zero, from the exact quotient', () => {
    const def = ruler({
      levels: [lv(-2, 'red'), lv(-1, 'red'), lv(0, 'yellow'), lv(1, 'green'), lv(2, 'green')],
      higherIsBetter: true,
      items: items(8),
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'red', min: -2, max: 0 },
          { zone: 'green', min: 0, max: 2 },
        ],
      },
    });
    // Sum 1 over 8 items → 0.125 → 0.13; sum −1 → −0.125 → −0.13; sum 0 → 0, never −0.
    expect(classify(def, joint(answers(1, 0, 0, 0, 0, 0, 0, 0))).score).toBe(0.13);
    expect(classify(def, joint(answers(-1, 0, 0, 0, 0, 0, 0, 0))).score).toBe(-0.13);
    const zero = classify(def, joint(answers(1, -1, 0, 0, 0, 0, 0, 0)));
    expect(Object.is(zero.score, 0)).toBe(true);
    expect(zero.zone).toBe('green');
  });
});

describe('assessor_position with a minimum of answered items', () => {
  const def = ruler({
    levels: [lv(1, 'green'), lv(2, 'yellow'), lv(3, 'red')],
    higherIsBetter: false,
    items: [...items(3), violence],
    rule: { kind: 'assessor_position' },
    minAnsweredItems: 2,
  });

  it('needs the minimum of answered items as well as the overall level', () => {
    const few = classify(def, joint({ overallLevel: 1, answers: answers(1, 'na').answers }));
    expect(few.zone).toBeNull();
    expect(few.explanation.outcome).toBe('insufficient_data');
    expect(few.explanation.summary).toBe(
      'No zone: 1 of 3 items answered (1 not applicable), at least 2 needed.',
    );
    const enough = classify(def, joint({ overallLevel: 1, answers: answers(1, 2).answers }));
    expect(enough.zone).toBe('green');
    expect(enough.explanation.decisiveItems).toEqual([]);
  });

  it('is red with a red flag even with too few answers', () => {
    const result = classify(def, joint({ answers: {} }, ['violence']));
    expect(result.zone).toBe('red');
    expect(result.explanation.outcome).toBe('red_flag');
    expect(result.explanation.summary).toBe(
      "Red: red flag 'violence' reported, whatever the score; without it, there would be no zone " +
        '(0 of 3 items answered, at least 2 needed).',
    );
  });
});

describe('disagreement', () => {
  const def = ruler({
    levels: [lv(1, 'green'), lv(2, 'yellow'), lv(3, 'yellow'), lv(4, 'red'), lv(5, 'red')],
    higherIsBetter: false,
    items: [
      { key: 'zeta', label: { da: 'z', en: 'z' }, allowNotApplicable: true },
      { key: 'alpha', label: { da: 'a', en: 'a' } },
    ],
    rule: { kind: 'assessor_position' },
    ratersRequired: 2,
  });

  it('records subjects where raters differ by more than one level, overall first, then by key', () => {
    const result = classify(def, {
      joint: { overallLevel: 3, answers: { zeta: 2, alpha: 2 } },
      redFlags: [],
      raterRatings: [
        { overallLevel: 2, answers: { zeta: 1, alpha: 3 } },
        { overallLevel: 4, answers: { zeta: 3, alpha: 1 } },
        { overallLevel: 2, answers: { zeta: 'na' } },
      ],
    });
    expect(result.explanation.disagreements).toEqual([
      { subject: 'overall', levels: [2, 4] },
      { subject: 'alpha', levels: [1, 3] },
      { subject: 'zeta', levels: [1, 3] },
    ]);
    expect(result.explanation.summary).toBe(
      'Yellow: the assessors placed the child at level 3 (niveau 3); the raters disagree by more ' +
        'than one level on overall (2, 4), alpha (1, 3) and zeta (1, 3).',
    );
  });

  it('records nothing for one level apart, a single rater, or N/A against a level', () => {
    const result = classify(def, {
      joint: { overallLevel: 3, answers: {} },
      redFlags: [],
      raterRatings: [
        { overallLevel: 2, answers: { zeta: 'na', alpha: 5 } },
        { overallLevel: 3, answers: { zeta: 5 } },
      ],
    });
    expect(result.explanation.disagreements).toEqual([]);
    expect(
      classify(def, joint({ overallLevel: 1, answers: {} })).explanation.disagreements,
    ).toEqual([]);
  });
});

describe('robustness', () => {
  const def = ruler({
    levels: [lv(1, 'red'), lv(2, 'yellow'), lv(3, 'green')],
    higherIsBetter: true,
    items: [...items(2, false), violence],
    rule: {
      kind: 'mean_of_items',
      bands: [
        { zone: 'red', min: 1, max: 2 },
        { zone: 'yellow', min: 2, max: 2.5 },
        { zone: 'green', min: 2.5, max: 3 },
      ],
    },
  });

  it('ignores unknown keys, levels off the ruler and red flags given as answers', () => {
    const result = classify(def, {
      joint: { answers: { i000: 3, i001: 9, nope: 1, violence: 3, toString: 1 } },
      redFlags: [],
      raterRatings: [],
    });
    expect(result.zone).toBe('green');
    expect(result.score).toBe(3);
    expect(result.explanation.answeredItems).toBe(1);
  });

  it('treats an unknown reported red flag as red (safety first) and deduplicates flags', () => {
    const result = classify(def, {
      joint: { answers: { i000: 3, i001: 3 } },
      redFlags: ['zzz', 'violence', 'violence'],
      raterRatings: [],
    });
    expect(result.zone).toBe('red');
    expect(result.explanation.redFlags).toEqual(['violence', 'zzz']);
  });

  it('gives no zone, without throwing, on a defective ruler whose bands miss the score', () => {
    const broken: RulerDefinition = {
      ...def,
      rule: { kind: 'mean_of_items', bands: [{ zone: 'red', min: 1, max: 2 }] },
    };
    const result = classify(broken, joint(answers(3, 3)));
    expect(result.zone).toBeNull();
    expect(result.explanation.outcome).toBe('insufficient_data');
    expect(result.explanation.summary).toContain('falls in no band');
  });

  it('does not mutate its input', () => {
    const input = joint({ answers: { i001: 2, i000: 3 } }, ['violence']);
    const copy = structuredClone(input);
    const defCopy = structuredClone(def);
    classify(def, input);
    expect(input).toEqual(copy);
    expect(def).toEqual(defCopy);
  });
});
