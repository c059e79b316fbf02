import { latestBirthDateForAge } from './dates.js';

/** What the age rule of a round needs: its window start and age range in whole months. */
export interface RoundAges {
  window_start: string;
  min_age_months: number | null;
  max_age_months: number | null;
}

/**
 * Birth-date bounds of the round's age range (age in whole months at window start, as
 * ageInMonths counts it): born on or before `bornTo`, and strictly after `bornFrom`.
 */
export function birthBounds(round: RoundAges): { bornFrom?: string; bornTo?: string } {
  return {
    ...(round.min_age_months !== null
      ? { bornTo: latestBirthDateForAge(round.window_start, round.min_age_months) }
      : {}),
    // At most max months old ⇔ not yet max + 1 months old.
    ...(round.max_age_months !== null
      ? { bornFrom: latestBirthDateForAge(round.window_start, round.max_age_months + 1) }
      : {}),
  };
}
