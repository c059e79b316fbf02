import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, ageInMonths, latestBirthDateForAge } from '../../src/domain/dates.js';

const day = fc.integer({ min: 0, max: 365 * 40 }).map((n) => addDays('1990-01-01', n));

describe('latestBirthDateForAge', () => {
  it('turns "at least m months old on a date" into "born on or before"', () => {
    fc.assert(
      fc.property(day, day, fc.integer({ min: 0, max: 240 }), (birth, on, months) => {
        const bound = latestBirthDateForAge(on, months);
        expect(birth <= bound).toBe(ageInMonths(birth, on) >= months);
      }),
      { numRuns: 2000 },
    );
  });

  it('handles month ends and leap days', () => {
    // 36 months on 2027-02-28 (a month end): every February 2024 birth day qualifies.
    expect(latestBirthDateForAge('2027-02-28', 36)).toBe('2024-02-29');
    expect(ageInMonths('2024-02-29', '2027-02-28')).toBe(36);
    expect(latestBirthDateForAge('2027-03-30', 1)).toBe('2027-02-28');
    expect(latestBirthDateForAge('2026-11-22', 60)).toBe('2021-11-22');
    expect(latestBirthDateForAge('2026-04-30', 2)).toBe('2026-02-28');
  });
});
