import { type Kysely, sql } from 'kysely';

/**
 * Whether the parents were informed is recorded by the recommendation's inform-parents step
 * (issue 12, point 11). Until now an assessment submitted with `parentsInformed: true` left that
 * step open, so the two records disagreed. Such steps are closed here as done when and by whom
 * the assessment was recorded, so earlier assessments keep showing that the parents were
 * informed. `down` reopens exactly the steps this migration closed (by their reason).
 *
 * Frozen in time: never import application code here.
 */
const REASON = 'Parents informed (recorded with the assessment)';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    UPDATE recommendation_steps s
    SET status = 'done', status_reason = ${REASON},
        status_changed_at = a.created_at, status_changed_by = a.created_by
    FROM recommendations rec
    JOIN assessments a ON a.id = rec.assessment_id AND a.municipality_id = rec.municipality_id
    WHERE s.recommendation_id = rec.id AND s.municipality_id = rec.municipality_id
      AND s.purpose = 'inform_parents' AND s.status = 'open' AND a.parents_informed
  `.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`
    UPDATE recommendation_steps
    SET status = 'open', status_reason = NULL, status_changed_at = NULL, status_changed_by = NULL
    WHERE purpose = 'inform_parents' AND status = 'done' AND status_reason = ${REASON}
  `.execute(db);
}
