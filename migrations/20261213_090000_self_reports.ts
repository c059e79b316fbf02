import { type Kysely, sql } from 'kysely';

/**
 * The child's own voice (issue 18, point 3): `self_reports` holds an older child's (10–16)
 * self-report on a ruler written for children, apart from the professionals' assessments:
 * the ruler's key and version, the answers, the zone they roll into (null: too few answered)
 * and its explanation, the unit where it was given, the day, who was present, and the
 * **purpose stated to the child** (`dialogue`, `support`, `statistics_only`), which decides who
 * may ever see it (src/domain/self-report.ts). `shared_with_parents` records whether the child
 * agreed that the parents may see it (for a parent view; false unless the child said yes).
 *
 * A self-report is never changed: the purpose stated to the child cannot be widened afterwards,
 * and the answers are the child's. Tenant rows under row-level security like every other; the
 * application role reads and inserts, never updates or deletes. Erasing the child deletes them
 * (ON DELETE CASCADE from the child); retention erases children, so it reaches them too.
 *
 * Frozen in time: never import application code here.
 */
const current = '(SELECT lineal_current_municipality())';

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE self_reports (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      municipality_id uuid NOT NULL,
      child_id uuid NOT NULL,
      unit_id uuid NOT NULL REFERENCES units (id),
      reported_on date NOT NULL,
      ruler_key text NOT NULL CHECK (char_length(ruler_key) BETWEEN 1 AND 100),
      ruler_version integer NOT NULL CHECK (ruler_version >= 1),
      answers jsonb NOT NULL,
      zone text CHECK (zone IN ('green', 'yellow', 'red')),
      score double precision,
      explanation jsonb NOT NULL,
      purpose text NOT NULL CHECK (purpose IN ('dialogue', 'support', 'statistics_only')),
      shared_with_parents boolean NOT NULL DEFAULT false,
      present_name text NOT NULL CHECK (char_length(present_name) BETWEEN 1 AND 200),
      present_role text NOT NULL CHECK (char_length(present_role) BETWEEN 1 AND 100),
      created_at timestamptz NOT NULL DEFAULT now(),
      created_by uuid NOT NULL,
      CONSTRAINT self_reports_child_fk FOREIGN KEY (child_id, municipality_id)
        REFERENCES children (id, municipality_id) ON DELETE CASCADE,
      CONSTRAINT self_reports_statistics_private CHECK (
        purpose <> 'statistics_only' OR shared_with_parents = false
      )
    )
  `.execute(db);
  await sql`
    CREATE INDEX self_reports_child_idx ON self_reports (municipality_id, child_id, reported_on)
  `.execute(db);
  // The anonymous aggregates read a period's reports.
  await sql`
    CREATE INDEX self_reports_date_idx ON self_reports (municipality_id, reported_on)
  `.execute(db);
  await sql`ALTER TABLE self_reports ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql
    .raw(
      `CREATE POLICY self_reports_tenant_isolation ON self_reports ` +
        `USING (municipality_id = ${current}) WITH CHECK (municipality_id = ${current})`,
    )
    .execute(db);
  await sql`GRANT SELECT, INSERT ON self_reports TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP TABLE self_reports`.execute(db);
}
