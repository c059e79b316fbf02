import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addDays,
  addMonths,
  ageInMonths,
  ageInYears,
  compareDates,
  isIsoDate,
  localDate,
  MUNICIPAL_TIME_ZONE,
  maxDate,
  minDate,
} from '../../src/domain/dates.js';

const DAY_MS = 86_400_000;

/** Oracle independent of the module: the UTC calendar date of an instant. */
function utcDateOf(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

function utcMsOf(date: string): number {
  return Date.parse(`${date}T00:00:00Z`);
}

/** Dates uniformly in 1800-2200, and dates biased to month ends and leap days. */
const uniformDate = fc
  .integer({ min: utcMsOf('1800-01-01') / DAY_MS, max: utcMsOf('2200-12-31') / DAY_MS })
  .map((day) => utcDateOf(day * DAY_MS));
const monthEndDate = fc
  .record({
    year: fc.integer({ min: 1800, max: 2200 }),
    month: fc.integer({ min: 1, max: 12 }),
    back: fc.integer({ min: 0, max: 3 }),
  })
  .map(({ year, month, back }) => utcDateOf(Date.UTC(year, month, 0) - back * DAY_MS));
const isoDate = fc.oneof(uniformDate, monthEndDate);

describe('localDate', () => {
  it('defaults to Copenhagen time', () => {
    expect(MUNICIPAL_TIME_ZONE).toBe('Europe/Copenhagen');
    // Winter time, UTC+1.
    expect(localDate(new Date('2026-03-28T23:30:00Z'))).toBe('2026-03-29');
    expect(localDate(new Date('2026-03-28T22:59:59Z'))).toBe('2026-03-28');
    expect(localDate(new Date('2026-01-01T00:00:00Z'))).toBe('2026-01-01');
    expect(localDate(new Date('2025-12-31T23:00:00Z'))).toBe('2026-01-01');
    expect(localDate(new Date('2025-12-31T22:59:59.999Z'))).toBe('2025-12-31');
    // Summer time, UTC+2.
    expect(localDate(new Date('2026-07-01T22:30:00Z'))).toBe('2026-07-02');
    expect(localDate(new Date('2026-07-01T21:59:59Z'))).toBe('2026-07-01');
  });

  it('follows the daylight saving changes', () => {
    // Spring forward on Sunday 2026-03-29 at 01:00 UTC (02:00 CET -> 03:00 CEST).
    expect(localDate(new Date('2026-03-29T00:59:59Z'))).toBe('2026-03-29');
    expect(localDate(new Date('2026-03-29T01:00:00Z'))).toBe('2026-03-29');
    expect(localDate(new Date('2026-03-29T21:59:59Z'))).toBe('2026-03-29');
    expect(localDate(new Date('2026-03-29T22:00:00Z'))).toBe('2026-03-30');
    // Fall back on Sunday 2026-10-25 at 01:00 UTC (03:00 CEST -> 02:00 CET).
    expect(localDate(new Date('2026-10-24T21:59:59Z'))).toBe('2026-10-24');
    expect(localDate(new Date('2026-10-24T22:00:00Z'))).toBe('2026-10-25');
    expect(localDate(new Date('2026-10-25T22:59:59Z'))).toBe('2026-10-25');
    expect(localDate(new Date('2026-10-25T23:00:00Z'))).toBe('2026-10-26');
  });

  it('takes another time zone', () => {
    const instant = new Date('2026-03-28T23:30:00Z');
    expect(localDate(instant, 'UTC')).toBe('2026-03-28');
    expect(localDate(instant, 'America/New_York')).toBe('2026-03-28');
    expect(localDate(new Date('2026-03-28T12:30:00Z'), 'Pacific/Kiritimati')).toBe('2026-03-29');
  });

  it('rejects an invalid Date and an unknown time zone', () => {
    expect(() => localDate(new Date(Number.NaN))).toThrow(RangeError);
    expect(() => localDate(new Date(), 'Europe/Nowhere')).toThrow(RangeError);
  });

  it('in UTC is the ISO date of the instant (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: utcMsOf('1900-01-01'), max: utcMsOf('2200-01-01') }), (ms) => {
        expect(localDate(new Date(ms), 'UTC')).toBe(utcDateOf(ms));
      }),
    );
  });

  it('in Copenhagen is the UTC date one or two hours later (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: utcMsOf('1990-01-01'), max: utcMsOf('2100-01-01') }), (ms) => {
        const local = localDate(new Date(ms));
        expect([utcDateOf(ms + 3_600_000), utcDateOf(ms + 7_200_000)]).toContain(local);
        expect(isIsoDate(local)).toBe(true);
      }),
    );
  });
});

describe('isIsoDate', () => {
  it('accepts real dates, leap days included', () => {
    for (const date of [
      '2026-01-01',
      '2026-12-31',
      '2024-02-29',
      '2000-02-29',
      '1600-02-29',
      '2026-04-30',
      '0000-01-01',
      '9999-12-31',
    ]) {
      expect(isIsoDate(date), date).toBe(true);
    }
  });

  it('rejects impossible dates and other shapes', () => {
    for (const s of [
      '',
      '2026-02-29',
      '1900-02-29',
      '2100-02-29',
      '2026-04-31',
      '2026-13-01',
      '2026-00-10',
      '2026-01-00',
      '2026-01-32',
      '2026-1-01',
      '2026-01-1',
      '26-01-01',
      '+02026-01-01',
      '2026/01/01',
      '20260101',
      ' 2026-01-01',
      '2026-01-01 ',
      '2026-01-01T00:00:00Z',
      '２０２６-01-01',
    ]) {
      expect(isIsoDate(s), s).toBe(false);
    }
  });

  it('agrees with Date.UTC on year, month and day components (property)', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1000, max: 9999 }),
        fc.integer({ min: 0, max: 13 }),
        fc.integer({ min: 0, max: 32 }),
        (year, month, day) => {
          const s = `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
          const d = new Date(Date.UTC(year, month - 1, day));
          const real =
            month >= 1 &&
            d.getUTCFullYear() === year &&
            d.getUTCMonth() === month - 1 &&
            d.getUTCDate() === day;
          expect(isIsoDate(s)).toBe(real);
        },
      ),
    );
  });
});

describe('ageInMonths and ageInYears', () => {
  it('count whole months, a month-end counting as completed', () => {
    expect(ageInMonths('2020-01-31', '2020-01-31')).toBe(0);
    expect(ageInMonths('2020-01-31', '2020-02-28')).toBe(0);
    expect(ageInMonths('2020-01-31', '2020-02-29')).toBe(1);
    expect(ageInMonths('2020-01-31', '2020-03-01')).toBe(1);
    expect(ageInMonths('2020-01-31', '2020-03-30')).toBe(1);
    expect(ageInMonths('2020-01-31', '2020-03-31')).toBe(2);
    expect(ageInMonths('2020-01-31', '2020-04-30')).toBe(3);
    expect(ageInMonths('2021-01-31', '2021-02-28')).toBe(1);
    expect(ageInMonths('2020-01-30', '2020-02-29')).toBe(1);
    expect(ageInMonths('2020-01-15', '2020-02-14')).toBe(0);
    expect(ageInMonths('2020-01-15', '2020-02-15')).toBe(1);
    expect(ageInMonths('2020-12-15', '2021-01-15')).toBe(1);
  });

  it('turn a year older on the birthday', () => {
    expect(ageInYears('2010-06-15', '2026-06-14')).toBe(15);
    expect(ageInYears('2010-06-15', '2026-06-15')).toBe(16);
    expect(ageInMonths('2010-06-15', '2026-06-15')).toBe(192);
    expect(ageInYears('2008-12-31', '2026-12-30')).toBe(17);
    expect(ageInYears('2008-12-31', '2026-12-31')).toBe(18);
    expect(ageInYears('2020-03-01', '2021-02-28')).toBe(0);
    expect(ageInYears('2020-03-01', '2021-03-01')).toBe(1);
  });

  it('give a leap-day child its birthday on 28 February in common years', () => {
    expect(ageInYears('2016-02-29', '2017-02-27')).toBe(0);
    expect(ageInYears('2016-02-29', '2017-02-28')).toBe(1);
    expect(ageInMonths('2016-02-29', '2017-02-28')).toBe(12);
    expect(ageInYears('2016-02-29', '2020-02-28')).toBe(3);
    expect(ageInYears('2016-02-29', '2020-02-29')).toBe(4);
  });

  it('are negative before birth', () => {
    expect(ageInMonths('2020-03-15', '2020-03-14')).toBe(-1);
    expect(ageInMonths('2020-03-15', '2020-02-15')).toBe(-1);
    expect(ageInMonths('2020-03-15', '2020-02-14')).toBe(-2);
    expect(ageInYears('2020-03-15', '2020-03-14')).toBe(-1);
    expect(ageInYears('2020-03-15', '2019-03-15')).toBe(-1);
    expect(ageInYears('2020-03-15', '2019-03-14')).toBe(-2);
  });

  it('reject invalid dates', () => {
    expect(() => ageInMonths('2020-02-30', '2021-01-01')).toThrow(RangeError);
    expect(() => ageInYears('2020-01-01', '2021-1-1')).toThrow(RangeError);
  });

  it('are monotone non-decreasing in `on` (property)', () => {
    fc.assert(
      fc.property(isoDate, isoDate, isoDate, (birth, x, y) => {
        const [early, late] = x <= y ? [x, y] : [y, x];
        expect(ageInMonths(birth, early)).toBeLessThanOrEqual(ageInMonths(birth, late));
        expect(ageInYears(birth, early)).toBeLessThanOrEqual(ageInYears(birth, late));
      }),
    );
  });

  it('grow by at most one month a day (property)', () => {
    fc.assert(
      fc.property(isoDate, isoDate, (birth, on) => {
        const step = ageInMonths(birth, addDays(on, 1)) - ageInMonths(birth, on);
        expect(step === 0 || step === 1).toBe(true);
      }),
    );
  });

  it('are the largest n with addMonths(birth, n) <= on (property)', () => {
    fc.assert(
      fc.property(isoDate, isoDate, (birth, on) => {
        const months = ageInMonths(birth, on);
        expect(addMonths(birth, months) <= on).toBe(true);
        expect(addMonths(birth, months + 1) > on).toBe(true);
        expect(months < 0).toBe(on < birth);
        expect(ageInYears(birth, on)).toBe(Math.floor(months / 12));
      }),
    );
  });

  it('invert addMonths (property)', () => {
    fc.assert(
      fc.property(isoDate, fc.integer({ min: -1200, max: 1200 }), (birth, n) => {
        expect(ageInMonths(birth, addMonths(birth, n))).toBe(n);
      }),
    );
  });
});

describe('addDays', () => {
  it('crosses month, year and leap-day boundaries', () => {
    expect(addDays('2026-01-31', 1)).toBe('2026-02-01');
    expect(addDays('2026-02-28', 1)).toBe('2026-03-01');
    expect(addDays('2024-02-28', 1)).toBe('2024-02-29');
    expect(addDays('2024-03-01', -1)).toBe('2024-02-29');
    expect(addDays('2026-12-31', 1)).toBe('2027-01-01');
    expect(addDays('2026-01-01', -1)).toBe('2025-12-31');
    expect(addDays('2026-01-01', 365)).toBe('2027-01-01');
    expect(addDays('2024-01-01', 366)).toBe('2025-01-01');
    expect(addDays('2026-06-15', 0)).toBe('2026-06-15');
    // Daylight saving changes do not matter: there is no time of day.
    expect(addDays('2026-03-28', 1)).toBe('2026-03-29');
    expect(addDays('2026-03-29', 1)).toBe('2026-03-30');
    expect(addDays('2026-10-25', 1)).toBe('2026-10-26');
  });

  it('handles years before 100 (Date.UTC would map them to 19xx)', () => {
    expect(addDays('0099-12-31', 1)).toBe('0100-01-01');
    expect(addDays('0004-02-28', 1)).toBe('0004-02-29');
    expect(addDays('0000-01-01', 0)).toBe('0000-01-01');
  });

  it('rejects non-integers, invalid dates and results beyond year 9999', () => {
    expect(() => addDays('2026-01-01', 0.5)).toThrow(RangeError);
    expect(() => addDays('2026-01-01', Number.NaN)).toThrow(RangeError);
    expect(() => addDays('2026-02-29', 1)).toThrow(RangeError);
    expect(() => addDays('9999-12-31', 1)).toThrow(RangeError);
    expect(() => addDays('0000-01-01', -1)).toThrow(RangeError);
  });

  it('round-trips: addDays(addDays(d, n), -n) = d (property)', () => {
    fc.assert(
      fc.property(isoDate, fc.integer({ min: -100_000, max: 100_000 }), (date, n) => {
        expect(addDays(addDays(date, n), -n)).toBe(date);
      }),
    );
  });

  it('agrees with millisecond arithmetic and composes (property)', () => {
    fc.assert(
      fc.property(
        isoDate,
        fc.integer({ min: -50_000, max: 50_000 }),
        fc.integer({ min: -50_000, max: 50_000 }),
        (date, a, b) => {
          expect(addDays(date, a)).toBe(utcDateOf(utcMsOf(date) + a * DAY_MS));
          expect(addDays(addDays(date, a), b)).toBe(addDays(date, a + b));
        },
      ),
    );
  });
});

describe('addMonths', () => {
  it('clamps to the end of the month', () => {
    expect(addMonths('2020-01-31', 1)).toBe('2020-02-29');
    expect(addMonths('2021-01-31', 1)).toBe('2021-02-28');
    expect(addMonths('2020-03-31', 1)).toBe('2020-04-30');
    expect(addMonths('2020-03-31', -1)).toBe('2020-02-29');
    expect(addMonths('2020-02-29', 12)).toBe('2021-02-28');
    expect(addMonths('2020-02-29', 48)).toBe('2024-02-29');
    expect(addMonths('2020-01-15', 0)).toBe('2020-01-15');
    expect(addMonths('2020-12-15', 1)).toBe('2021-01-15');
    expect(addMonths('2020-01-15', -1)).toBe('2019-12-15');
    expect(addMonths('2020-01-15', -13)).toBe('2018-12-15');
    expect(addMonths('0001-01-31', -1)).toBe('0000-12-31');
  });

  it('rejects non-integers, invalid dates and results outside years 0000-9999', () => {
    expect(() => addMonths('2026-01-01', 1.5)).toThrow(RangeError);
    expect(() => addMonths('2026-02-30', 1)).toThrow(RangeError);
    expect(() => addMonths('9999-12-01', 1)).toThrow(RangeError);
    expect(() => addMonths('0000-01-01', -1)).toThrow(RangeError);
  });

  it('gives a valid date in the expected month, never past the day (property)', () => {
    fc.assert(
      fc.property(isoDate, fc.integer({ min: -1200, max: 1200 }), (date, n) => {
        const result = addMonths(date, n);
        expect(isIsoDate(result)).toBe(true);
        const [y1, m1, d1] = date.split('-').map(Number) as [number, number, number];
        const [y2, m2, d2] = result.split('-').map(Number) as [number, number, number];
        expect(y2 * 12 + m2 - (y1 * 12 + m1)).toBe(n);
        expect(d2).toBeLessThanOrEqual(d1);
        if (d2 < d1) expect(addDays(result, 1).slice(8)).toBe('01');
      }),
    );
  });
});

describe('compareDates, maxDate and minDate', () => {
  it('order dates', () => {
    expect(compareDates('2026-01-01', '2026-01-02')).toBe(-1);
    expect(compareDates('2026-01-02', '2026-01-01')).toBe(1);
    expect(compareDates('2026-01-01', '2026-01-01')).toBe(0);
    expect(compareDates('0999-12-31', '1000-01-01')).toBe(-1);
    expect(maxDate('2026-01-01', '2027-01-01', '2025-06-30')).toBe('2027-01-01');
    expect(minDate('2026-01-01', '2027-01-01', '2025-06-30')).toBe('2025-06-30');
    expect(maxDate('2026-01-01')).toBe('2026-01-01');
    expect(minDate('2026-01-01')).toBe('2026-01-01');
  });

  it('reject invalid dates', () => {
    expect(() => compareDates('2026-01-01', '2026-02-30')).toThrow(RangeError);
    expect(() => maxDate('2026-1-1')).toThrow(RangeError);
    expect(() => minDate('2026-01-01', 'tomorrow')).toThrow(RangeError);
  });

  it('agree with chronological order (property)', () => {
    fc.assert(
      fc.property(isoDate, isoDate, fc.array(isoDate, { maxLength: 5 }), (a, b, rest) => {
        const expected = Math.sign(utcMsOf(a) - utcMsOf(b));
        expect(compareDates(a, b)).toBe(expected === 0 ? 0 : expected);
        expect(compareDates(b, a)).toBe(expected === 0 ? 0 : -expected);
        const all = [a, b, ...rest];
        const ms = all.map(utcMsOf);
        expect(utcMsOf(maxDate(a, b, ...rest))).toBe(Math.max(...ms));
        expect(utcMsOf(minDate(a, b, ...rest))).toBe(Math.min(...ms));
      }),
    );
  });
});
