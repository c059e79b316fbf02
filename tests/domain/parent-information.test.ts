import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays } from '../../src/domain/dates.js';
import type { AssessmentFacts } from '../../src/domain/guides/definition.js';
import { presetGuide } from '../../src/domain/guides/presets.js';
import { recommend } from '../../src/domain/guides/recommend.js';
import {
  closingRefusal,
  type ParentNoticeClosing,
  parentNoticeFor,
} from '../../src/domain/parent-information.js';

const guide = presetGuide('topi-3')?.definition;
if (!guide) throw new Error('no topi-3 guide');
const deadline = guide.trajectory.informParentsStep.deadlineDays;
const riskOf: readonly string[] =
  guide.trajectory.informParentsStep.conditions.unlessRedFlagCategories ?? [];

type Zone = 'green' | 'yellow' | 'red';
const levels: Record<Zone, number> = { green: 1, yellow: 2, red: 3 };
const zoneArb = fc.constantFrom<Zone | null>('green', 'yellow', 'red', null);
const categoriesArb = fc.uniqueArray(
  fc.constantFrom('violence', 'sexual_abuse', 'neglect', 'other'),
  { maxLength: 3 },
);
const dayArb = fc.integer({ min: 0, max: 3000 });

const factsOf = (
  i: number,
  day: number,
  zone: Zone | null,
  redFlagCategories: string[],
): AssessmentFacts => ({
  id: `a${String(i).padStart(3, '0')}`,
  assessedOn: addDays('2020-01-01', day),
  roundId: null,
  roundStart: null,
  rulerKey: 'topi-3',
  higherIsBetter: false,
  zone,
  level: zone === null ? null : levels[zone],
  redFlagCategories: zone === 'red' ? redFlagCategories : [],
  redFlags: [],
});

describe('parent information duty', () => {
  it('is due exactly for the first zoned assessment and every zone change', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(dayArb, zoneArb, categoriesArb), { minLength: 1, maxLength: 8 }),
        (series) => {
          const all = series.map(([day, zone, cats], i) => factsOf(i, day, zone, cats));
          for (const current of all) {
            const rec = recommend(current, all, guide);
            const notice = parentNoticeFor(current, rec, guide);
            // The last zoned assessment before this one, by (assessedOn, id).
            const before = all
              .filter(
                (f) =>
                  f.zone !== null &&
                  (f.assessedOn < current.assessedOn ||
                    (f.assessedOn === current.assessedOn && f.id < current.id)),
              )
              .sort((a, b) =>
                a.assessedOn === b.assessedOn
                  ? a.id.localeCompare(b.id)
                  : a.assessedOn.localeCompare(b.assessedOn),
              )
              .at(-1);
            const due =
              current.zone !== null && (before === undefined || before.zone !== current.zone);
            expect(notice !== null).toBe(due);
            if (notice === null) continue;
            expect(notice.reason).toBe(before === undefined ? 'first_assessment' : 'zone_change');
            expect(notice.zone).toBe(current.zone);
            expect(notice.previousZone).toBe(before?.zone ?? null);
            expect(notice.dueOn).toBe(addDays(current.assessedOn, deadline));
            expect(notice.riskCategories).toEqual(
              [...new Set(current.redFlagCategories.filter((c) => riskOf.includes(c)))].sort(),
            );
          }
        },
      ),
    );
  });

  it('takes its deadline from the guide, at the month and year ends', () => {
    for (const [assessedOn, days, dueOn] of [
      ['2026-12-31', 0, '2026-12-31'],
      ['2026-12-31', 1, '2027-01-01'],
      ['2028-02-28', 1, '2028-02-29'],
      ['2026-01-31', 30, '2026-03-02'],
    ] as const) {
      const withDeadline = {
        trajectory: {
          ...guide.trajectory,
          informParentsStep: { ...guide.trajectory.informParentsStep, deadlineDays: days },
        },
      };
      const notice = parentNoticeFor(
        { assessedOn, redFlagCategories: [] },
        { zone: 'yellow', previousZone: null, zoneChanged: false },
        withDeadline,
      );
      expect(notice?.dueOn).toBe(dueOn);
    }
    // The same zone again: nothing to tell; no zone: nothing either.
    expect(
      parentNoticeFor(
        { assessedOn: '2026-01-01', redFlagCategories: [] },
        { zone: 'yellow', previousZone: 'yellow', zoneChanged: false },
        guide,
      ),
    ).toBeNull();
    expect(
      parentNoticeFor(
        { assessedOn: '2026-01-01', redFlagCategories: ['violence'] },
        { zone: null, previousZone: 'red', zoneChanged: false },
        guide,
      ),
    ).toBeNull();
  });

  describe('closing', () => {
    const open = { status: 'open', riskCategories: [] as string[], createdOn: '2026-11-10' };
    const risky = { ...open, riskCategories: ['violence'] };
    const informed = (informedOn: string): ParentNoticeClosing => ({
      outcome: 'informed',
      informedOn,
      method: 'meeting',
    });
    const withheld: ParentNoticeClosing = { outcome: 'not_informed_risk', reason: 'Politiet' };
    const staff = { isLeader: false };
    const leader = { isLeader: true };
    const today = '2026-11-20';

    it('records an information from the assessment day to today, once', () => {
      expect(closingRefusal(open, informed('2026-11-10'), staff, today)).toBeNull();
      expect(closingRefusal(open, informed('2026-11-20'), staff, today)).toBeNull();
      expect(closingRefusal(open, informed('2026-11-09'), staff, today)).toMatchObject({
        detail: expect.stringMatching(/before/),
      });
      expect(closingRefusal(open, informed('2026-11-21'), staff, today)).toMatchObject({
        detail: expect.stringMatching(/future/),
      });
      expect(
        closingRefusal({ ...open, status: 'informed' }, informed('2026-11-12'), staff, today),
      ).toEqual({ kind: 'conflict', detail: expect.stringMatching(/already/) });
    });

    it('lets only a leader decide not to inform, and only for violence or abuse', () => {
      expect(closingRefusal(open, withheld, leader, today)).toMatchObject({
        detail: expect.stringMatching(/violence or abuse/),
      });
      expect(closingRefusal(risky, withheld, staff, today)).toEqual({
        kind: 'forbidden',
        detail: expect.stringMatching(/leader/),
      });
      expect(closingRefusal(risky, withheld, leader, today)).toBeNull();
      // With such a flag, informing is a leader's decision too.
      expect(closingRefusal(risky, informed('2026-11-12'), staff, today)).toMatchObject({
        detail: expect.stringMatching(/leader/),
      });
      expect(closingRefusal(risky, informed('2026-11-12'), leader, today)).toBeNull();
    });
  });
});
