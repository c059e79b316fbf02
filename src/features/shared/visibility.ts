import { type RawBuilder, sql } from 'kysely';

/** Involve roles that stand for social work: child services and school social workers. */
export const SOCIAL_WORK_ROLES = ['child_services', 'school_social_worker'];

/** A request principal as assignments name it. */
export interface SocialWorker {
  kind: string;
  id: string;
}

/**
 * Whether the social worker is involved with the child (`childId`, a column reference): a step
 * for child services or a school social worker (responsible or involved), a concern report
 * (which goes to child services), or an explicit assignment of this social worker. Social
 * workers see exactly these children.
 */
export function involvesSocialWork(
  childId: string,
  municipalityId: string,
  worker: SocialWorker,
): RawBuilder<boolean> {
  const child = sql.ref(childId);
  return sql<boolean>`(EXISTS (
      SELECT 1 FROM recommendation_steps involved
      WHERE involved.child_id = ${child}
        AND involved.municipality_id = ${municipalityId}
        AND (involved.responsible = ANY(${sql.val(SOCIAL_WORK_ROLES)}::text[])
          OR involved.involve && ${sql.val(SOCIAL_WORK_ROLES)}::text[])
    ) OR EXISTS (
      SELECT 1 FROM concern_reports reported
      WHERE reported.child_id = ${child} AND reported.municipality_id = ${municipalityId}
    ) OR EXISTS (
      SELECT 1 FROM social_worker_assignments assigned
      WHERE assigned.child_id = ${child} AND assigned.municipality_id = ${municipalityId}
        AND assigned.principal_kind = ${worker.kind} AND assigned.principal_id = ${worker.id}
    ))`;
}

/**
 * Whether one of `unitIds` still owes the child follow-up: an open step its assessment
 * created. Such duties outlive the enrolment (Barnets Lov § 133), so the unit keeps seeing the
 * child until they are closed.
 */
export function owesFollowUp(childId: string, unitIds: readonly string[]): RawBuilder<boolean> {
  return sql<boolean>`EXISTS (
      SELECT 1 FROM recommendation_steps owed
      WHERE owed.child_id = ${sql.ref(childId)}
        AND owed.unit_id = ANY(${sql.val(unitIds)}::uuid[])
        AND owed.status = 'open'
    )`;
}
