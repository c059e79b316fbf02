import type { FieldError } from '../errors.js';

/**
 * Enrolment rules, pure. A child is in at most one unit of each category at a time (one daycare
 * place, one school, one after-school offer), and never twice in the same unit at once; school
 * and after-school care at the same time is normal. Dates are inclusive; a null end is open.
 */
export type UnitCategory = 'daycare' | 'school' | 'after_school' | 'health_visiting';

const categoryOfKind: Record<string, UnitCategory> = {
  family_daycare: 'daycare',
  nursery: 'daycare',
  kindergarten: 'daycare',
  integrated_daycare: 'daycare',
  school: 'school',
  after_school: 'after_school',
  club: 'after_school',
  health_visiting: 'health_visiting',
};

export function unitCategory(kind: string): UnitCategory {
  const category = categoryOfKind[kind];
  if (!category) throw new Error(`unknown unit kind ${kind}`);
  return category;
}

export interface Period {
  start: string;
  end: string | null;
}

export function periodsOverlap(a: Period, b: Period): boolean {
  return (b.end === null || a.start <= b.end) && (a.end === null || b.start <= a.end);
}

export function periodContains(p: Period, date: string): boolean {
  return p.start <= date && (p.end === null || date <= p.end);
}

export interface EnrolmentLike extends Period {
  id: string;
  unitId: string;
  unitKind: string;
}

/** The existing enrolments a new or changed one may not overlap with. */
export function conflictingEnrolments(
  candidate: Omit<EnrolmentLike, 'id'> & { id?: string },
  existing: readonly EnrolmentLike[],
): EnrolmentLike[] {
  const category = unitCategory(candidate.unitKind);
  return existing.filter(
    (e) =>
      e.id !== candidate.id &&
      (e.unitId === candidate.unitId || unitCategory(e.unitKind) === category) &&
      periodsOverlap(e, candidate),
  );
}

/**
 * The date rules of one enrolment: it ends on or after its start, and starts on or after the
 * child's birth. `path` names the enrolment in the request (e.g. `body` or `body.enrolment`).
 */
export function enrolmentPeriodErrors(
  period: Period,
  birthDate: string,
  path: string,
): FieldError[] {
  const errors: FieldError[] = [];
  if (period.end !== null && period.end < period.start) {
    errors.push({ path: `${path}.endDate`, message: 'is before startDate', code: 'before_start' });
  }
  if (period.start < birthDate) {
    errors.push({
      path: `${path}.startDate`,
      message: 'is before the birth date',
      code: 'before_birth',
    });
  }
  return errors;
}
