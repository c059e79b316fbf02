import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Schemas } from '../../clients/typescript/index.js';
import { classify } from '../../src/domain/rulers/classify.js';
import { presetRuler, presetRulers } from '../../src/domain/rulers/presets.js';
import { explain } from '../../src/web/app/explain.js';
import { catalogues, type MessageKey } from '../../src/web/app/messages.js';
import { createTranslator } from '../../src/web/shared/i18n.js';

const da = createTranslator<MessageKey>('da', catalogues);
const en = createTranslator<MessageKey>('en', catalogues);
const ZONE_WORD = {
  da: { green: 'grøn', yellow: 'gul', red: 'rød' },
  en: { green: 'green', yellow: 'yellow', red: 'red' },
};

function topi() {
  const preset = presetRuler('topi-3');
  if (!preset) throw new Error('topi-3 is missing');
  return preset.definition;
}

const asApi = (d: unknown) => d as Schemas['RulerDefinition'];
const asExplanation = (e: unknown) => e as Schemas['Explanation'];

describe('the explanation in the staff app', () => {
  it('names the joint position and its zone, in Danish and in English', () => {
    const def = topi();
    const c = classify(def, {
      joint: { overallLevel: 2, answers: {} },
      redFlags: [],
      raterRatings: [],
    });
    expect(explain(asExplanation(c.explanation), c.zone, asApi(def), da)).toEqual([
      'Den fælles vurdering er "2 bekymring", som ligger i gul zone.',
    ]);
    expect(explain(asExplanation(c.explanation), c.zone, asApi(def), en)).toEqual([
      'The joint assessment is "2 concern", which is in the yellow zone.',
    ]);
  });

  it('says a red flag decides, naming the indicator', () => {
    const def = topi();
    const c = classify(def, {
      joint: { overallLevel: 1, answers: {} },
      redFlags: ['violence'],
      raterRatings: [],
    });
    expect(explain(asExplanation(c.explanation), c.zone, asApi(def), da)[0]).toBe(
      'Rød zone, fordi der er markeret røde flag: tegn på vold.',
    );
  });

  it('says why there is no zone: no overall position, or too few answered indicators', () => {
    const def = topi();
    const none = classify(def, { joint: { answers: {} }, redFlags: [], raterRatings: [] });
    expect(explain(asExplanation(none.explanation), none.zone, asApi(def), da)).toEqual([
      'Ingen zone: der er ikke angivet en samlet vurdering.',
    ]);
    const scored = presetRulers.find((p) => p.definition.minAnsweredItems > 0)?.definition;
    if (!scored) throw new Error('no preset needs answered items');
    const few = classify(scored, { joint: { answers: {} }, redFlags: [], raterRatings: [] });
    expect(few.zone).toBeNull();
    expect(explain(asExplanation(few.explanation), few.zone, asApi(scored), da)[0]).toBe(
      `Ingen zone: der er kun vurderet 0 indikatorer, og linealen kræver mindst ${scored.minAnsweredItems}.`,
    );
  });

  it('reports the raters’ disagreement', () => {
    const def = topi();
    const c = classify(def, {
      joint: { overallLevel: 2, answers: {} },
      redFlags: [],
      raterRatings: [
        { overallLevel: 1, answers: {} },
        { overallLevel: 3, answers: {} },
      ],
    });
    const lines = explain(asExplanation(c.explanation), c.zone, asApi(def), da);
    expect(lines).toContain(
      'Vurdererne var uenige om den samlede vurdering: 1 trives / 3 stærk bekymring.',
    );
  });

  it('for any preset and any answers: some lines, no unfilled placeholder, the zone named', () => {
    const rating = (def: (typeof presetRulers)[number]['definition']) => {
      const levels = def.levels.map((l) => l.value);
      const rated = def.items.filter((i) => !i.redFlag);
      return fc.record({
        overallLevel: fc.option(fc.constantFrom(...levels), { nil: undefined }),
        answers: fc.record(
          Object.fromEntries(
            rated.map((i) => [
              i.key,
              fc.option(
                i.allowNotApplicable
                  ? fc.oneof(fc.constantFrom(...levels), fc.constant('na' as const))
                  : fc.constantFrom(...levels),
                { nil: undefined },
              ),
            ]),
          ),
        ),
      });
    };
    const scenario = fc.constantFrom(...presetRulers).chain((preset) =>
      fc.record({
        preset: fc.constant(preset),
        joint: rating(preset.definition),
        raters: fc.array(rating(preset.definition), { maxLength: 3 }),
        redFlags: fc.subarray(preset.definition.items.filter((i) => i.redFlag).map((i) => i.key)),
        lang: fc.constantFrom('da' as const, 'en' as const),
      }),
    );
    const clean = (r: { overallLevel?: number | undefined; answers: Record<string, unknown> }) => ({
      ...(r.overallLevel !== undefined ? { overallLevel: r.overallLevel } : {}),
      answers: Object.fromEntries(
        Object.entries(r.answers).filter(([, v]) => v !== undefined),
      ) as Record<string, number | 'na'>,
    });
    fc.assert(
      fc.property(scenario, ({ preset, joint, raters, redFlags, lang }) => {
        const def = preset.definition;
        const c = classify(def, {
          joint: clean(joint),
          redFlags,
          raterRatings: raters.map(clean),
        });
        const i18n = lang === 'da' ? da : en;
        const lines = explain(asExplanation(c.explanation), c.zone, asApi(def), i18n);
        expect(lines.length).toBeGreaterThan(0);
        for (const line of lines) expect(line).not.toMatch(/\{\w+\}/);
        const first = (lines[0] as string).toLowerCase();
        if (c.zone) expect(first).toContain(ZONE_WORD[lang][c.zone]);
        else expect(first).toMatch(lang === 'da' ? /^ingen zone/ : /^no zone/);
      }),
      { numRuns: 300 },
    );
  });
});
