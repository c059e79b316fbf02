import { describe, expect, it } from 'vitest';
import { type EnrolledPeriod, roundCoversChild } from '../../src/domain/round-coverage.js';

const round = {
  windowStart: '2026-04-01',
  windowEnd: '2026-05-31',
  unitIds: [] as string[],
  unitKinds: [] as string[],
};
const enrolled = (start: string, end: string | null, unitId = 'u1'): EnrolledPeriod => ({
  unitId,
  unitKind: 'kindergarten',
  start,
  end,
});

describe('roundCoversChild: the rounds a child is expected in', () => {
  it('an enrolment overlapping the window by one day, at either end, is covered', () => {
    expect(roundCoversChild(round, '2021-05-10', [enrolled('2026-05-31', null)])).toBe(true);
    expect(roundCoversChild(round, '2021-05-10', [enrolled('2025-01-01', '2026-04-01')])).toBe(
      true,
    );
    expect(roundCoversChild(round, '2021-05-10', [enrolled('2026-06-01', null)])).toBe(false);
    expect(roundCoversChild(round, '2021-05-10', [enrolled('2025-01-01', '2026-03-31')])).toBe(
      false,
    );
    expect(roundCoversChild(round, '2021-05-10', [])).toBe(false);
  });

  it('only in the units and unit kinds the round covers (empty lists cover all)', () => {
    const e = [enrolled('2025-01-01', null, 'u1')];
    expect(roundCoversChild({ ...round, unitIds: ['u1'] }, '2021-05-10', e)).toBe(true);
    expect(roundCoversChild({ ...round, unitIds: ['u2'] }, '2021-05-10', e)).toBe(false);
    expect(roundCoversChild({ ...round, unitKinds: ['kindergarten'] }, '2021-05-10', e)).toBe(true);
    expect(roundCoversChild({ ...round, unitKinds: ['school'] }, '2021-05-10', e)).toBe(false);
  });

  it('within the birth-date bounds: on or before bornTo, strictly after bornFrom', () => {
    const e = [enrolled('2025-01-01', null)];
    const bounded = { ...round, bornFrom: '2020-01-01', bornTo: '2022-12-31' };
    expect(roundCoversChild(bounded, '2022-12-31', e)).toBe(true);
    expect(roundCoversChild(bounded, '2023-01-01', e)).toBe(false);
    expect(roundCoversChild(bounded, '2020-01-02', e)).toBe(true);
    expect(roundCoversChild(bounded, '2020-01-01', e)).toBe(false);
  });
});
