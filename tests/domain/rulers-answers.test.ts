import { describe, expect, it } from 'vitest';
import type { RulerDefinition } from '../../src/domain/rulers/definition.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';
import { answerDefects } from '../../src/domain/rulers/validate.js';

function preset(key: string): RulerDefinition {
  const found = presetRulers.find((p) => p.key === key);
  if (found === undefined) throw new Error(`no preset ${key}`);
  return found.definition;
}

const topi = preset('topi-3');
const wellbeing = preset('wellbeing-1-5');

const codesAndPaths = (defects: { code: string; path: string }[]) =>
  defects.map((d) => [d.code, d.path]);

describe('answerDefects', () => {
  it('accepts a valid rating with N/A where allowed and known red flags', () => {
    expect(
      answerDefects(
        topi,
        { overallLevel: 3, answers: { social_skills: 2, self_esteem: 'na' } },
        ['violence', 'sexual_abuse'],
        'joint',
      ),
    ).toEqual([]);
    expect(answerDefects(topi, { answers: {} }, [], 'joint')).toEqual([]);
  });

  it('reports an unknown item', () => {
    const defects = answerDefects(topi, { overallLevel: 1, answers: { homework: 1 } }, [], 'joint');
    expect(codesAndPaths(defects)).toEqual([['unknown_item', 'joint.answers.homework']]);
    expect(defects[0]?.message).toContain("'homework'");
  });

  it('reports an overall level outside the ruler', () => {
    const defects = answerDefects(topi, { overallLevel: 4, answers: {} }, [], 'joint');
    expect(codesAndPaths(defects)).toEqual([['unknown_level', 'joint.overallLevel']]);
    expect(defects[0]?.message).toContain('levels 1, 2, 3');
  });

  it('reports an answer outside the ruler', () => {
    const defects = answerDefects(wellbeing, { answers: { happy: 0, safe: 6 } }, [], 'raters.1');
    expect(codesAndPaths(defects)).toEqual([
      ['unknown_level', 'raters.1.answers.happy'],
      ['unknown_level', 'raters.1.answers.safe'],
    ]);
  });

  it('reports N/A on an item that does not allow it', () => {
    const strict: RulerDefinition = {
      ...wellbeing,
      items: wellbeing.items.map((item) =>
        item.key === 'happy' ? { ...item, allowNotApplicable: false } : item,
      ),
    };
    const defects = answerDefects(strict, { answers: { happy: 'na', safe: 'na' } }, [], 'joint');
    expect(codesAndPaths(defects)).toEqual([['not_applicable_not_allowed', 'joint.answers.happy']]);
  });

  it('reports a red flag given as an answer, pointing to redFlags', () => {
    const defects = answerDefects(topi, { overallLevel: 1, answers: { violence: 3 } }, [], 'joint');
    expect(codesAndPaths(defects)).toEqual([['red_flag_in_answers', 'joint.answers.violence']]);
    expect(defects[0]?.message).toContain('redFlags');
  });

  it('reports an unknown red flag and a rated item given as a red flag', () => {
    const defects = answerDefects(
      topi,
      { answers: {} },
      ['violence', 'bullying', 'self_esteem'],
      'joint',
    );
    expect(codesAndPaths(defects)).toEqual([
      ['unknown_red_flag', 'redFlags.1'],
      ['unknown_red_flag', 'redFlags.2'],
    ]);
    expect(defects[0]?.message).toContain("'violence', 'sexual_abuse'");
  });

  it('reports a red flag reported twice', () => {
    const defects = answerDefects(topi, { answers: {} }, ['violence', 'violence'], 'joint');
    expect(codesAndPaths(defects)).toEqual([['red_flag_duplicate', 'redFlags.1']]);
  });

  it('reports everything at once, and works without a prefix', () => {
    const defects = answerDefects(
      topi,
      { overallLevel: 0, answers: { nope: 1, social_skills: 9, sexual_abuse: 1 } },
      ['x'],
      '',
    );
    expect(codesAndPaths(defects)).toEqual([
      ['unknown_level', 'overallLevel'],
      ['unknown_item', 'answers.nope'],
      ['unknown_level', 'answers.social_skills'],
      ['red_flag_in_answers', 'answers.sexual_abuse'],
      ['unknown_red_flag', 'redFlags.0'],
    ]);
  });
});
