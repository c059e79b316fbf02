import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  accessActor,
  parentViewWithheld,
  type WithholdingFacts,
} from '../../src/domain/parent-view.js';

/** Moments of one year, as the database's clock would write them. */
const moment = fc
  .integer({ min: 0, max: 365 * 24 * 60 })
  .map((m) => new Date(Date.UTC(2026, 0, 1) + m * 60_000).toISOString());
const category = fc.constantFrom('violence', 'sexual_abuse', 'neglect', 'other');
const flagged = fc.record({
  recordedAt: moment,
  redFlags: fc.uniqueArray(category, { maxLength: 4 }),
});
type Notice = WithholdingFacts['notices'][number];
const notice: fc.Arbitrary<Notice> = fc.record({
  recordedAt: moment,
  status: fc.constantFrom<Notice['status']>('open', 'informed', 'not_informed_risk', 'superseded'),
  riskCategories: fc.subarray(['violence', 'sexual_abuse']),
  riskLiftedAt: fc.option(moment),
});
const facts = fc.record({
  flagged: fc.array(flagged, { maxLength: 5 }),
  notices: fc.array(notice, { maxLength: 5 }),
});
const lifted = (at: string): Notice => ({
  recordedAt: '2026-01-01T00:00:00.000Z',
  status: 'informed',
  riskCategories: [],
  riskLiftedAt: at,
});

describe('parentViewWithheld', () => {
  it('withholds exactly while a risk was recorded after every lift', () => {
    fc.assert(
      fc.property(facts, (f) => {
        const risks = [
          ...f.flagged
            .filter((a) => a.redFlags.includes('violence') || a.redFlags.includes('sexual_abuse'))
            .map((a) => a.recordedAt),
          ...f.notices
            .filter((n) => n.riskCategories.length > 0 && n.status !== 'superseded')
            .map((n) => n.recordedAt),
        ];
        const lifts = f.notices.flatMap((n) => (n.riskLiftedAt ? [n.riskLiftedAt] : []));
        const expected = risks.some((r) => lifts.every((l) => l < r));
        expect(parentViewWithheld(f)).toBe(expected);
      }),
    );
  });

  it('a new risk never opens the view; a lift after everything always does', () => {
    fc.assert(
      fc.property(facts, moment, (f, at) => {
        const risky = { ...f, flagged: [...f.flagged, { recordedAt: at, redFlags: ['violence'] }] };
        if (parentViewWithheld(f)) expect(parentViewWithheld(risky)).toBe(true);
        const latest =
          [...f.flagged, ...f.notices, { recordedAt: at }]
            .map((x) => x.recordedAt)
            .sort()
            .at(-1) ?? at;
        expect(parentViewWithheld({ ...f, notices: [...f.notices, lifted(latest)] })).toBe(false);
      }),
    );
  });

  it('at the boundary: a lift at the same moment lifts it, a moment before does not', () => {
    const risk = { recordedAt: '2026-11-21T10:00:00.000Z', redFlags: ['violence'] };
    expect(parentViewWithheld({ flagged: [risk], notices: [] })).toBe(true);
    expect(
      parentViewWithheld({ flagged: [risk], notices: [lifted('2026-11-21T10:00:00.000Z')] }),
    ).toBe(false);
    expect(
      parentViewWithheld({ flagged: [risk], notices: [lifted('2026-11-21T09:59:59.999Z')] }),
    ).toBe(true);
    // Staff recording the parents informed (no lift) never opens it, whatever the dates.
    expect(
      parentViewWithheld({
        flagged: [risk],
        notices: [{ ...lifted('x'), riskLiftedAt: null, recordedAt: '2026-12-01T00:00:00.000Z' }],
      }),
    ).toBe(true);
    // Neglect alone does not keep the parents out; a guide's own risk category on a notice does.
    expect(
      parentViewWithheld({
        flagged: [{ recordedAt: risk.recordedAt, redFlags: ['neglect'] }],
        notices: [],
      }),
    ).toBe(false);
    const riskyNotice = (status: Notice['status']): Notice => ({
      recordedAt: risk.recordedAt,
      status,
      riskCategories: ['violence'],
      riskLiftedAt: null,
    });
    expect(parentViewWithheld({ flagged: [], notices: [riskyNotice('not_informed_risk')] })).toBe(
      true,
    );
    expect(parentViewWithheld({ flagged: [], notices: [riskyNotice('superseded')] })).toBe(false);
  });
});

describe('accessActor', () => {
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
