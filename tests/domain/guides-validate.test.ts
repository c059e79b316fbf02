import { describe, expect, it } from 'vitest';
import type { GuideDefinition, Step } from '../../src/domain/guides/definition.js';
import { presetGuide } from '../../src/domain/guides/presets.js';
import { guideDefectCodes, guideDefects } from '../../src/domain/guides/validate.js';

/** A fresh copy of the TOPI preset guide (valid) to break. */
function base(): GuideDefinition {
  const guide = presetGuide('topi-3');
  if (guide === undefined) throw new Error('no topi-3 guide');
  return structuredClone(guide.definition);
}

function step(def: GuideDefinition, zone: 'green' | 'yellow' | 'red', index: number): Step {
  const found = def.zones[zone][index];
  if (found === undefined) throw new Error(`no step ${zone}.${index}`);
  return found;
}

function codesAndPaths(def: GuideDefinition): [string, string][] {
  return guideDefects(def).map((d) => [d.code, d.path]);
}

describe('guideDefects', () => {
  it('finds nothing wrong with the preset guide', () => {
    expect(guideDefects(base())).toEqual([]);
  });

  it('allows an empty green zone and green steps alike', () => {
    const def = base();
    def.zones.green = [{ ...step(def, 'yellow', 4), id: 'keep_up' }];
    expect(guideDefects(def)).toEqual([]);
  });

  it('duplicate step ids within a zone', () => {
    const def = base();
    step(def, 'red', 2).id = 'involve_unit_leader';
    expect(codesAndPaths(def)).toEqual([['step_id_duplicate', 'zones.red.2.id']]);
    expect(guideDefects(def)[0]?.message).toBe(
      "Step id 'involve_unit_leader' is already used by step 0 of the red zone.",
    );
  });

  it('the same id in two zones is fine', () => {
    const def = base();
    step(def, 'red', 2).id = 'reassess';
    expect(guideDefects(def)).toEqual([]);
  });

  it('when and unless categories that overlap', () => {
    const def = base();
    step(def, 'red', 5).conditions.unlessRedFlagCategories = ['sexual_abuse', 'neglect'];
    expect(codesAndPaths(def)).toEqual([['step_conditions_overlap', 'zones.red.5.conditions']]);
    expect(guideDefects(def)[0]?.message).toContain('sexual_abuse');
  });

  it('a concern-report step not involving child services', () => {
    const def = base();
    step(def, 'yellow', 1).purpose = 'concern_report';
    expect(codesAndPaths(def)).toEqual([
      ['concern_report_without_child_services', 'zones.yellow.1.involve'],
    ]);
  });

  it('no mandatory concern report without red flags (and for neglect, other)', () => {
    const def = base();
    step(def, 'red', 3).mandatory = false;
    expect(codesAndPaths(def)).toEqual([
      ['red_without_concern_report', 'zones.red'],
      ['red_without_concern_report', 'zones.red'],
      ['red_without_concern_report', 'zones.red'],
    ]);
    expect(guideDefects(def).map((d) => d.message)).toEqual([
      expect.stringContaining('without red flags'),
      expect.stringContaining('category neglect'),
      expect.stringContaining('category other'),
    ]);
  });

  it('no concern report for violence or sexual abuse', () => {
    const def = base();
    def.zones.red.splice(4, 1);
    expect(guideDefects(def).map((d) => [d.code, d.message])).toEqual([
      ['red_without_concern_report', expect.stringContaining('category violence')],
      ['red_without_concern_report', expect.stringContaining('category sexual_abuse')],
    ]);
  });

  it('a concern report only on first entry into the red zone does not count', () => {
    const def = base();
    step(def, 'red', 3).conditions.firstEntryIntoZone = true;
    expect(codesAndPaths(def)).toHaveLength(3);
    expect(new Set(guideDefects(def).map((d) => d.code))).toEqual(
      new Set(['red_without_concern_report']),
    );
  });

  it('a concern report only for a category leaves the others uncovered', () => {
    const def = base();
    const report = step(def, 'red', 3);
    report.conditions = { whenRedFlagCategories: ['neglect'] };
    expect(guideDefects(def).map((d) => d.message)).toEqual([
      expect.stringContaining('without red flags'),
      expect.stringContaining('category other'),
    ]);
  });

  it('an empty red zone', () => {
    const def = base();
    def.zones.red = [];
    expect(codesAndPaths(def)).toEqual(
      Array.from({ length: 5 }, () => ['red_without_concern_report', 'zones.red']),
    );
  });

  it('an inform-parents step with another purpose', () => {
    const def = base();
    def.trajectory.informParentsStep.purpose = 'other';
    expect(codesAndPaths(def)).toEqual([
      ['inform_parents_step_purpose', 'trajectory.informParentsStep.purpose'],
    ]);
  });

  it('an inform-parents step that does not involve the parents', () => {
    const def = base();
    def.trajectory.informParentsStep.involve = ['unit_staff'];
    expect(codesAndPaths(def)).toEqual([
      ['inform_parents_step_without_parents', 'trajectory.informParentsStep.involve'],
    ]);
  });

  it('checks the inform-parents step like any other step', () => {
    const def = base();
    def.trajectory.informParentsStep.conditions = {
      whenRedFlagCategories: ['other'],
      unlessRedFlagCategories: ['other'],
    };
    expect(codesAndPaths(def)).toEqual([
      ['step_conditions_overlap', 'trajectory.informParentsStep.conditions'],
    ]);
  });

  it('lists several defects at once, in a stable order', () => {
    const def = base();
    step(def, 'yellow', 3).id = 'parents_dialogue';
    step(def, 'yellow', 0).conditions.whenRedFlagCategories = ['violence'];
    step(def, 'red', 3).involve = ['unit_leader'];
    step(def, 'red', 4).mandatory = false;
    def.trajectory.informParentsStep.purpose = 'concern_report';
    def.trajectory.informParentsStep.involve = ['unit_staff'];
    expect(codesAndPaths(def)).toEqual([
      ['step_conditions_overlap', 'zones.yellow.0.conditions'],
      ['step_id_duplicate', 'zones.yellow.3.id'],
      ['concern_report_without_child_services', 'zones.red.3.involve'],
      ['red_without_concern_report', 'zones.red'],
      ['red_without_concern_report', 'zones.red'],
      ['concern_report_without_child_services', 'trajectory.informParentsStep.involve'],
      ['inform_parents_step_purpose', 'trajectory.informParentsStep.purpose'],
      ['inform_parents_step_without_parents', 'trajectory.informParentsStep.involve'],
    ]);
    for (const d of guideDefects(def)) {
      expect(guideDefectCodes).toContain(d.code);
      expect(d.message).toMatch(/^[A-Z].*\.$/);
    }
  });
});
