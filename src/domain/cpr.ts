import { createHmac } from 'node:crypto';
import { isIsoDate } from './dates.js';

/**
 * Danish CPR numbers (personnummer): DDMMYY-SSSS, a birth date and a four-digit serial whose
 * first digit (the 7th digit overall) fixes the century.
 *
 * Privacy: a CPR number is never stored or logged in clear. It is parsed here, then only its
 * keyed hash (`hashCpr`, HMAC-SHA256 under the deployment secret, scoped to the municipality)
 * is kept; the birth date may be kept on its own. Nothing in this module writes a CPR number
 * into an error message or a log line, and callers must not either.
 *
 * The modulus-11 check is deliberately not applied: since 2007 numbers that fail it have been
 * issued (the serials ran out for some dates), so rejecting them would reject real people.
 * `cprModulus11Valid` is exported for information only.
 */

const CPR_INPUT_PATTERN = /^([0-9]{6})[- ]?([0-9]{4})$/;
const CPR_DIGITS_PATTERN = /^[0-9]{10}$/;

/**
 * The 10 digits of a CPR number written `DDMMYY-SSSS` or `DDMMYYSSSS` (at most one hyphen or
 * space between the two parts; surrounding whitespace ignored), or undefined when the format is
 * wrong. The date is not checked here; see `cprBirthDate` and `parseCpr`.
 */
export function normalizeCpr(input: string): string | undefined {
  const match = CPR_INPUT_PATTERN.exec(input.trim());
  if (match === null) return undefined;
  return `${match[1]}${match[2]}`;
}

/**
 * The full year for a two-digit year `yy` (0-99) and the 7th digit `d7` (0-9), by the official
 * rule of the CPR office:
 *   d7 0-3 -> 1900-1999;
 *   d7 4, 9 -> 2000-2036 when yy is 00-36, else 1937-1999;
 *   d7 5-8 -> 2000-2057 when yy is 00-57, else 1858-1899.
 */
function cprYear(yy: number, d7: number): number {
  if (d7 <= 3) return 1900 + yy;
  if (d7 === 4 || d7 === 9) return yy <= 36 ? 2000 + yy : 1900 + yy;
  return yy <= 57 ? 2000 + yy : 1800 + yy;
}

/**
 * The birth date 'YYYY-MM-DD' encoded in 10 CPR digits, or undefined when `digits` are not
 * exactly 10 digits or DDMMYY (with the century from the 7th digit) is not a real calendar
 * date: 290200-4xxx is 29 February 2000, 290100-xxxx does not exist.
 */
export function cprBirthDate(digits: string): string | undefined {
  if (!CPR_DIGITS_PATTERN.test(digits)) return undefined;
  const year = cprYear(Number(digits.slice(4, 6)), Number(digits[6]));
  const date = `${year}-${digits.slice(2, 4)}-${digits.slice(0, 2)}`;
  return isIsoDate(date) ? date : undefined;
}

const MODULUS_11_WEIGHTS = [4, 3, 2, 7, 6, 5, 4, 3, 2, 1] as const;

/**
 * Whether 10 CPR digits pass the historical modulus-11 check (weights 4 3 2 7 6 5 4 3 2 1, sum
 * divisible by 11). For information only: valid CPR numbers issued since 2007 may fail it, so it
 * must not be used to reject input.
 */
export function cprModulus11Valid(digits: string): boolean {
  if (!CPR_DIGITS_PATTERN.test(digits)) return false;
  let sum = 0;
  for (let i = 0; i < 10; i++) sum += Number(digits[i]) * (MODULUS_11_WEIGHTS[i] ?? 0);
  return sum % 11 === 0;
}

export type ParsedCpr =
  | { ok: true; digits: string; birthDate: string }
  | { ok: false; reason: 'format' | 'date' };

/**
 * Parses user input into the 10 digits and the birth date. `reason` says whether the shape was
 * wrong ('format') or the shape was right but the date does not exist ('date'). The input is not
 * echoed back in the failure, so the result is safe to log.
 */
export function parseCpr(input: string): ParsedCpr {
  const digits = normalizeCpr(input);
  if (digits === undefined) return { ok: false, reason: 'format' };
  const birthDate = cprBirthDate(digits);
  if (birthDate === undefined) return { ok: false, reason: 'date' };
  return { ok: true, digits, birthDate };
}

/**
 * The only form in which a CPR number is stored: HMAC-SHA256 keyed with the deployment secret
 * over `${municipalityId}:${digits}` (32 bytes). Scoping by municipality means the same person
 * hashes differently in each municipality, so hashes cannot be joined across tenants; the secret
 * means the hash cannot be reversed by enumerating the (small) space of CPR numbers without it.
 *
 * `digits` must be the normalized 10 digits (from `normalizeCpr`/`parseCpr`), so that every
 * written form of a number hashes alike; anything else throws a RangeError (without the input
 * in the message). The secret and the municipality id must be non-empty.
 */
export function hashCpr(digits: string, municipalityId: string, secret: Buffer | string): Buffer {
  if (!CPR_DIGITS_PATTERN.test(digits)) {
    throw new RangeError('hashCpr: expected the 10 normalized CPR digits');
  }
  if (municipalityId.length === 0) throw new RangeError('hashCpr: empty municipality id');
  if (secret.length === 0) throw new RangeError('hashCpr: empty secret');
  // digits has a fixed length at the end, so the message is unambiguous even if the id has ':'.
  return createHmac('sha256', secret).update(`${municipalityId}:${digits}`, 'utf8').digest();
}
