import { describe, expect, it } from 'vitest';
import { classify } from '../../src/domain/rulers/classify.js';
import type {
  Classification,
  Rating,
  RulerDefinition,
} from '../../src/domain/rulers/definition.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';
import { answerDefects, rulerDefects } from '../../src/domain/rulers/validate.js';

function preset(key: string): RulerDefinition {
  const found = presetRulers.find((p) => p.key === key);
  if (found === undefined) throw new Error(`no preset ${key}`);
  return found.definition;
}

function run(
  def: RulerDefinition,
  joint: Partial<Rating>,
  redFlags: string[] = [],
  raterRatings: Rating[] = [],
): Classification {
  const rating: Rating = { answers: {}, ...joint };
  // Every example input is valid for its ruler.
  expect(answerDefects(def, rating, redFlags, 'joint')).toEqual([]);
  return classify(def, { joint: rating, redFlags, raterRatings });
}

const wellbeingKeys = ['happy', 'safe', 'has_friends', 'takes_part', 'curious', 'self_esteem'];

/** Wellbeing answers in item order; missing entries are left unanswered. */
function wellbeing(...answers: (number | 'na')[]): Rating {
  const record: Record<string, number | 'na'> = {};
  answers.forEach((answer, i) => {
    record[wellbeingKeys[i] as string] = answer;
  });
  return { answers: record };
}

describe('preset rulers', () => {
  it('are the four presets of the domain brief', () => {
    expect(presetRulers.map((p) => p.key)).toEqual([
      'topi-3',
      'boernelineal-5',
      'signs-of-safety-0-10',
      'wellbeing-1-5',
    ]);
    for (const p of presetRulers) {
      expect(p.name.length).toBeGreaterThan(0);
      expect(p.description.length).toBeGreaterThan(0);
    }
  });

  it.each(presetRulers.map((p) => [p.key, p.definition] as const))(
    '%s has no defects',
    (_, def) => {
      expect(rulerDefects(def)).toEqual([]);
    },
  );

  it('all carry the violence and sexual-abuse red flags', () => {
    for (const p of presetRulers) {
      const flags = p.definition.items.filter((item) => item.redFlag);
      expect(flags.map((f) => [f.key, f.redFlagCategory, f.allowNotApplicable])).toEqual([
        ['violence', 'violence', false],
        ['sexual_abuse', 'sexual_abuse', false],
      ]);
    }
  });

  it('have the directions, rules and rater counts of the brief', () => {
    const shape = (key: string) => {
      const def = preset(key);
      return [def.higherIsBetter, def.rule.kind, def.ratersRequired, def.minAnsweredItems];
    };
    expect(shape('topi-3')).toEqual([false, 'assessor_position', 2, 0]);
    expect(shape('boernelineal-5')).toEqual([false, 'assessor_position', 1, 0]);
    expect(shape('signs-of-safety-0-10')).toEqual([true, 'assessor_position', 1, 0]);
    expect(shape('wellbeing-1-5')).toEqual([true, 'mean_of_items', 1, 4]);
  });
});

describe('topi-3', () => {
  const def = preset('topi-3');

  it('has the four TOPI aspects as optional rated items with N/A', () => {
    const rated = def.items.filter((item) => !item.redFlag);
    expect(rated.map((item) => [item.key, item.label.da, item.allowNotApplicable])).toEqual([
      ['social_skills', 'sociale kompetencer', true],
      ['safety_and_care', 'tryghed og omsorg fra voksne', true],
      ['participation', 'deltagelse i fællesskabet', true],
      ['self_esteem', 'selvværd', true],
    ]);
  });

  it.each([
    [1, 'green', 'Green: the assessors placed the child at level 1 (trives).'],
    [2, 'yellow', 'Yellow: the assessors placed the child at level 2 (bekymring).'],
    [3, 'red', 'Red: the assessors placed the child at level 3 (stærk bekymring).'],
  ] as const)('level %i is %s', (level, zone, summary) => {
    const result = run(def, { overallLevel: level });
    expect(result.zone).toBe(zone);
    expect(result.level).toBe(level);
    expect(result.score).toBeNull();
    expect(result.explanation).toMatchObject({
      rule: 'assessor_position',
      outcome: 'classified',
      decisiveLevel: level,
      summary,
    });
  });

  it('gives no zone without an overall level, whatever the aspects say', () => {
    const result = run(def, {
      answers: { social_skills: 1, safety_and_care: 1, participation: 1, self_esteem: 1 },
    });
    expect(result.zone).toBeNull();
    expect(result.level).toBeNull();
    expect(result.explanation.outcome).toBe('insufficient_data');
    expect(result.explanation.summary).toBe('No zone: no overall level was given.');
  });

  it('accepts partial and N/A aspects next to the overall level', () => {
    const result = run(def, {
      overallLevel: 2,
      answers: { social_skills: 2, safety_and_care: 'na' },
    });
    expect(result.zone).toBe('yellow');
    expect(result.explanation.answeredItems).toBe(1);
    expect(result.explanation.notApplicableItems).toBe(1);
  });

  it('is red with a red flag whatever the position, and says so', () => {
    const result = run(def, { overallLevel: 1 }, ['violence']);
    expect(result.zone).toBe('red');
    expect(result.level).toBe(1);
    expect(result.explanation.outcome).toBe('red_flag');
    expect(result.explanation.redFlags).toEqual(['violence']);
    expect(result.explanation.summary).toMatch(
      /^Red: red flag 'violence' reported, whatever the score/,
    );
  });

  it('is red with a red flag even without an overall level', () => {
    const result = run(def, {}, ['sexual_abuse', 'violence']);
    expect(result.zone).toBe('red');
    expect(result.level).toBeNull();
    expect(result.explanation.outcome).toBe('red_flag');
    expect(result.explanation.redFlags).toEqual(['violence', 'sexual_abuse']);
    expect(result.explanation.summary).toContain("red flags 'violence' and 'sexual_abuse'");
  });

  it('records rater disagreement of more than one level, not of one', () => {
    const far = run(
      def,
      { overallLevel: 2 },
      [],
      [
        { overallLevel: 1, answers: {} },
        { overallLevel: 3, answers: {} },
      ],
    );
    expect(far.explanation.disagreements).toEqual([{ subject: 'overall', levels: [1, 3] }]);
    expect(far.explanation.summary).toContain('disagree');
    const near = run(
      def,
      { overallLevel: 2 },
      [],
      [
        { overallLevel: 1, answers: {} },
        { overallLevel: 2, answers: {} },
      ],
    );
    expect(near.explanation.disagreements).toEqual([]);
    expect(near.explanation.summary).not.toContain('disagree');
  });
});

describe('boernelineal-5', () => {
  const def = preset('boernelineal-5');

  it.each([
    [1, 'green', 'trivsel'],
    [2, 'yellow', 'faldende trivsel'],
    [3, 'yellow', 'sårbar'],
    [4, 'red', 'udsat'],
    [5, 'red', 'truet'],
  ] as const)('level %i is %s', (level, zone, label) => {
    const result = run(def, { overallLevel: level });
    expect(result.zone).toBe(zone);
    expect(result.level).toBe(level);
    expect(result.explanation.summary).toContain(`level ${level} (${label})`);
  });

  it('has the English labels of the brief', () => {
    expect(def.levels.map((level) => level.label.en)).toEqual([
      'thriving',
      'declining well-being',
      'vulnerable',
      'exposed',
      'at risk',
    ]);
  });
});

describe('signs-of-safety-0-10', () => {
  const def = preset('signs-of-safety-0-10');

  it.each([
    [0, 'red'],
    [3, 'red'],
    [4, 'yellow'],
    [6, 'yellow'],
    [7, 'green'],
    [10, 'green'],
  ] as const)('boundary %i is %s', (level, zone) => {
    expect(run(def, { overallLevel: level }).zone).toBe(zone);
  });

  it('maps every point of the scale (higher is better)', () => {
    const zones = Array.from({ length: 11 }, (_, v) => run(def, { overallLevel: v }).zone);
    expect(zones).toEqual([
      'red',
      'red',
      'red',
      'red',
      'yellow',
      'yellow',
      'yellow',
      'green',
      'green',
      'green',
      'green',
    ]);
  });

  it('labels the ends of the scale', () => {
    expect(def.levels[0]?.label).toEqual({ da: '0 – sikker skade', en: '0 – certain harm' });
    expect(def.levels[10]?.label).toEqual({ da: '10 – sikker nok', en: '10 – safe enough' });
    expect(def.levels[5]?.label).toEqual({ da: '5', en: '5' });
  });

  it('is red with a red flag even at 10', () => {
    expect(run(def, { overallLevel: 10 }, ['violence']).zone).toBe('red');
  });
});

describe('wellbeing-1-5', () => {
  const def = preset('wellbeing-1-5');

  it.each([
    ['four 3s, two N/A: exactly 3.00', wellbeing(3, 3, 3, 3, 'na', 'na'), 'yellow', 3],
    ['six 3s: exactly 3.00', wellbeing(3, 3, 3, 3, 3, 3), 'yellow', 3],
    ['five 3s and a 2: 2.83, the closest below 3', wellbeing(3, 3, 3, 3, 3, 2), 'red', 2.83],
    ['three 3s and a 2: 2.75', wellbeing(3, 3, 3, 2), 'red', 2.75],
    ['four 4s: exactly 4.00', wellbeing(4, 4, 4, 4), 'green', 4],
    ['five 4s and a 3: 3.83, the closest below 4', wellbeing(4, 4, 4, 4, 4, 3), 'yellow', 3.83],
    ['four 4s and a 3: 3.80', wellbeing(4, 4, 4, 4, 3), 'yellow', 3.8],
    ['six 5s: 5.00, the top of the range', wellbeing(5, 5, 5, 5, 5, 5), 'green', 5],
    ['four 5s: 5.00', wellbeing(5, 5, 5, 5), 'green', 5],
    ['six 1s: 1.00, the bottom', wellbeing(1, 1, 1, 1, 1, 1), 'red', 1],
    ['mixed 5, 4, 3, 2, 1, 3: 3.00', wellbeing(5, 4, 3, 2, 1, 3), 'yellow', 3],
  ] as const)('%s', (_, joint, zone, score) => {
    const result = run(def, joint);
    expect(result.zone).toBe(zone);
    expect(result.score).toBe(score);
    expect(result.level).toBeNull();
    expect(result.explanation.score).toBe(score);
    expect(result.explanation.band?.zone).toBe(zone);
    expect(result.explanation.outcome).toBe('classified');
  });

  it('leaves N/A out of the denominator', () => {
    // Counting N/A as answered would give 16/6 = 2.67 (red).
    const result = run(def, wellbeing(4, 4, 4, 4, 'na', 'na'));
    expect(result.zone).toBe('green');
    expect(result.score).toBe(4);
    expect(result.explanation.answeredItems).toBe(4);
    expect(result.explanation.notApplicableItems).toBe(2);
    expect(result.explanation.decisiveItems).toEqual([
      'happy',
      'has_friends',
      'safe',
      'takes_part',
    ]);
    expect(result.explanation.summary).toBe(
      'Green: the mean of 4 answered items is 4.00, in the green band [4, 5].',
    );
  });

  it('gives no zone, never green, with too few answered items', () => {
    const result = run(def, wellbeing(5, 5, 5, 'na', 'na', 'na'));
    expect(result.zone).toBeNull();
    expect(result.score).toBeNull();
    expect(result.explanation.outcome).toBe('insufficient_data');
    expect(result.explanation.summary).toBe(
      'No zone: 3 of 6 items answered (3 not applicable), at least 4 needed.',
    );
  });

  it('gives no zone with partial answers below the minimum, and a zone at the minimum', () => {
    const three = run(def, wellbeing(2, 2, 2));
    expect(three.zone).toBeNull();
    expect(three.explanation.summary).toBe('No zone: 3 of 6 items answered, at least 4 needed.');
    const four = run(def, wellbeing(2, 2, 2, 2));
    expect(four.zone).toBe('red');
    expect(four.explanation.answeredItems).toBe(4);
  });

  it('gives no zone with nothing answered', () => {
    const result = run(def, {});
    expect(result.zone).toBeNull();
    expect(result.explanation.outcome).toBe('insufficient_data');
  });

  it('is red with a red flag whatever the score, keeping the score', () => {
    const result = run(def, wellbeing(5, 5, 5, 5, 5, 5), ['sexual_abuse']);
    expect(result.zone).toBe('red');
    expect(result.score).toBe(5);
    expect(result.explanation.band?.zone).toBe('green');
    expect(result.explanation.outcome).toBe('red_flag');
    expect(result.explanation.summary).toMatch(
      /^Red: red flag 'sexual_abuse' reported, whatever the score; without it, the mean/,
    );
  });

  it('is red with a red flag even with insufficient data', () => {
    const result = run(def, wellbeing(5), ['violence']);
    expect(result.zone).toBe('red');
    expect(result.score).toBeNull();
    expect(result.explanation.outcome).toBe('red_flag');
    expect(result.explanation.summary).toContain('there would be no zone');
  });

  it('records item disagreement of more than one level, ignoring N/A and missing answers', () => {
    const result = run(
      def,
      wellbeing(3, 3, 3, 3),
      [],
      [
        { answers: { happy: 2, safe: 4, has_friends: 2, takes_part: 'na' } },
        { answers: { happy: 4, safe: 3, has_friends: 3, takes_part: 5 } },
        { answers: { happy: 3 } },
      ],
    );
    expect(result.explanation.disagreements).toEqual([{ subject: 'happy', levels: [2, 3, 4] }]);
    expect(result.explanation.summary).toContain(
      'disagree by more than one level on happy (2, 3, 4)',
    );
  });
});
