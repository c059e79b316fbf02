import { describe, expect, it } from 'vitest';
import {
  type AssessmentFacts,
  type GuideDefinition,
  GuideDefinitionSchema,
  type Recommendation,
} from '../../src/domain/guides/definition.js';
import { presetGuide, presetGuides } from '../../src/domain/guides/presets.js';
import { recommend } from '../../src/domain/guides/recommend.js';

type Zone = 'green' | 'yellow' | 'red';

/** Per preset ruler: its direction and a level in each zone (null for the score ruler). */
const rulerFacts: Record<string, { higherIsBetter: boolean; levels: Record<Zone, number | null> }> =
  {
    'topi-3': { higherIsBetter: false, levels: { green: 1, yellow: 2, red: 3 } },
    'boernelineal-5': { higherIsBetter: false, levels: { green: 1, yellow: 2, red: 4 } },
    'signs-of-safety-0-10': { higherIsBetter: true, levels: { green: 8, yellow: 5, red: 2 } },
    'wellbeing-1-5': { higherIsBetter: true, levels: { green: null, yellow: null, red: null } },
  };

function guideFor(rulerKey: string): GuideDefinition {
  const guide = presetGuide(rulerKey);
  if (guide === undefined) throw new Error(`no preset guide ${rulerKey}`);
  return guide.definition;
}

/** Facts on `rulerKey` in `zone`, with the ruler's level for that zone unless given. */
function facts(
  rulerKey: string,
  zone: Zone | null,
  extra: Partial<AssessmentFacts> = {},
): AssessmentFacts {
  const ruler = rulerFacts[rulerKey];
  if (ruler === undefined) throw new Error(`no ruler ${rulerKey}`);
  return {
    id: 'a1',
    assessedOn: '2025-05-01',
    roundId: null,
    roundStart: null,
    rulerKey,
    higherIsBetter: ruler.higherIsBetter,
    zone,
    level: zone === null ? null : ruler.levels[zone],
    redFlagCategories: [],
    redFlags: [],
    ...extra,
  };
}

const violence = { redFlags: ['violence'], redFlagCategories: ['violence'] };

const ids = (r: Recommendation) => r.steps.map((s) => s.stepId);
const kinds = (r: Recommendation) => r.flags.map((f) => f.kind);
const sources = (r: Recommendation) => r.steps.map((s) => [s.stepId, s.source]);

const yellowIds = [
  'parents_dialogue',
  'inform_unit_leader',
  'focus_plan',
  'consider_sparring',
  'reassess',
];
const redIds = [
  'involve_unit_leader',
  'parents_meeting',
  'interdisciplinary_meeting',
  'concern_report',
];

describe.each(presetGuides.map((g) => g.key))('recommend with the %s guide', (key) => {
  const guide = guideFor(key);

  it('green, first assessment: no steps and no flags', () => {
    const r = recommend(facts(key, 'green'), [], guide);
    expect(r).toEqual({
      zone: 'green',
      previousZone: null,
      zoneChanged: false,
      flags: [],
      steps: [],
      summary: 'Green: no steps; no flags.',
    });
  });

  it("yellow, first assessment: the yellow zone's steps with their deadlines", () => {
    const r = recommend(facts(key, 'yellow'), [], guide);
    expect(ids(r)).toEqual(yellowIds);
    expect(r.steps.every((s) => s.source === 'zone')).toBe(true);
    expect(r.steps.map((s) => s.dueOn)).toEqual([
      '2025-05-15',
      '2025-05-08',
      '2025-05-31',
      '2025-05-31',
      '2025-07-30',
    ]);
    expect(r.steps[0]).toMatchObject({
      stepId: 'parents_dialogue',
      involve: ['parents', 'unit_staff', 'child'],
      responsible: 'unit_staff',
      mandatory: false,
      legalReference: null,
      purpose: 'other',
    });
    expect(r.flags).toEqual([]);
    expect(r.zoneChanged).toBe(false);
    expect(r.summary).toBe('Yellow: 5 steps, 0 mandatory; no flags.');
  });

  it('red, first assessment: leader the same day and a mandatory concern report in 3 days', () => {
    const r = recommend(facts(key, 'red'), [], guide);
    expect(ids(r)).toEqual(redIds);
    const report = r.steps.find((s) => s.stepId === 'concern_report');
    expect(report).toMatchObject({
      mandatory: true,
      purpose: 'concern_report',
      legalReference: 'Barnets Lov § 133',
      responsible: 'unit_leader',
      involve: ['child_services'],
      dueOn: '2025-05-04',
      source: 'zone',
    });
    expect(r.steps[0]).toMatchObject({ stepId: 'involve_unit_leader', dueOn: '2025-05-01' });
    expect(r.flags).toEqual([]);
    expect(r.summary).toBe('Red: 4 steps, 2 mandatory; no flags.');
  });

  it('red with violence: immediate report, police, and nothing that informs the parents', () => {
    const previous = [facts(key, 'green', { id: 'a0', assessedOn: '2024-11-01' })];
    const r = recommend(facts(key, 'red', violence), previous, guide);
    expect(r.zoneChanged).toBe(true);
    expect(r.previousZone).toBe('green');
    expect(ids(r)).toEqual([
      'involve_unit_leader',
      'interdisciplinary_meeting',
      'concern_report_immediate',
      'police_if_acute',
    ]);
    expect(r.steps.find((s) => s.stepId === 'concern_report_immediate')).toMatchObject({
      mandatory: true,
      purpose: 'concern_report',
      dueOn: '2025-05-01',
      involve: ['child_services'],
    });
    expect(r.steps.find((s) => s.stepId === 'police_if_acute')).toMatchObject({
      mandatory: false,
      involve: ['police'],
      dueOn: '2025-05-01',
    });
    expect(ids(r)).not.toContain('parents_meeting');
    expect(ids(r)).not.toContain('inform_parents');
    expect(kinds(r)).toEqual(['deterioration', 'red_flag']);
    expect(r.flags[1]?.reason).toContain('violence');
  });

  it('red with sexual abuse on a first assessment is handled like violence', () => {
    const r = recommend(
      facts(key, 'red', { redFlags: ['sexual_abuse'], redFlagCategories: ['sexual_abuse'] }),
      [],
      guide,
    );
    expect(ids(r)).toEqual([
      'involve_unit_leader',
      'interdisciplinary_meeting',
      'concern_report_immediate',
      'police_if_acute',
    ]);
  });

  it('red with a neglect flag keeps the ordinary concern report and the parents meeting', () => {
    const r = recommend(
      facts(key, 'red', { redFlags: ['neglect_signs'], redFlagCategories: ['neglect'] }),
      [],
      guide,
    );
    expect(ids(r)).toEqual(redIds);
    expect(kinds(r)).toEqual(['red_flag']);
  });

  it('insufficient data: no steps, no zone change, asks to complete the assessment', () => {
    const previous = [facts(key, 'yellow', { id: 'a0', assessedOn: '2024-11-01' })];
    const r = recommend(facts(key, null), previous, guide);
    expect(r).toEqual({
      zone: null,
      previousZone: 'yellow',
      zoneChanged: false,
      flags: [],
      steps: [],
      summary:
        'Insufficient data: complete the assessment to get a zone and recommended steps; no flags.',
    });
  });

  it('insufficient data with red flags (inconsistent input) only raises red_flag', () => {
    const r = recommend(facts(key, null, violence), [], guide);
    expect(kinds(r)).toEqual(['red_flag']);
    expect(r.steps).toEqual([]);
  });

  it('green → yellow → yellow → red over four rounds', () => {
    const round = (n: number, zone: Zone, assessedOn: string, roundStart: string) =>
      facts(key, zone, { id: `a${n}`, roundId: `r${n}`, roundStart, assessedOn });
    const a1 = round(1, 'green', '2025-04-10', '2025-04-01');
    const a2 = round(2, 'yellow', '2025-10-15', '2025-10-01');
    const a3 = round(3, 'yellow', '2026-04-20', '2026-04-01');
    const a4 = round(4, 'red', '2026-10-12', '2026-10-01');

    const first = recommend(a1, [], guide);
    expect(first.steps).toEqual([]);
    expect(first.flags).toEqual([]);

    const second = recommend(a2, [a1], guide);
    expect(second.zoneChanged).toBe(true);
    expect(sources(second)).toEqual([
      ...yellowIds.map((id) => [id, 'zone']),
      ['inform_parents', 'zone_change'],
    ]);
    expect(second.steps.at(-1)).toMatchObject({
      purpose: 'inform_parents',
      involve: ['parents'],
      dueOn: '2025-10-22',
    });
    expect(kinds(second)).toEqual(['deterioration']);
    expect(second.flags[0]?.reason).toContain('from green to yellow');

    const third = recommend(a3, [a2, a1], guide);
    expect(third.zoneChanged).toBe(false);
    expect(kinds(third)).toEqual(['persistent']);
    expect(third.flags[0]?.reason).toBe(
      'The child has been yellow in 2 consecutive rounds (r2, r3).',
    );
    expect(sources(third)).toEqual([
      ...yellowIds.map((id) => [id, 'zone']),
      ...redIds.map((id) => [id, 'escalation']),
    ]);
    expect(third.steps.find((s) => s.stepId === 'concern_report')?.mandatory).toBe(true);

    const fourth = recommend(a4, [a3, a1, a2], guide);
    expect(fourth.zoneChanged).toBe(true);
    expect(fourth.previousZone).toBe('yellow');
    expect(sources(fourth)).toEqual([
      ...redIds.map((id) => [id, 'zone']),
      ['inform_parents', 'zone_change'],
    ]);
    expect(fourth.steps.find((s) => s.stepId === 'concern_report')).toMatchObject({
      mandatory: true,
      source: 'zone',
      dueOn: '2026-10-15',
    });
    expect(kinds(fourth)).toEqual(['deterioration']);
    expect(fourth.summary).toBe('Red (was yellow): 5 steps, 2 mandatory; flags: deterioration.');
  });

  it('an improvement is a zone change (parents informed) but not a deterioration', () => {
    const previous = [facts(key, 'red', { id: 'a0', assessedOn: '2024-11-01' })];
    const r = recommend(facts(key, 'yellow'), previous, guide);
    expect(r.zoneChanged).toBe(true);
    expect(ids(r)).toEqual([...yellowIds, 'inform_parents']);
    expect(r.flags).toEqual([]);
    const green = recommend(facts(key, 'green'), previous, guide);
    expect(sources(green)).toEqual([['inform_parents', 'zone_change']]);
    expect(green.summary).toBe('Green (was red): 1 step, 0 mandatory; no flags.');
  });
});

describe('deterioration by level', () => {
  it('boernelineal-5: 2 → 4 is two levels worse and a zone change', () => {
    const guide = guideFor('boernelineal-5');
    const last = facts('boernelineal-5', 'yellow', {
      id: 'a0',
      assessedOn: '2025-01-01',
      level: 2,
    });
    const r = recommend(facts('boernelineal-5', 'red', { level: 4 }), [last], guide);
    expect(r.zoneChanged).toBe(true);
    expect(kinds(r)).toEqual(['deterioration']);
    expect(r.flags[0]?.reason).toBe(
      'Since the assessment on 2025-01-01, the zone worsened from yellow to red and the level ' +
        'worsened from 2 to 4 (2 levels worse; the threshold is 2).',
    );
  });

  it('boernelineal-5: 2 → 3 stays yellow and is one level only: no flag', () => {
    const guide = guideFor('boernelineal-5');
    const last = facts('boernelineal-5', 'yellow', {
      id: 'a0',
      assessedOn: '2025-01-01',
      level: 2,
    });
    const r = recommend(facts('boernelineal-5', 'yellow', { level: 3 }), [last], guide);
    expect(r.flags).toEqual([]);
    expect(r.zoneChanged).toBe(false);
  });

  it('signs-of-safety: 9 → 7 stays green but drops two levels (higher is better)', () => {
    const guide = guideFor('signs-of-safety-0-10');
    const last = facts('signs-of-safety-0-10', 'green', {
      id: 'a0',
      assessedOn: '2025-01-01',
      level: 9,
    });
    const r = recommend(facts('signs-of-safety-0-10', 'green', { level: 7 }), [last], guide);
    expect(r.zoneChanged).toBe(false);
    expect(r.steps).toEqual([]);
    expect(kinds(r)).toEqual(['deterioration']);
    expect(r.flags[0]?.reason).toBe(
      'Since the assessment on 2025-01-01, the level worsened from 9 to 7 ' +
        '(2 levels worse; the threshold is 2).',
    );
    expect(r.summary).toBe('Green: no steps; flags: deterioration.');
  });

  it('signs-of-safety: 9 → 8 and 7 → 9 raise nothing', () => {
    const guide = guideFor('signs-of-safety-0-10');
    const at = (level: number, id: string, assessedOn: string) =>
      facts('signs-of-safety-0-10', 'green', { id, assessedOn, level });
    expect(recommend(at(8, 'b', '2025-02-01'), [at(9, 'a', '2025-01-01')], guide).flags).toEqual(
      [],
    );
    expect(recommend(at(9, 'b', '2025-02-01'), [at(7, 'a', '2025-01-01')], guide).flags).toEqual(
      [],
    );
  });

  it('no level comparison when either level is missing', () => {
    const guide = guideFor('topi-3');
    const last = facts('topi-3', 'green', { id: 'a0', assessedOn: '2025-01-01', level: null });
    const r = recommend(facts('topi-3', 'green', { level: 3 }), [last], guide);
    expect(r.flags).toEqual([]);
  });
});

describe('which earlier assessments count', () => {
  const key = 'topi-3';
  const guide = guideFor(key);

  it('ignores later assessments, the current id and ties after the current id', () => {
    const current = facts(key, 'yellow', { id: 'b', assessedOn: '2025-05-01' });
    const previous = [
      facts(key, 'red', { id: 'z', assessedOn: '2025-06-01' }),
      facts(key, 'green', { id: 'c', assessedOn: '2025-05-01' }),
      facts(key, 'green', { id: 'b', assessedOn: '2025-01-01' }),
    ];
    const r = recommend(current, previous, guide);
    expect(r.previousZone).toBeNull();
    expect(r.zoneChanged).toBe(false);
    expect(ids(r)).toEqual(yellowIds);
  });

  it('on the same day, an earlier id is the last assessment', () => {
    const current = facts(key, 'yellow', { id: 'b', assessedOn: '2025-05-01' });
    const previous = [
      facts(key, 'yellow', { id: 'x', assessedOn: '2025-01-01' }),
      facts(key, 'green', { id: 'a', assessedOn: '2025-05-01' }),
    ];
    const r = recommend(current, previous, guide);
    expect(r.previousZone).toBe('green');
    expect(r.zoneChanged).toBe(true);
  });

  it('an assessment without a zone is skipped: the trajectory compares with the last zone', () => {
    const previous = [
      facts(key, 'green', { id: 'a', assessedOn: '2025-01-01' }),
      facts(key, null, { id: 'b', assessedOn: '2025-03-01' }),
    ];
    const r = recommend(facts(key, 'yellow', { id: 'c' }), previous, guide);
    expect(r.previousZone).toBe('green');
    expect(r.zoneChanged).toBe(true);
    expect(r.flags.map((f) => f.kind)).toContain('deterioration');
    expect(ids(r)).toContain('inform_parents');
    const same = recommend(facts(key, 'green', { id: 'c' }), previous, guide);
    expect(same.zoneChanged).toBe(false);
    expect(same.previousZone).toBe('green');
  });
});

describe('persistence across rounds', () => {
  const key = 'topi-3';
  const guide = guideFor(key);
  const inRound = (id: string, zone: Zone, round: string, assessedOn: string) =>
    facts(key, zone, {
      id,
      roundId: round,
      roundStart: `${assessedOn.slice(0, 7)}-01`,
      assessedOn,
    });

  it('the latest assessment of a round counts for that round', () => {
    const previous = [
      inRound('a', 'yellow', 'r1', '2025-04-02'),
      inRound('b', 'green', 'r1', '2025-04-20'),
    ];
    const r = recommend(inRound('c', 'yellow', 'r2', '2025-10-03'), previous, guide);
    expect(kinds(r)).toEqual(['deterioration']);
    const r2 = recommend(
      inRound('c', 'yellow', 'r2', '2025-10-03'),
      [previous[0] as AssessmentFacts],
      guide,
    );
    expect(kinds(r2)).toEqual(['persistent']);
  });

  it('an earlier assessment in the same round is not a previous round', () => {
    const previous = [inRound('a', 'yellow', 'r2', '2025-10-01')];
    const r = recommend(inRound('b', 'yellow', 'r2', '2025-10-20'), previous, guide);
    expect(kinds(r)).toEqual([]);
  });

  it('assessments outside rounds are skipped; rounds order by their start', () => {
    const previous = [
      inRound('a', 'yellow', 'r1', '2025-04-02'),
      facts(key, 'green', { id: 'x', assessedOn: '2025-06-01' }),
    ];
    const r = recommend(inRound('c', 'yellow', 'r2', '2025-10-03'), previous, guide);
    expect(kinds(r)).toEqual(['deterioration', 'persistent']);
    // and the zone change from the (roundless) last assessment still informs the parents
    expect(ids(r)).toContain('inform_parents');
  });

  it('no roundId on the current assessment: never persistent', () => {
    const previous = [inRound('a', 'yellow', 'r1', '2025-04-02')];
    const r = recommend(
      facts(key, 'yellow', { id: 'c', assessedOn: '2025-10-03' }),
      previous,
      guide,
    );
    expect(kinds(r)).toEqual([]);
  });

  it('red twice is persistent without any further escalation', () => {
    const previous = [inRound('a', 'red', 'r1', '2025-04-02')];
    const r = recommend(inRound('c', 'red', 'r2', '2025-10-03'), previous, guide);
    expect(kinds(r)).toEqual(['persistent']);
    expect(sources(r)).toEqual(redIds.map((id) => [id, 'zone']));
  });

  it('green twice is never persistent', () => {
    const previous = [inRound('a', 'green', 'r1', '2025-04-02')];
    const r = recommend(inRound('c', 'green', 'r2', '2025-10-03'), previous, guide);
    expect(r.flags).toEqual([]);
  });

  it('persistentRounds 3 needs the two previous rounds in the same zone', () => {
    const three = GuideDefinitionSchema.parse({
      ...guide,
      trajectory: { ...guide.trajectory, persistentRounds: 3 },
    });
    const r1 = inRound('a', 'yellow', 'r1', '2025-04-02');
    const r2 = inRound('b', 'yellow', 'r2', '2025-10-03');
    const r3 = inRound('c', 'yellow', 'r3', '2026-04-03');
    expect(kinds(recommend(r2, [r1], three))).toEqual([]);
    const r = recommend(r3, [r2, r1], three);
    expect(kinds(r)).toEqual(['persistent']);
    expect(r.flags[0]?.reason).toBe(
      'The child has been yellow in 3 consecutive rounds (r1, r2, r3).',
    );
    const green0 = inRound('z', 'green', 'r0', '2024-10-03');
    expect(kinds(recommend(r3, [green0, r1, r2], three))).toEqual(['persistent']);
    const r1green = inRound('a', 'green', 'r1', '2025-04-02');
    expect(kinds(recommend(r3, [r1green, r2], three))).toEqual([]);
  });

  it('escalateOnPersistent false: flag but no red steps', () => {
    const calm = GuideDefinitionSchema.parse({
      ...guide,
      trajectory: { ...guide.trajectory, escalateOnPersistent: false },
    });
    const r = recommend(
      inRound('c', 'yellow', 'r2', '2025-10-03'),
      [inRound('a', 'yellow', 'r1', '2025-04-02')],
      calm,
    );
    expect(kinds(r)).toEqual(['persistent']);
    expect(ids(r)).toEqual(yellowIds);
  });

  it('escalation respects the red steps’ red-flag conditions', () => {
    const r = recommend(
      inRound('c', 'yellow', 'r2', '2025-10-03'),
      [inRound('a', 'yellow', 'r1', '2025-04-02')],
      guide,
    );
    expect(ids(r)).not.toContain('concern_report_immediate');
    const withFlag = recommend(
      { ...inRound('c', 'yellow', 'r2', '2025-10-03'), ...violence },
      [inRound('a', 'yellow', 'r1', '2025-04-02')],
      guide,
    );
    expect(sources(withFlag)).toEqual([
      ...yellowIds.filter((id) => id !== 'parents_dialogue').map((id) => [id, 'zone']),
      ['involve_unit_leader', 'escalation'],
      ['interdisciplinary_meeting', 'escalation'],
      ['concern_report_immediate', 'escalation'],
      ['police_if_acute', 'escalation'],
    ]);
  });
});

describe('the zone-change step', () => {
  const key = 'topi-3';
  const guide = guideFor(key);
  const last = facts(key, 'green', { id: 'a0', assessedOn: '2025-01-01' });

  it('informParentsOnZoneChange false: no inform-parents step', () => {
    const quiet = GuideDefinitionSchema.parse({
      ...guide,
      trajectory: { ...guide.trajectory, informParentsOnZoneChange: false },
    });
    expect(ids(recommend(facts(key, 'yellow'), [last], quiet))).toEqual(yellowIds);
  });

  it('is not added twice when the zone already has a step with its id', () => {
    const inform = guide.trajectory.informParentsStep;
    const withInform = GuideDefinitionSchema.parse({
      ...guide,
      zones: { ...guide.zones, yellow: [inform, ...guide.zones.yellow] },
    });
    const r = recommend(facts(key, 'yellow'), [last], withInform);
    expect(sources(r)).toEqual([
      ['inform_parents', 'zone'],
      ...yellowIds.map((id) => [id, 'zone']),
    ]);
  });
});
