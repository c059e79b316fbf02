/*
 * The parent view (issue 18, point 2): what a parent who opened the unit's link may see of their
 * child. Pure: the service reads the facts and asks these functions.
 */

/**
 * Red flag categories under which the parents must not be told anything first (domain: "do not
 * inform parents first when that could endanger the child"); a guide may name more (its
 * inform-parents step's `unlessRedFlagCategories`, kept on the child's parent notices).
 */
export const parentRiskCategories = ['violence', 'sexual_abuse'] as const;

export interface WithholdingFacts {
  /**
   * The child's current assessments with red flags (withdrawn or corrected ones do not count),
   * with when each was recorded (the database's clock, ISO 8601).
   */
  flagged: readonly { recordedAt: string; redFlags: readonly string[] }[];
  /** The child's parent notices (issue 18, point 1) of current assessments. */
  notices: readonly {
    /** When the notice's assessment was recorded (the database's clock). */
    recordedAt: string;
    status: 'open' | 'informed' | 'not_informed_risk' | 'superseded';
    riskCategories: readonly string[];
    /**
     * When a leader recorded the parents informed while the child was at risk (the database's
     * clock): the one thing that lifts the risks recorded before it.
     */
    riskLiftedAt: string | null;
  }[];
}

/**
 * Whether the parent view must show nothing: while a current assessment carries a red flag of
 * violence or abuse (or a notice records a guide's risk category), until a leader records the
 * parents informed after that assessment was recorded — under such a flag only a leader records
 * it (src/features/parent-notices). Ordered by when things were recorded, not by the dates
 * typed in: a backdated flag, or staff recording the parents informed of a later assessment,
 * does not open the view. Then the view shows nothing at all, as if nothing were shared yet.
 */
export function parentViewWithheld({ flagged, notices }: WithholdingFacts): boolean {
  const risks = [
    ...flagged
      .filter((a) =>
        a.redFlags.some((c) => (parentRiskCategories as readonly string[]).includes(c)),
      )
      .map((a) => a.recordedAt),
    ...notices
      .filter((n) => n.riskCategories.length > 0 && n.status !== 'superseded')
      .map((n) => n.recordedAt),
  ];
  const lifts = notices.flatMap((n) => (n.riskLiftedAt ? [n.riskLiftedAt] : []));
  return risks.some((risk) => !lifts.some((lifted) => lifted >= risk));
}

/**
 * The uses a parent's access log lists: of what the view itself shows, and of the child's
 * record as a whole (the child, enrolments, handovers, the dossier). Uses of flags, concern
 * reports, social-worker assignments, self-reports and the like are left out: they may concern
 * what the parents are not to know yet, or what the child chose not to share. The full log of a
 * child is the dossier (an access request to the municipality, art. 15, where restrictions are
 * weighed).
 */
export const parentAccessLogResources = [
  'child',
  'enrolment',
  'assessment',
  'recommendation',
  'step',
  'consent',
  'parent_notice',
  'parent_link',
  'parent_session',
  'handover',
  'dossier',
] as const;
export type ParentAccessLogResource = (typeof parentAccessLogResources)[number];

/** What the parents' access log says of one audit entry's principal. */
export type AccessActor =
  | { kind: 'staff'; role: string; unitIds: readonly string[] | null }
  | { kind: 'parent' }
  | { kind: 'service' };

export function accessActor(entry: {
  principalKind: string;
  role: string;
  unitIds: readonly string[] | null;
}): AccessActor {
  if (entry.principalKind === 'parent') return { kind: 'parent' };
  if (entry.principalKind === 'system') return { kind: 'service' };
  return { kind: 'staff', role: entry.role, unitIds: entry.unitIds };
}
