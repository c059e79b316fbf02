import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { addDays, ageInMonths } from '../../src/domain/dates.js';
import { birthBounds } from '../../src/domain/rounds.js';

const day = fc.integer({ min: 0, max: 365 * 30 }).map((n) => addDays('2000-01-01', n));
const months = fc.option(fc.integer({ min: 0, max: 120 }), { nil: null });

describe('birthBounds', () => {
  it('no age range: no bounds', () => {
    expect(
      birthBounds({ window_start: '2026-03-01', min_age_months: null, max_age_months: null }),
    ).toEqual({});
  });

  it('a child is inside the bounds exactly when its age in months at window start is in range', () => {
    fc.assert(
      fc.property(day, day, months, months, (birth, start, min, max) => {
        const { bornFrom, bornTo } = birthBounds({
          window_start: start,
          min_age_months: min,
          max_age_months: max,
        });
        const inside =
          (bornTo === undefined || birth <= bornTo) && (bornFrom === undefined || birth > bornFrom);
        const age = ageInMonths(birth, start);
        // Children born after the window start have no age yet: outside any bounded range.
        if (birth <= start) {
          expect(inside).toBe((min === null || age >= min) && (max === null || age <= max));
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('3 to 5 years at 2027-02-28: born 2021-03-01 … 2024-02-29', () => {
    expect(
      birthBounds({ window_start: '2027-02-28', min_age_months: 36, max_age_months: 71 }),
    ).toEqual({ bornFrom: '2021-02-28', bornTo: '2024-02-29' });
  });
});
