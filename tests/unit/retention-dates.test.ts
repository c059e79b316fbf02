import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { yearsBefore } from '../../src/jobs/retention.js';

describe('yearsBefore (the retention cut-off)', () => {
  it('keeps the calendar date, and 29 February becomes 28 February in a common year', () => {
    expect(yearsBefore('2026-11-22', 5)).toBe('2021-11-22');
    expect(yearsBefore('2028-02-29', 5)).toBe('2023-02-28');
    expect(yearsBefore('2028-02-29', 4)).toBe('2024-02-29');
    expect(yearsBefore('2100-03-01', 100)).toBe('2000-03-01');
  });

  it('always gives a real date, never later than the same date n years earlier', () => {
    fc.assert(
      fc.property(
        fc.date({ min: new Date('1900-01-01'), max: new Date('2199-12-31'), noInvalidDate: true }),
        fc.integer({ min: 1, max: 100 }),
        (date, years) => {
          const iso = date.toISOString().slice(0, 10);
          const cut = yearsBefore(iso, years);
          const parsed = new Date(`${cut}T00:00:00Z`);
          expect(parsed.toISOString().slice(0, 10)).toBe(cut);
          expect(Number(cut.slice(0, 4))).toBe(Number(iso.slice(0, 4)) - years);
          expect(cut.slice(5) <= iso.slice(5)).toBe(true);
        },
      ),
    );
  });
});
