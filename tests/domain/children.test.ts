import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { birthDateErrors, cprErrors } from '../../src/domain/children.js';

const DAY_MS = 86_400_000;
/** Dates 2000-01-01 … 2036-12-31: the 7th CPR digit 4 encodes them all. */
const dateArb = fc
  .integer({ min: Date.UTC(2000, 0, 1) / DAY_MS, max: Date.UTC(2036, 11, 31) / DAY_MS })
  .map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));
const cprOf = (date: string, serial: number, sep: string) =>
  `${date.slice(8, 10)}${date.slice(5, 7)}${date.slice(2, 4)}${sep}4${String(serial).padStart(3, '0')}`;

describe('child rules', () => {
  it('a CPR number passes exactly when its date is the birth date; the number is never echoed', () => {
    fc.assert(
      fc.property(
        dateArb,
        dateArb,
        fc.integer({ min: 0, max: 999 }),
        fc.constantFrom('-', '', ' '),
        (cprDate, birthDate, serial, sep) => {
          const cpr = cprOf(cprDate, serial, sep);
          const result = cprErrors(cpr, birthDate, 'cpr');
          if (cprDate === birthDate) {
            expect(result).toEqual({ digits: cpr.replace(/\D/g, ''), errors: [] });
          } else {
            expect(result.digits).toBeUndefined();
            expect(result.errors).toEqual([
              {
                path: 'cpr',
                message: 'its birth date does not match birthDate',
                code: 'cpr_birth_date_mismatch',
              },
            ]);
          }
          expect(JSON.stringify(result.errors)).not.toContain(cpr.replace(/\D/g, ''));
        },
      ),
    );
  });

  it('refuses malformed numbers and impossible dates with their own codes', () => {
    expect(cprErrors('12345', '2021-05-10', 'body.cpr').errors).toEqual([
      {
        path: 'body.cpr',
        message: 'must be a CPR number: DDMMYY-SSSS or 10 digits',
        code: 'invalid_cpr_format',
      },
    ]);
    expect(cprErrors('310221-4001', '2021-02-28', 'cpr').errors.map((e) => e.code)).toEqual([
      'invalid_cpr_date',
    ]);
  });

  it('a birth date after today is refused, today and before are not', () => {
    fc.assert(
      fc.property(dateArb, dateArb, (birthDate, today) => {
        const errors = birthDateErrors(birthDate, today, 'birthDate');
        expect(errors).toEqual(
          birthDate > today
            ? [{ path: 'birthDate', message: 'is in the future', code: 'future_date' }]
            : [],
        );
      }),
    );
  });
});
