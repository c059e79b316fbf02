import { describe, expect, it } from 'vitest';
import { GuideDefinitionSchema } from '../../src/domain/guides/definition.js';
import { presetGuide, presetGuides } from '../../src/domain/guides/presets.js';
import { guideDefects } from '../../src/domain/guides/validate.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';

describe('preset guides', () => {
  it('are one guide per preset ruler, keyed by the ruler key', () => {
    expect(presetGuides.map((g) => g.key)).toEqual(presetRulers.map((r) => r.key));
    for (const guide of presetGuides) {
      expect(guide.rulerKey).toBe(guide.key);
      expect(guide.name.length).toBeGreaterThan(0);
      expect(guide.description.length).toBeGreaterThan(0);
    }
  });

  it.each(presetGuides.map((g) => [g.key, g] as const))(
    '%s parses through the schema unchanged and has no defects',
    (_, guide) => {
      expect(GuideDefinitionSchema.parse(guide.definition)).toEqual(guide.definition);
      expect(guideDefects(guide.definition)).toEqual([]);
    },
  );

  it('follow the domain brief: no green steps, five yellow, six red', () => {
    const def = presetGuides[0]?.definition;
    expect(def).toBeDefined();
    if (def === undefined) return;
    expect(def.zones.green).toEqual([]);
    expect(def.zones.yellow.map((s) => [s.id, s.deadlineDays, s.responsible])).toEqual([
      ['parents_dialogue', 14, 'unit_staff'],
      ['inform_unit_leader', 7, 'unit_staff'],
      ['focus_plan', 30, 'unit_leader'],
      ['consider_sparring', 30, 'unit_leader'],
      ['reassess', 90, 'unit_staff'],
    ]);
    expect(
      def.zones.red.map((s) => [s.id, s.deadlineDays, s.mandatory, s.purpose, s.conditions]),
    ).toEqual([
      ['involve_unit_leader', 0, true, 'other', {}],
      [
        'parents_meeting',
        7,
        false,
        'other',
        { unlessRedFlagCategories: ['violence', 'sexual_abuse'] },
      ],
      ['interdisciplinary_meeting', 14, false, 'other', {}],
      [
        'concern_report',
        3,
        true,
        'concern_report',
        { unlessRedFlagCategories: ['violence', 'sexual_abuse'] },
      ],
      [
        'concern_report_immediate',
        0,
        true,
        'concern_report',
        { whenRedFlagCategories: ['violence', 'sexual_abuse'] },
      ],
      [
        'police_if_acute',
        0,
        false,
        'other',
        { whenRedFlagCategories: ['violence', 'sexual_abuse'] },
      ],
    ]);
    const report = def.zones.red.find((s) => s.id === 'concern_report');
    expect(report?.legalReference).toBe('Barnets Lov § 133');
    expect(report?.involve).toContain('child_services');
    expect(def.zones.red.find((s) => s.id === 'police_if_acute')?.involve).toContain('police');
    expect(def.zones.yellow.find((s) => s.id === 'parents_dialogue')?.involve).toEqual([
      'parents',
      'unit_staff',
      'child',
    ]);
    expect(def.trajectory).toMatchObject({
      informParentsOnZoneChange: true,
      deteriorationLevelDrop: 2,
      persistentRounds: 2,
      escalateOnPersistent: true,
      informParentsStep: {
        id: 'inform_parents',
        deadlineDays: 7,
        responsible: 'unit_staff',
        involve: ['parents'],
        purpose: 'inform_parents',
        conditions: { unlessRedFlagCategories: ['violence', 'sexual_abuse'] },
      },
    });
  });

  it('carry Danish and English titles and descriptions', () => {
    for (const guide of presetGuides) {
      const steps = [
        ...guide.definition.zones.yellow,
        ...guide.definition.zones.red,
        guide.definition.trajectory.informParentsStep,
      ];
      for (const step of steps) {
        expect(step.title.da).not.toBe(step.title.en);
        expect(step.description.da).not.toBe(step.description.en);
      }
    }
  });

  it('presetGuide finds a guide by ruler key', () => {
    expect(presetGuide('boernelineal-5')?.key).toBe('boernelineal-5');
    expect(presetGuide('unknown')).toBeUndefined();
  });
});
