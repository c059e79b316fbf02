import { describe, expect, it } from 'vitest';
import {
  type RulerDefinition,
  type RulerDefinitionInput,
  RulerDefinitionSchema,
} from '../../src/domain/rulers/definition.js';
import { rulerDefects } from '../../src/domain/rulers/validate.js';

type LevelInput = RulerDefinitionInput['levels'][number];
type ItemInput = NonNullable<RulerDefinitionInput['items']>[number];

const lv = (value: number, zone: 'green' | 'yellow' | 'red'): LevelInput => ({
  value,
  label: { da: `niveau ${value}`, en: `level ${value}` },
  zone,
});
const rated = (key: string, extra: Partial<ItemInput> = {}): ItemInput => ({
  key,
  label: { da: key, en: key },
  ...extra,
});
const flag = (key: string, extra: Partial<ItemInput> = {}): ItemInput => ({
  key,
  label: { da: key, en: key },
  redFlag: true,
  redFlagCategory: 'violence',
  ...extra,
});

/** A valid mean ruler on 1..5 (higher is better) with three rated items and a red flag. */
const base: RulerDefinitionInput = {
  levels: [lv(1, 'red'), lv(2, 'red'), lv(3, 'yellow'), lv(4, 'green'), lv(5, 'green')],
  higherIsBetter: true,
  items: [rated('a'), rated('b'), rated('c'), flag('violence')],
  rule: {
    kind: 'mean_of_items',
    bands: [
      { zone: 'red', min: 1, max: 3 },
      { zone: 'yellow', min: 3, max: 4 },
      { zone: 'green', min: 4, max: 5 },
    ],
  },
  minAnsweredItems: 2,
};

function ruler(overrides: Partial<RulerDefinitionInput> = {}): RulerDefinition {
  return RulerDefinitionSchema.parse({ ...base, ...overrides });
}

function codesAndPaths(def: RulerDefinition): [string, string][] {
  return rulerDefects(def).map((d) => [d.code, d.path]);
}

describe('rulerDefects', () => {
  it('finds nothing wrong with a valid ruler', () => {
    expect(rulerDefects(ruler())).toEqual([]);
  });

  it('explains every defect in a sentence', () => {
    const defects = rulerDefects(
      ruler({ levels: [lv(1, 'green'), lv(3, 'green'), lv(3, 'green')] }),
    );
    expect(defects.length).toBeGreaterThan(0);
    for (const d of defects) expect(d.message).toMatch(/^[A-Z'].*[.]$/);
  });

  describe('levels', () => {
    it('reports a duplicate level value at the second occurrence', () => {
      const def = ruler({
        levels: [lv(1, 'red'), lv(2, 'yellow'), lv(2, 'yellow'), lv(3, 'green')],
        rule: { kind: 'assessor_position' },
      });
      const defects = rulerDefects(def);
      expect(codesAndPaths(def)).toEqual([['level_duplicate', 'levels.2.value']]);
      expect(defects[0]?.message).toContain('2');
    });

    it('reports a gap, naming the missing values', () => {
      const def = ruler({
        levels: [lv(1, 'red'), lv(2, 'red'), lv(5, 'yellow'), lv(6, 'green')],
        rule: { kind: 'assessor_position' },
      });
      const defects = rulerDefects(def);
      expect(codesAndPaths(def)).toEqual([['level_gap', 'levels']]);
      expect(defects[0]?.message).toContain('3, 4');
    });

    it('reports levels not listed in ascending order', () => {
      const def = ruler({
        levels: [lv(2, 'red'), lv(1, 'red'), lv(3, 'yellow'), lv(4, 'green'), lv(5, 'green')],
      });
      expect(codesAndPaths(def)).toEqual([['levels_not_ascending', 'levels.1.value']]);
    });

    it('reports zones that get worse in the better direction (higher is better)', () => {
      const def = ruler({
        levels: [lv(1, 'red'), lv(2, 'yellow'), lv(3, 'red'), lv(4, 'green'), lv(5, 'green')],
      });
      expect(codesAndPaths(def)).toEqual([['level_zones_not_monotone', 'levels.2.zone']]);
    });

    it('reports zones that get better going up when higher is worse', () => {
      const def = ruler({
        higherIsBetter: false,
        levels: [lv(1, 'green'), lv(2, 'red'), lv(3, 'yellow')],
        rule: { kind: 'assessor_position' },
      });
      expect(codesAndPaths(def)).toEqual([['level_zones_not_monotone', 'levels.2.zone']]);
      // The same levels reversed in direction are fine.
      expect(
        rulerDefects(
          ruler({
            higherIsBetter: false,
            levels: [lv(1, 'green'), lv(2, 'yellow'), lv(3, 'red')],
            rule: { kind: 'assessor_position' },
          }),
        ),
      ).toEqual([]);
    });

    it('requires at least two zones but not all three', () => {
      const one = ruler({
        levels: [lv(1, 'yellow'), lv(2, 'yellow')],
        rule: { kind: 'assessor_position' },
      });
      expect(codesAndPaths(one)).toEqual([['too_few_zones', 'levels']]);
      const two = ruler({
        levels: [lv(1, 'red'), lv(2, 'green')],
        rule: { kind: 'assessor_position' },
      });
      expect(rulerDefects(two)).toEqual([]);
    });
  });

  describe('items', () => {
    it('reports duplicate item keys', () => {
      const def = ruler({ items: [rated('a'), rated('b'), rated('a'), flag('violence')] });
      expect(codesAndPaths(def)).toEqual([['item_key_duplicate', 'items.2.key']]);
    });

    it('reports a red-flag category on an item that is not a red flag', () => {
      const def = ruler({
        items: [rated('a', { redFlagCategory: 'neglect' }), rated('b'), flag('violence')],
      });
      expect(codesAndPaths(def)).toEqual([
        ['red_flag_category_without_red_flag', 'items.0.redFlagCategory'],
      ]);
    });

    it('reports a red flag that allows N/A', () => {
      const def = ruler({
        items: [rated('a'), rated('b'), flag('violence', { allowNotApplicable: true })],
      });
      expect(codesAndPaths(def)).toEqual([
        ['red_flag_not_applicable', 'items.2.allowNotApplicable'],
      ]);
    });

    it('accepts any domain text and red flags without a category', () => {
      const def = ruler({
        items: [
          rated('a', { domain: 'social_skills' }),
          rated('b', { domain: 'x' }),
          flag('other_flag', { redFlagCategory: undefined }),
        ],
      });
      expect(rulerDefects(def)).toEqual([]);
    });
  });

  describe('rules', () => {
    const rules: [string, RulerDefinitionInput['rule']][] = [
      ['worst_domain', { kind: 'worst_domain' }],
      ['mean_of_items', base.rule],
      ['sum_of_items', { kind: 'sum_of_items', bands: [{ zone: 'red', min: 0, max: 1 }] }],
    ];
    it.each(rules)('%s needs a rated item', (_, rule) => {
      const def = ruler({ rule, items: [flag('violence')], minAnsweredItems: 0 });
      expect(codesAndPaths(def)).toEqual([['no_rated_items', 'items']]);
    });

    it('assessor_position needs no items', () => {
      const def = ruler({ rule: { kind: 'assessor_position' }, items: [], minAnsweredItems: 0 });
      expect(rulerDefects(def)).toEqual([]);
    });

    it('reports minAnsweredItems above the number of rated items (red flags do not count)', () => {
      const def = ruler({ minAnsweredItems: 4 });
      expect(codesAndPaths(def)).toEqual([['min_answered_exceeds_rated', 'minAnsweredItems']]);
      expect(rulerDefects(ruler({ minAnsweredItems: 3 }))).toEqual([]);
    });

    it('allows assessor_position a minimum of 0 up to the rated count, not above', () => {
      const rule = { kind: 'assessor_position' } as const;
      expect(rulerDefects(ruler({ rule, minAnsweredItems: 0 }))).toEqual([]);
      expect(rulerDefects(ruler({ rule, minAnsweredItems: 3 }))).toEqual([]);
      expect(codesAndPaths(ruler({ rule, minAnsweredItems: 4 }))).toEqual([
        ['min_answered_exceeds_rated', 'minAnsweredItems'],
      ]);
    });

    it('reports ratersRequired below one (for definitions that skipped the schema)', () => {
      const def = { ...ruler(), ratersRequired: 0 };
      expect(codesAndPaths(def)).toEqual([['raters_required_too_low', 'ratersRequired']]);
    });
  });

  describe('bands', () => {
    const bands = (...list: [string, number, number][]) =>
      list.map(([zone, min, max]) => ({ zone: zone as 'red' | 'yellow' | 'green', min, max }));
    const mean = (...list: [string, number, number][]) =>
      ruler({ rule: { kind: 'mean_of_items', bands: bands(...list) } });
    const sum = (...list: [string, number, number][]) =>
      ruler({ rule: { kind: 'sum_of_items', bands: bands(...list) } });

    it('accept bands in any order', () => {
      expect(rulerDefects(mean(['green', 4, 5], ['red', 1, 3], ['yellow', 3, 4]))).toEqual([]);
    });

    it('use the sum range [min × n, max × n] for sums', () => {
      expect(rulerDefects(sum(['red', 3, 9], ['yellow', 9, 12], ['green', 12, 15]))).toEqual([]);
      expect(codesAndPaths(sum(['red', 1, 3], ['yellow', 3, 4], ['green', 4, 5]))).toEqual([
        ['band_range_start', 'rule.bands.0.min'],
        ['band_range_end', 'rule.bands.2.max'],
      ]);
    });

    it('reports an empty band', () => {
      const def = mean(['red', 1, 3], ['yellow', 3, 3], ['green', 3, 5]);
      expect(codesAndPaths(def)).toEqual([['band_empty', 'rule.bands.1.max']]);
    });

    it('reports a band range that does not start at the lowest score', () => {
      const def = mean(['red', 1.5, 3], ['yellow', 3, 4], ['green', 4, 5]);
      const defects = rulerDefects(def);
      expect(codesAndPaths(def)).toEqual([['band_range_start', 'rule.bands.0.min']]);
      expect(defects[0]?.message).toContain('1.5');
    });

    it('reports a band range that does not end at the highest score', () => {
      const def = mean(['red', 1, 3], ['yellow', 3, 4], ['green', 4, 4.5]);
      expect(codesAndPaths(def)).toEqual([['band_range_end', 'rule.bands.2.max']]);
    });

    it('reports a gap between bands, naming both and the values', () => {
      const def = mean(['red', 1, 3], ['yellow', 3.5, 4], ['green', 4, 5]);
      const defects = rulerDefects(def);
      expect(codesAndPaths(def)).toEqual([['band_gap', 'rule.bands.1.min']]);
      expect(defects[0]?.message).toContain('band 0');
      expect(defects[0]?.message).toContain('band 1');
      expect(defects[0]?.message).toContain('from 3 up to 3.5');
    });

    it('reports overlapping bands, naming both and the values', () => {
      const def = mean(['red', 1, 3.2], ['yellow', 3, 4], ['green', 4, 5]);
      const defects = rulerDefects(def);
      expect(codesAndPaths(def)).toEqual([['band_overlap', 'rule.bands.1.min']]);
      expect(defects[0]?.message).toMatch(/band 0 \(red, 1 to 3.2\)/i);
      expect(defects[0]?.message).toMatch(/band 1 \(yellow, 3 to 4\)/i);
      expect(defects[0]?.message).toContain('from 3 to 3.2');
    });

    it('reports band zones that are not monotone in the ruler direction', () => {
      const def = mean(['red', 1, 3], ['green', 3, 4], ['yellow', 4, 5]);
      expect(codesAndPaths(def)).toEqual([['band_zones_not_monotone', 'rule.bands.2.zone']]);
      const worse = ruler({
        higherIsBetter: false,
        levels: [lv(1, 'green'), lv(2, 'green'), lv(3, 'yellow'), lv(4, 'red'), lv(5, 'red')],
        rule: {
          kind: 'mean_of_items',
          bands: bands(['green', 1, 3], ['red', 3, 4], ['yellow', 4, 5]),
        },
      });
      expect(codesAndPaths(worse)).toEqual([['band_zones_not_monotone', 'rule.bands.2.zone']]);
    });
  });

  it('reports every defect at once', () => {
    const def = ruler({
      levels: [lv(1, 'red'), lv(3, 'green'), lv(2, 'red')],
      items: [
        rated('a', { redFlagCategory: 'other' }),
        rated('a'),
        flag('violence', { allowNotApplicable: true }),
      ],
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'green', min: 1, max: 2 },
          { zone: 'red', min: 2.5, max: 4 },
        ],
      },
      minAnsweredItems: 5,
    });
    expect(codesAndPaths(def)).toEqual([
      ['levels_not_ascending', 'levels.2.value'],
      ['red_flag_category_without_red_flag', 'items.0.redFlagCategory'],
      ['item_key_duplicate', 'items.1.key'],
      ['red_flag_not_applicable', 'items.2.allowNotApplicable'],
      ['min_answered_exceeds_rated', 'minAnsweredItems'],
      ['band_gap', 'rule.bands.1.min'],
      ['band_zones_not_monotone', 'rule.bands.1.zone'],
      ['band_range_end', 'rule.bands.1.max'],
    ]);
  });
});
