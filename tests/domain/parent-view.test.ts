import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accessActor,
  concernsParents,
  parentViewWithheld,
  type WithholdingFacts,
} from '../../src/domain/parent-view.js';

const day = fc
  .integer({ min: 0, max: 365 })
  .map((n) => new Date(Date.UTC(2026, 0, 1 + n)).toISOString().slice(0, 10));
const category = fc.constantFrom('violence', 'sexual_abuse', 'neglect', 'other');
const flagged = fc.record({
  assessedOn: day,
  redFlags: fc.uniqueArray(category, { maxLength: 4 }),
});
const notice = fc.record({
  assessedOn: day,
  status: fc.constantFrom('open', 'informed', 'not_informed_risk', 'superseded') as fc.Arbitrary<
    WithholdingFacts['notices'][number]['status']
  >,
  riskCategories: fc.subarray(['violence', 'sexual_abuse']),
});
const facts = fc.record({
  flagged: fc.array(flagged, { maxLength: 5 }),
  notices: fc.array(notice, { maxLength: 5 }),
});

describe('parentViewWithheld', () => {
  it('withholds exactly while a risk has no informed notice on or after it', () => {
    fc.assert(
      fc.property(facts, (f) => {
        const risks = [
          ...f.flagged
            .filter((a) => a.redFlags.includes('violence') || a.redFlags.includes('sexual_abuse'))
            .map((a) => a.assessedOn),
          ...f.notices
            .filter((n) => n.riskCategories.length > 0 && n.status !== 'superseded')
            .map((n) => n.assessedOn),
        ];
        const informed = f.notices.filter((n) => n.status === 'informed').map((n) => n.assessedOn);
        const expected = risks.some((r) => informed.every((i) => i < r));
        expect(parentViewWithheld(f)).toBe(expected);
      }),
    );
  });

  it('a new risk never opens the view; a later informing never closes it', () => {
    fc.assert(
      fc.property(facts, day, (f, on) => {
        const risky = { ...f, flagged: [...f.flagged, { assessedOn: on, redFlags: ['violence'] }] };
        if (parentViewWithheld(f)) expect(parentViewWithheld(risky)).toBe(true);
        const latest =
          [...f.flagged, ...f.notices]
            .map((x) => x.assessedOn)
            .sort()
            .at(-1) ?? on;
        const told = {
          ...f,
          notices: [
            ...f.notices,
            { assessedOn: latest, status: 'informed' as const, riskCategories: [] },
          ],
        };
        expect(parentViewWithheld(told)).toBe(false);
      }),
    );
  });

  it('at the boundary: informed the same day lifts it, the day before does not', () => {
    const risk = { assessedOn: '2026-11-21', redFlags: ['violence'] };
    const informed = (assessedOn: string) => ({
      assessedOn,
      status: 'informed' as const,
      riskCategories: [],
    });
    expect(parentViewWithheld({ flagged: [risk], notices: [] })).toBe(true);
    expect(parentViewWithheld({ flagged: [risk], notices: [informed('2026-11-21')] })).toBe(false);
    expect(parentViewWithheld({ flagged: [risk], notices: [informed('2026-11-20')] })).toBe(true);
    // Neglect alone does not keep the parents out; a guide's own risk category on a notice does.
    expect(
      parentViewWithheld({
        flagged: [{ assessedOn: '2026-11-21', redFlags: ['neglect'] }],
        notices: [],
      }),
    ).toBe(false);
    expect(
      parentViewWithheld({
        flagged: [],
        notices: [
          { assessedOn: '2026-11-21', status: 'not_informed_risk', riskCategories: ['violence'] },
        ],
      }),
    ).toBe(true);
    expect(
      parentViewWithheld({
        flagged: [],
        notices: [{ assessedOn: '2026-11-21', status: 'superseded', riskCategories: ['violence'] }],
      }),
    ).toBe(false);
  });
});

describe('concernsParents and accessActor', () => {
  it('a step concerns the parents when they take part or are responsible', () => {
    expect(concernsParents({ involve: ['parents', 'ppr'], responsible: 'unit_staff' })).toBe(true);
    expect(concernsParents({ involve: ['ppr'], responsible: 'parents' })).toBe(true);
    expect(concernsParents({ involve: ['ppr'], responsible: 'unit_leader' })).toBe(false);
  });

  it('names roles and units, never a person', () => {
    expect(accessActor({ principalKind: 'api_key', role: 'unit_staff', unitIds: ['u'] })).toEqual({
      kind: 'staff',
      role: 'unit_staff',
      unitIds: ['u'],
    });
    expect(accessActor({ principalKind: 'parent', role: 'parent', unitIds: null })).toEqual({
      kind: 'parent',
    });
    expect(accessActor({ principalKind: 'system', role: 'system', unitIds: null })).toEqual({
      kind: 'service',
    });
  });
});
