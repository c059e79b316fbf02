/**
 * Calendar helpers. A date is a string 'YYYY-MM-DD' (proleptic Gregorian calendar, years
 * 0000-9999); there is no time of day and no time zone. Arithmetic is done on UTC midnights
 * (Date.UTC), so the host's time zone and daylight saving never shift a date.
 *
 * Everything here is pure, except that `localDate` reads the clock it is given (`now`) and the
 * platform's time-zone database. Functions taking dates throw a RangeError when an argument is
 * not a valid date; use `isIsoDate` to check untrusted input first.
 */

/** Municipal business dates ("today", deadlines, ages) are taken in Danish local time. */
export const MUNICIPAL_TIME_ZONE = 'Europe/Copenhagen';

const DAY_MS = 86_400_000;
const ISO_DATE_PATTERN = /^(\d{4})-(\d{2})-(\d{2})$/;

interface Ymd {
  year: number;
  month: number; // 1-12
  day: number; // 1-31
}

const formatters = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  let formatter = formatters.get(timeZone);
  if (formatter === undefined) {
    // Throws a RangeError for an unknown time zone.
    formatter = new Intl.DateTimeFormat('en-US', {
      timeZone,
      calendar: 'gregory',
      numberingSystem: 'latn',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
    });
    formatters.set(timeZone, formatter);
  }
  return formatter;
}

/**
 * The calendar date 'YYYY-MM-DD' at the instant `now` in `timeZone` (by default Danish time):
 * 2026-03-28T23:30:00Z is 2026-03-29 in Copenhagen (UTC+1), 2026-07-01T22:30:00Z is 2026-07-02
 * (UTC+2). Throws a RangeError for an invalid Date or an unknown time zone.
 */
export function localDate(now: Date, timeZone: string = MUNICIPAL_TIME_ZONE): string {
  if (Number.isNaN(now.getTime())) throw new RangeError('localDate: invalid Date');
  let year: string | undefined;
  let month: string | undefined;
  let day: string | undefined;
  for (const part of formatterFor(timeZone).formatToParts(now)) {
    if (part.type === 'year') year = part.value;
    else if (part.type === 'month') month = part.value;
    else if (part.type === 'day') day = part.value;
  }
  if (year === undefined || month === undefined || day === undefined) {
    throw new RangeError('localDate: the platform did not format a date');
  }
  const date = `${year.padStart(4, '0')}-${month.padStart(2, '0')}-${day.padStart(2, '0')}`;
  if (!isIsoDate(date)) throw new RangeError('localDate: date outside years 0000-9999');
  return date;
}

function isLeapYear(year: number): boolean {
  return (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
}

/** Number of days in `month` (1-12) of `year`. */
export function daysInMonth(year: number, month: number): number {
  if (month === 2) return isLeapYear(year) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

function parse(s: string): Ymd | undefined {
  const match = ISO_DATE_PATTERN.exec(s);
  if (match === null) return undefined;
  const year = Number(match[1]);
  const month = Number(match[2]);
  const day = Number(match[3]);
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth(year, month)) return undefined;
  return { year, month, day };
}

function parseOrThrow(s: string, name: string): Ymd {
  const ymd = parse(s);
  if (ymd === undefined) throw new RangeError(`${name}: not a valid date 'YYYY-MM-DD'`);
  return ymd;
}

/** True when `s` is exactly 'YYYY-MM-DD' and names a real calendar date (leap years included). */
export function isIsoDate(s: string): boolean {
  return parse(s) !== undefined;
}

/** Milliseconds of UTC midnight; setUTCFullYear because Date.UTC maps years 0-99 to 1900-1999. */
function toUtcMs({ year, month, day }: Ymd): number {
  const date = new Date(Date.UTC(2000, 0, 1));
  date.setUTCFullYear(year, month - 1, day);
  return date.getTime();
}

function fromUtcMs(ms: number, name: string): string {
  const date = new Date(ms);
  const year = date.getUTCFullYear();
  if (Number.isNaN(year) || year < 0 || year > 9999) {
    throw new RangeError(`${name}: result outside years 0000-9999`);
  }
  const mm = String(date.getUTCMonth() + 1).padStart(2, '0');
  const dd = String(date.getUTCDate()).padStart(2, '0');
  return `${String(year).padStart(4, '0')}-${mm}-${dd}`;
}

function assertInteger(n: number, name: string): void {
  if (!Number.isSafeInteger(n)) throw new RangeError(`${name}: expected an integer, got ${n}`);
}

/**
 * Whole months completed from `birthDate` to `on`:
 * (y2 - y1) * 12 + (m2 - m1), minus one when day2 < day1 unless `on` is the last day of its
 * month (a month ending before the birth day-of-month still counts once it is over). So a child
 * born 2020-01-31 is 1 month old on 2020-02-29 (not on 2020-02-28), and one born 2016-02-29 is
 * 12 months old on 2017-02-28. Equivalently: the largest n with addMonths(birthDate, n) <= on.
 *
 * Zero on the day of birth. When `on` is before `birthDate` the same formula gives a negative
 * number (the day before birth is -1), so the result is negative exactly when on < birthDate,
 * and it is non-decreasing in `on`.
 */
export function ageInMonths(birthDate: string, on: string): number {
  const b = parseOrThrow(birthDate, 'ageInMonths');
  const o = parseOrThrow(on, 'ageInMonths');
  let months = (o.year - b.year) * 12 + (o.month - b.month);
  if (o.day < b.day && o.day !== daysInMonth(o.year, o.month)) months -= 1;
  return months;
}

/** Whole years completed: floor(ageInMonths / 12); negative (-1 or less) before birth. */
export function ageInYears(birthDate: string, on: string): number {
  return Math.floor(ageInMonths(birthDate, on) / 12);
}

/** `date` plus `days` (an integer, possibly negative) calendar days. */
export function addDays(date: string, days: number): string {
  assertInteger(days, 'addDays');
  return fromUtcMs(toUtcMs(parseOrThrow(date, 'addDays')) + days * DAY_MS, 'addDays');
}

/**
 * `date` plus `months` (an integer, possibly negative) calendar months, the day clamped to the
 * end of the target month: addMonths('2020-01-31', 1) is '2020-02-29'.
 */
export function addMonths(date: string, months: number): string {
  assertInteger(months, 'addMonths');
  const { year, month, day } = parseOrThrow(date, 'addMonths');
  const index = year * 12 + (month - 1) + months;
  const targetYear = Math.floor(index / 12);
  const targetMonth = index - targetYear * 12 + 1;
  if (targetYear < 0 || targetYear > 9999) {
    throw new RangeError('addMonths: result outside years 0000-9999');
  }
  const targetDay = Math.min(day, daysInMonth(targetYear, targetMonth));
  return `${String(targetYear).padStart(4, '0')}-${String(targetMonth).padStart(2, '0')}-${String(targetDay).padStart(2, '0')}`;
}

/** -1 when a is before b, 0 when equal, 1 when after. */
export function compareDates(a: string, b: string): -1 | 0 | 1 {
  parseOrThrow(a, 'compareDates');
  parseOrThrow(b, 'compareDates');
  // Fixed-width 'YYYY-MM-DD' strings sort chronologically.
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The latest of the given dates. */
export function maxDate(first: string, ...rest: string[]): string {
  let result = first;
  parseOrThrow(first, 'maxDate');
  for (const date of rest) if (compareDates(date, result) > 0) result = date;
  return result;
}

/** The earliest of the given dates. */
export function minDate(first: string, ...rest: string[]): string {
  let result = first;
  parseOrThrow(first, 'minDate');
  for (const date of rest) if (compareDates(date, result) < 0) result = date;
  return result;
}

/**
 * The latest birth date of a child who is at least `months` old on `on` (ageInMonths >= months):
 * birthDate <= latestBirthDateForAge(on, m) ⇔ ageInMonths(birthDate, on) >= m. Lets an age range
 * become a birth-date range that SQL can use with an index. When `on` is the last day of its
 * month, every birth day of the target month qualifies (the month-end rule of ageInMonths).
 */
export function latestBirthDateForAge(on: string, months: number): string {
  const candidate = addMonths(on, -months);
  const o = parseOrThrow(on, 'latestBirthDateForAge');
  if (o.day !== daysInMonth(o.year, o.month)) return candidate;
  const c = parseOrThrow(candidate, 'latestBirthDateForAge');
  return `${candidate.slice(0, 8)}${String(daysInMonth(c.year, c.month)).padStart(2, '0')}`;
}
