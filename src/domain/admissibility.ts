import type { FieldError } from '../errors.js';
import { ageInMonths } from './dates.js';
import { periodContains } from './enrolments.js';
import type { Rating, RulerDefinition } from './rulers/definition.js';
import { answerDefects } from './rulers/validate.js';

/** What an assessment is checked against: the child, the unit, its enrolments there, the round. */
export interface AdmissibilityFacts {
  /** Today in Copenhagen. */
  today: string;
  assessedOn: string;
  /** The ruler version the caller named, if any. */
  rulerVersionId?: string | undefined;
  child: { birthDate: string };
  unit: { id: string; kind: string };
  /** The child's enrolments in the unit. */
  enrolments: readonly { start: string; end: string | null }[];
  round?:
    | {
        rulerVersionId: string;
        windowStart: string;
        windowEnd: string;
        unitIds: readonly string[];
        unitKinds: readonly string[];
        /** Born after this date (exclusive), if the round has an upper age. */
        bornFrom: string | null;
        /** Born on or before this date, if the round has a lower age. */
        bornTo: string | null;
      }
    | undefined;
}

/**
 * Whether an assessment may be recorded for this child, unit, date and round: every broken rule
 * at once, as field errors of the request body, and the ruler version it is to be made on (the
 * round's, else the one named; none when neither).
 */
export function admissibility(f: AdmissibilityFacts): {
  errors: FieldError[];
  rulerVersionId: string | undefined;
} {
  const errors: FieldError[] = [];
  if (f.assessedOn > f.today) {
    errors.push({ path: 'body.assessedOn', message: 'is in the future', code: 'future_date' });
  }
  if (!f.enrolments.some((e) => periodContains(e, f.assessedOn))) {
    errors.push({
      path: 'body.assessedOn',
      message: `the child is not enrolled in unit ${f.unit.id} on this date`,
      code: 'outside_enrolment',
    });
  }
  const round = f.round;
  if (!round) return { errors, rulerVersionId: f.rulerVersionId };
  if (f.rulerVersionId && f.rulerVersionId !== round.rulerVersionId) {
    errors.push({
      path: 'body.rulerVersionId',
      message: `the round uses ruler version ${round.rulerVersionId}`,
      code: 'not_the_rounds_ruler',
    });
  }
  if (f.assessedOn < round.windowStart || f.assessedOn > round.windowEnd) {
    errors.push({
      path: 'body.assessedOn',
      message: `is outside the round's window ${round.windowStart} – ${round.windowEnd}`,
      code: 'outside_round_window',
    });
  }
  if (
    (round.unitIds.length > 0 && !round.unitIds.includes(f.unit.id)) ||
    (round.unitKinds.length > 0 && !round.unitKinds.includes(f.unit.kind))
  ) {
    errors.push({
      path: 'body.unitId',
      message: 'the round does not cover this unit',
      code: 'unit_not_in_round',
    });
  }
  const birth = f.child.birthDate;
  if ((round.bornTo && birth > round.bornTo) || (round.bornFrom && birth <= round.bornFrom)) {
    errors.push({
      path: 'body.childId',
      message: `the child (${ageInMonths(birth, round.windowStart)} months at the window start) is outside the round's age range`,
      code: 'child_not_in_round',
    });
  }
  return { errors, rulerVersionId: round.rulerVersionId };
}

/** What the ruler asks of an assessment: enough raters, and answers it can classify. */
export function rulerDefects(
  ruler: RulerDefinition,
  input: {
    rating: Rating;
    redFlags: readonly string[];
    raters: readonly { rating?: Rating | undefined }[];
  },
): FieldError[] {
  const errors: FieldError[] = [];
  if (input.raters.length < ruler.ratersRequired) {
    errors.push({
      path: 'body.raters',
      message: `the ruler needs a joint assessment by at least ${ruler.ratersRequired} raters`,
      code: 'too_few_raters',
    });
  }
  errors.push(
    ...answerDefects(ruler, input.rating, [...input.redFlags], 'body.rating').map((d) => ({
      ...d,
      path: d.path.startsWith('redFlags') ? `body.${d.path}` : d.path,
    })),
  );
  input.raters.forEach((rater, index) => {
    if (rater.rating) {
      errors.push(...answerDefects(ruler, rater.rating, [], `body.raters.${index}.rating`));
    }
  });
  return errors;
}
