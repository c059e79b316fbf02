import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  cprBirthDate,
  cprModulus11Valid,
  hashCpr,
  normalizeCpr,
  parseCpr,
} from '../../src/domain/cpr.js';

const DAY_MS = 86_400_000;
const SECRET = 'test-deployment-secret';

/**
 * Oracle for the century rule, stated by year range rather than by digit: the 7th digits that
 * encode a birth in `year`.
 */
function seventhDigitsFor(year: number): number[] {
  const digits: number[] = [];
  if (year >= 1900 && year <= 1999) digits.push(0, 1, 2, 3);
  if ((year >= 1937 && year <= 1999) || (year >= 2000 && year <= 2036)) digits.push(4, 9);
  if ((year >= 1858 && year <= 1899) || (year >= 2000 && year <= 2057)) digits.push(5, 6, 7, 8);
  return digits;
}

/** Dates within the range CPR numbers can encode: 1858-01-01 to 2057-12-31. */
const cprEraDate = fc
  .integer({
    min: Date.parse('1858-01-01T00:00:00Z') / DAY_MS,
    max: Date.parse('2057-12-31T00:00:00Z') / DAY_MS,
  })
  .map((day) => new Date(day * DAY_MS).toISOString().slice(0, 10));

function ddmmyy(date: string): string {
  return `${date.slice(8, 10)}${date.slice(5, 7)}${date.slice(2, 4)}`;
}

const tenDigits = fc.stringMatching(/^[0-9]{10}$/);

describe('normalizeCpr', () => {
  it('accepts DDMMYY-SSSS, DDMMYYSSSS and DDMMYY SSSS, trimming whitespace', () => {
    for (const input of [
      '010203-1234',
      '0102031234',
      '010203 1234',
      '  010203-1234  ',
      '\t0102031234\n',
      ' 010203 1234\r\n',
    ]) {
      expect(normalizeCpr(input), JSON.stringify(input)).toBe('0102031234');
    }
  });

  it('rejects other shapes', () => {
    for (const input of [
      '',
      '   ',
      '010203123', // 9 digits
      '01020312345', // 11 digits
      '010203-12345',
      '01020-31234',
      '0102031-234',
      '010203--1234', // two hyphens
      '01-02-03-1234',
      '010203-12-34',
      '010203  1234', // two spaces
      '010203- 1234',
      '010203\t1234',
      '010203_1234',
      '010203/1234',
      'O10203-1234', // letter O
      '01020A-1234',
      '010203-123X',
      'abcdef-ghij',
      '+010203-1234',
      '-0102031234',
      '0102031234-',
      '٠١٠٢٠٣-١٢٣٤', // Arabic-Indic digits
      '０１０２０３-１２３４', // full-width digits
    ]) {
      expect(normalizeCpr(input), JSON.stringify(input)).toBeUndefined();
    }
  });

  it('accepts every written form of 10 digits (property)', () => {
    fc.assert(
      fc.property(
        tenDigits,
        fc.constantFrom('', '-', ' '),
        fc.constantFrom('', ' ', '\t', '\n '),
        fc.constantFrom('', ' ', '\t', '\r\n'),
        (digits, separator, before, after) => {
          const input = `${before}${digits.slice(0, 6)}${separator}${digits.slice(6)}${after}`;
          expect(normalizeCpr(input)).toBe(digits);
        },
      ),
    );
  });

  it('returns 10 digits or undefined for any string, never throwing (property)', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 20 }), (input) => {
        const result = normalizeCpr(input);
        if (result !== undefined) {
          expect(result).toMatch(/^[0-9]{10}$/);
          expect(input.replace(/[\s-]/g, '')).toBe(result);
        }
      }),
    );
  });
});

describe('cprBirthDate', () => {
  it('applies the century rule from the 7th digit', () => {
    // [DDMMYY, 7th digit, expected year]
    const table: [string, number, number][] = [
      ['010100', 0, 1900],
      ['010136', 0, 1936],
      ['010137', 1, 1937],
      ['010157', 2, 1957],
      ['010158', 3, 1958],
      ['010199', 3, 1999],
      ['010100', 4, 2000],
      ['010136', 4, 2036],
      ['010137', 4, 1937],
      ['010199', 4, 1999],
      ['010100', 9, 2000],
      ['010136', 9, 2036],
      ['010137', 9, 1937],
      ['010199', 9, 1999],
      ['010100', 5, 2000],
      ['010136', 6, 2036],
      ['010137', 7, 2037],
      ['010157', 8, 2057],
      ['010158', 5, 1858],
      ['010199', 8, 1899],
      ['010158', 6, 1858],
      ['010175', 7, 1875],
    ];
    for (const [date, digit, year] of table) {
      const cpr = `${date}${digit}123`;
      expect(cprBirthDate(cpr), cpr).toBe(`${year}-01-01`);
    }
  });

  it('reads day and month', () => {
    expect(cprBirthDate('3112991234')).toBe('1999-12-31');
    expect(cprBirthDate('1507104321')).toBe('2010-07-15');
  });

  it('checks leap years in the decoded century', () => {
    expect(cprBirthDate('2902004123')).toBe('2000-02-29');
    expect(cprBirthDate('2902005123')).toBe('2000-02-29');
    expect(cprBirthDate('2902009123')).toBe('2000-02-29');
    expect(cprBirthDate('2902000123')).toBeUndefined(); // 1900 was not a leap year
    expect(cprBirthDate('2902963123')).toBe('1996-02-29');
    expect(cprBirthDate('2902244123')).toBe('2024-02-29');
    expect(cprBirthDate('2902605123')).toBe('1860-02-29');
    expect(cprBirthDate('2902585123')).toBeUndefined(); // 1858
    for (let digit = 0; digit <= 9; digit++) {
      expect(cprBirthDate(`290201${digit}123`)).toBeUndefined(); // 2001 and 1901
      expect(cprBirthDate(`290225${digit}123`)).toBeUndefined(); // 2025 and 1925
    }
  });

  it('rejects dates that do not exist and inputs that are not 10 digits', () => {
    for (const digits of [
      '3002004123',
      '3104991234',
      '3106991234',
      '0001991234',
      '3201991234',
      '0100991234',
      '0113991234',
      '010203-1234',
      '010203123',
      '01020312345',
      '01020312a4',
      '',
    ]) {
      expect(cprBirthDate(digits), digits).toBeUndefined();
    }
  });

  it('round-trips every date through a CPR number with a matching 7th digit (property)', () => {
    fc.assert(
      fc.property(cprEraDate, fc.nat(), fc.stringMatching(/^[0-9]{3}$/), (date, pick, rest) => {
        const digits = seventhDigitsFor(Number(date.slice(0, 4)));
        expect(digits.length).toBeGreaterThan(0);
        const digit = digits[pick % digits.length];
        expect(cprBirthDate(`${ddmmyy(date)}${digit}${rest}`)).toBe(date);
      }),
    );
  });

  it('never decodes a date with a 7th digit of another century (property)', () => {
    fc.assert(
      fc.property(cprEraDate, fc.integer({ min: 0, max: 9 }), (date, digit) => {
        const matches = seventhDigitsFor(Number(date.slice(0, 4))).includes(digit);
        const decoded = cprBirthDate(`${ddmmyy(date)}${digit}000`);
        if (matches) expect(decoded).toBe(date);
        else expect(decoded).not.toBe(date);
      }),
    );
  });

  it('decodes any 10 digits to undefined or a date with the same DDMMYY (property)', () => {
    fc.assert(
      fc.property(tenDigits, (digits) => {
        const date = cprBirthDate(digits);
        if (date !== undefined) {
          expect(ddmmyy(date)).toBe(digits.slice(0, 6));
          const year = Number(date.slice(0, 4));
          expect(year).toBeGreaterThanOrEqual(1858);
          expect(year).toBeLessThanOrEqual(2057);
          expect(seventhDigitsFor(year)).toContain(Number(digits[6]));
        }
      }),
    );
  });
});

describe('cprModulus11Valid', () => {
  it('computes the historical check', () => {
    expect(cprModulus11Valid('0707614285')).toBe(true);
    expect(cprModulus11Valid('0101001237')).toBe(true);
    expect(cprModulus11Valid('0101900002')).toBe(true);
    expect(cprModulus11Valid('0707614286')).toBe(false);
    expect(cprModulus11Valid('0101004000')).toBe(false);
    expect(cprModulus11Valid('070761-4285')).toBe(false);
    expect(cprModulus11Valid('')).toBe(false);
  });

  it('is not applied when parsing: numbers failing it are accepted', () => {
    expect(cprModulus11Valid('2902004000')).toBe(false);
    expect(parseCpr('290200-4000')).toEqual({
      ok: true,
      digits: '2902004000',
      birthDate: '2000-02-29',
    });
  });

  it('fails when any single digit changes (property)', () => {
    fc.assert(
      fc.property(
        tenDigits.filter(cprModulus11Valid),
        fc.integer({ min: 0, max: 9 }),
        fc.integer({ min: 1, max: 9 }),
        (digits, position, delta) => {
          const changed = (Number(digits[position]) + delta) % 10;
          const other = `${digits.slice(0, position)}${changed}${digits.slice(position + 1)}`;
          expect(cprModulus11Valid(other)).toBe(false);
        },
      ),
      { numRuns: 50 },
    );
  });
});

describe('parseCpr', () => {
  it('returns the digits and birth date', () => {
    expect(parseCpr(' 150710-4321 ')).toEqual({
      ok: true,
      digits: '1507104321',
      birthDate: '2010-07-15',
    });
    expect(parseCpr('3112995000')).toEqual({
      ok: true,
      digits: '3112995000',
      birthDate: '1899-12-31',
    });
  });

  it('tells a format error from a date error', () => {
    expect(parseCpr('01020312345')).toEqual({ ok: false, reason: 'format' });
    expect(parseCpr('010203--1234')).toEqual({ ok: false, reason: 'format' });
    expect(parseCpr('01020A-1234')).toEqual({ ok: false, reason: 'format' });
    expect(parseCpr('')).toEqual({ ok: false, reason: 'format' });
    expect(parseCpr('290201-4123')).toEqual({ ok: false, reason: 'date' });
    // DDMMYY: 290100 is 29 January, a real date.
    expect(cprBirthDate('2901004123')).toBe('2000-01-29');
    expect(parseCpr('320199-1234')).toEqual({ ok: false, reason: 'date' });
    expect(parseCpr('011399-1234')).toEqual({ ok: false, reason: 'date' });
  });

  it('agrees with normalizeCpr and cprBirthDate for any string (property)', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 14 }),
          tenDigits,
          tenDigits.map((d) => `${d.slice(0, 6)}-${d.slice(6)}`),
        ),
        (input) => {
          const result = parseCpr(input);
          const digits = normalizeCpr(input);
          if (digits === undefined) {
            expect(result).toEqual({ ok: false, reason: 'format' });
          } else {
            const birthDate = cprBirthDate(digits);
            expect(result).toEqual(
              birthDate === undefined
                ? { ok: false, reason: 'date' }
                : { ok: true, digits, birthDate },
            );
          }
        },
      ),
    );
  });
});

describe('hashCpr', () => {
  it('is HMAC-SHA256 of municipality and digits under the secret, 32 bytes', () => {
    const hash = hashCpr('0102031234', 'kommune-101', SECRET);
    expect(hash).toBeInstanceOf(Buffer);
    expect(hash).toHaveLength(32);
    const expected = createHmac('sha256', SECRET).update('kommune-101:0102031234').digest();
    expect(hash.equals(expected)).toBe(true);
  });

  it('takes the secret as a string or as bytes', () => {
    const bytes = Buffer.from(SECRET, 'utf8');
    expect(hashCpr('0102031234', 'kommune-101', bytes)).toEqual(
      hashCpr('0102031234', 'kommune-101', SECRET),
    );
  });

  it('depends on the secret', () => {
    expect(hashCpr('0102031234', 'kommune-101', 'a')).not.toEqual(
      hashCpr('0102031234', 'kommune-101', 'b'),
    );
  });

  it('refuses non-normalized digits without echoing them', () => {
    for (const digits of ['010203-1234', ' 0102031234', '010203123', '']) {
      let message = '';
      try {
        hashCpr(digits, 'kommune-101', SECRET);
      } catch (error) {
        expect(error).toBeInstanceOf(RangeError);
        message = (error as Error).message;
      }
      expect(message).not.toBe('');
      expect(message).not.toContain('010203');
    }
    expect(() => hashCpr('0102031234', '', SECRET)).toThrow(RangeError);
    expect(() => hashCpr('0102031234', 'kommune-101', '')).toThrow(RangeError);
    expect(() => hashCpr('0102031234', 'kommune-101', Buffer.alloc(0))).toThrow(RangeError);
  });

  it('is deterministic and differs across municipalities and numbers (property)', () => {
    fc.assert(
      fc.property(
        tenDigits,
        tenDigits,
        fc.string({ minLength: 1, maxLength: 40 }),
        fc.string({ minLength: 1, maxLength: 40 }),
        (a, b, m1, m2) => {
          const hash = hashCpr(a, m1, SECRET);
          expect(hash).toHaveLength(32);
          expect(hashCpr(a, m1, SECRET).equals(hash)).toBe(true);
          expect(hashCpr(a, m2, SECRET).equals(hash)).toBe(m1 === m2);
          expect(hashCpr(b, m1, SECRET).equals(hash)).toBe(a === b);
        },
      ),
    );
  });
});
