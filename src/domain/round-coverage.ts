import { periodsOverlap } from './enrolments.js';

/**
 * Whether a round covered a child: the child was enrolled in a unit the round covers (by unit id
 * and unit kind; an empty list covers all) at some point of its window, and was born within its
 * age range (birth-date bounds as `birthBounds` in the rounds repository gives them: born on or
 * before `bornTo` and strictly after `bornFrom`). The same rule as the coverage lists and the
 * `not_assessed` flags, for one child. Pure.
 */
export interface RoundCoverage {
  windowStart: string;
  windowEnd: string;
  unitIds: readonly string[];
  unitKinds: readonly string[];
  bornFrom?: string;
  bornTo?: string;
}

export interface EnrolledPeriod {
  unitId: string;
  unitKind: string;
  start: string;
  end: string | null;
}

export function roundCoversChild(
  round: RoundCoverage,
  birthDate: string,
  enrolments: readonly EnrolledPeriod[],
): boolean {
  if (round.bornTo !== undefined && birthDate > round.bornTo) return false;
  if (round.bornFrom !== undefined && birthDate <= round.bornFrom) return false;
  const window = { start: round.windowStart, end: round.windowEnd };
  return enrolments.some(
    (e) =>
      (round.unitIds.length === 0 || round.unitIds.includes(e.unitId)) &&
      (round.unitKinds.length === 0 || round.unitKinds.includes(e.unitKind)) &&
      periodsOverlap(e, window),
  );
}
