import { addDays } from './dates.js';
import type { AssessmentFacts, GuideDefinition, Recommendation } from './guides/definition.js';

/*
 * Parent information as a tracked duty (issue 18; TOPI's rule that parents are informed whenever
 * the child's position changes, and the art. 13/14 duty to tell them what is registered). Pure:
 * the service stores what this decides.
 */

export const parentNoticeReasons = ['first_assessment', 'zone_change'] as const;
export type ParentNoticeReason = (typeof parentNoticeReasons)[number];

/** How the parents were informed. */
export const informMethods = ['meeting', 'letter', 'phone', 'digital_post'] as const;
export type InformMethod = (typeof informMethods)[number];

export interface ParentNoticeDue {
  reason: ParentNoticeReason;
  zone: 'green' | 'yellow' | 'red';
  previousZone: 'green' | 'yellow' | 'red' | null;
  /** The assessment's date plus the guide's inform-parents deadline. */
  dueOn: string;
  /**
   * The red flag categories present for which the guide says not to inform the parents first
   * (violence, sexual abuse): the duty may then be closed as "not informed: risk to the child",
   * by a leader with a reason, and informing is not offered until one decides.
   */
  riskCategories: string[];
}

/**
 * The parent-information duty an assessment creates, if any: the child's first assessment with
 * a zone on this ruler family (`recommendation.previousZone` null), or a zone other than the
 * last one. An assessment without a zone (insufficient data) creates none. `recommendation` is
 * `recommend`'s answer for the same assessment; the deadline and the risk categories are the
 * guide's inform-parents step's (`deadlineDays`, `conditions.unlessRedFlagCategories`).
 */
export function parentNoticeFor(
  current: Pick<AssessmentFacts, 'assessedOn' | 'redFlagCategories'>,
  recommendation: Pick<Recommendation, 'zone' | 'previousZone' | 'zoneChanged'>,
  guide: Pick<GuideDefinition, 'trajectory'>,
): ParentNoticeDue | null {
  const { zone, previousZone, zoneChanged } = recommendation;
  if (zone === null) return null;
  const reason: ParentNoticeReason | null =
    previousZone === null ? 'first_assessment' : zoneChanged ? 'zone_change' : null;
  if (reason === null) return null;
  const step = guide.trajectory.informParentsStep;
  const unless: readonly string[] = step.conditions.unlessRedFlagCategories ?? [];
  return {
    reason,
    zone,
    previousZone,
    dueOn: addDays(current.assessedOn, step.deadlineDays),
    riskCategories: [
      ...new Set(current.redFlagCategories.filter((c) => unless.includes(c))),
    ].sort(),
  };
}

export type ParentNoticeClosing =
  | { outcome: 'informed'; informedOn: string; method: InformMethod }
  | { outcome: 'not_informed_risk'; reason: string };

/**
 * Why a closing is refused, or null when it may be recorded: `forbidden` when another person
 * (a leader) has to decide, `conflict` when the notice or the date does not allow it.
 */
export function closingRefusal(
  notice: {
    status: string;
    riskCategories: readonly string[];
    createdOn: string;
    /**
     * The child's parents must not be told anything now (`parentViewWithheld`): a later
     * assessment's violence or abuse flag reaches this older notice too.
     */
    childAtRisk?: boolean;
  },
  closing: ParentNoticeClosing,
  by: { isLeader: boolean },
  today: string,
): { kind: 'forbidden' | 'conflict'; detail: string } | null {
  const conflict = (detail: string) => ({ kind: 'conflict' as const, detail });
  const forbidden = (detail: string) => ({ kind: 'forbidden' as const, detail });
  if (notice.status !== 'open') return conflict('The parents’ information is recorded already.');
  if (closing.outcome === 'not_informed_risk') {
    if (notice.riskCategories.length === 0) {
      return conflict('Not informing the parents is only for a red flag of violence or abuse.');
    }
    if (!by.isLeader)
      return forbidden('Only a unit leader or the administrator decides not to inform.');
    return null;
  }
  if ((notice.riskCategories.length > 0 || notice.childAtRisk === true) && !by.isLeader) {
    return forbidden(
      'A red flag of violence or abuse: a leader decides whether to inform the parents.',
    );
  }
  if (closing.informedOn > today) return conflict('informedOn is in the future.');
  if (closing.informedOn < notice.createdOn) {
    return conflict('informedOn is before the assessment that made the duty.');
  }
  return null;
}
