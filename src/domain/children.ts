import type { FieldError } from '../errors.js';
import { parseCpr } from './cpr.js';

/**
 * A child's master-data rules, pure: shared by the single create and change routes and by the
 * roster import, so a row of an import is refused exactly when the same child sent to
 * POST /v1/children would be.
 */

/** A birth date may not lie after today (Copenhagen). */
export function birthDateErrors(birthDate: string, today: string, path: string): FieldError[] {
  return birthDate > today ? [{ path, message: 'is in the future', code: 'future_date' }] : [];
}

/**
 * CPR rules: a valid number whose date part is the child's birth date. Returns its normalized
 * digits (to hash) or the errors; the number itself never appears in an error.
 */
export function cprErrors(
  cpr: string,
  birthDate: string,
  path: string,
): { digits: string; errors: [] } | { digits?: undefined; errors: FieldError[] } {
  const parsed = parseCpr(cpr);
  if (!parsed.ok) {
    return {
      errors: [
        {
          path,
          message:
            parsed.reason === 'format'
              ? 'must be a CPR number: DDMMYY-SSSS or 10 digits'
              : 'does not contain a real birth date',
          code: `invalid_cpr_${parsed.reason}`,
        },
      ],
    };
  }
  if (parsed.birthDate !== birthDate) {
    return {
      errors: [
        {
          path,
          message: 'its birth date does not match birthDate',
          code: 'cpr_birth_date_mismatch',
        },
      ],
    };
  }
  return { digits: parsed.digits, errors: [] };
}
