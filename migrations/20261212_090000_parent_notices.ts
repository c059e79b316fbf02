import { type Kysely, sql } from 'kysely';

/**
 * Parent information as a tracked duty (issue 18, point 1): `parent_notices` holds one row per
 * assessment that obliges the unit to inform the parents — the child's first assessment with a
 * zone on a ruler family, or a zone change (src/domain/parent-information.ts) — with its
 * deadline from the action guide, and how it was closed:
 *
 * - `informed`: when (`informed_on`), how (`method`: meeting, letter, phone, digital post; null
 *   when recorded with the assessment itself, `parentsInformed: true`), by whom and a note;
 * - `not_informed_risk`: a red flag of violence or abuse made informing the parents a risk to the
 *   child (`risk_categories`, kept from the assessment); a leader's decision with a reason;
 * - `superseded`: the assessment was corrected or withdrawn while the duty was open.
 *
 * Tenant rows under row-level security like every other; the application role inserts and
 * updates, never deletes. Their events (`parent_notice.created`, `.closed`) get the notice's unit
 * like those of recommendations, steps and flags (`lineal_event_unit`, migration
 * 20261209_090000), so unit feeds and unit webhooks carry them. Erasing the child deletes them (ON DELETE CASCADE from the child and
 * from the assessment).
 *
 * Frozen in time: never import application code here.
 */
const current = '(SELECT lineal_current_municipality())';

/** `lineal_event_unit` (migration 20261209_090000), with parent notices or without. */
const eventUnit = (withNotices: boolean) => `
  CREATE OR REPLACE FUNCTION lineal_event_unit() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF NEW.unit_id IS NULL THEN
      NEW.unit_id := CASE NEW.subject_type
        WHEN 'recommendation' THEN
          (SELECT unit_id FROM recommendations WHERE id = NEW.subject_id)
        WHEN 'step' THEN
          (SELECT unit_id FROM recommendation_steps WHERE id = NEW.subject_id)
        WHEN 'flag' THEN
          (SELECT unit_id FROM flags WHERE id = NEW.subject_id)${
            withNotices
              ? `
        WHEN 'parent_notice' THEN
          (SELECT unit_id FROM parent_notices WHERE id = NEW.subject_id)`
              : ''
          }
        ELSE NULL
      END;
    END IF;
    RETURN NEW;
  END $$
`;

export async function up(db: Kysely<any>): Promise<void> {
  await sql`
    CREATE TABLE parent_notices (
      id uuid PRIMARY KEY DEFAULT gen_random_uuid(),
      municipality_id uuid NOT NULL,
      child_id uuid NOT NULL,
      unit_id uuid NOT NULL REFERENCES units (id),
      assessment_id uuid NOT NULL REFERENCES assessments (id) ON DELETE CASCADE,
      reason text NOT NULL CHECK (reason IN ('first_assessment', 'zone_change')),
      zone text NOT NULL CHECK (zone IN ('green', 'yellow', 'red')),
      previous_zone text CHECK (previous_zone IN ('green', 'yellow', 'red')),
      assessed_on date NOT NULL,
      due_on date NOT NULL CHECK (due_on >= assessed_on),
      risk_categories text[] NOT NULL DEFAULT '{}',
      status text NOT NULL DEFAULT 'open'
        CHECK (status IN ('open', 'informed', 'not_informed_risk', 'superseded')),
      informed_on date CHECK (informed_on >= assessed_on),
      method text CHECK (method IN ('meeting', 'letter', 'phone', 'digital_post')),
      informed_by_name text CHECK (char_length(informed_by_name) BETWEEN 1 AND 200),
      informed_by_role text CHECK (char_length(informed_by_role) BETWEEN 1 AND 100),
      note text CHECK (char_length(note) BETWEEN 1 AND 2000),
      closed_at timestamptz,
      closed_by uuid,
      created_at timestamptz NOT NULL DEFAULT now(),
      CONSTRAINT parent_notices_child_fk FOREIGN KEY (child_id, municipality_id)
        REFERENCES children (id, municipality_id) ON DELETE CASCADE,
      CONSTRAINT parent_notices_assessment_unique UNIQUE (assessment_id),
      CONSTRAINT parent_notices_informed_on CHECK ((status = 'informed') = (informed_on IS NOT NULL)),
      CONSTRAINT parent_notices_closed CHECK ((status = 'open') = (closed_at IS NULL)),
      CONSTRAINT parent_notices_risk CHECK (
        status <> 'not_informed_risk' OR (note IS NOT NULL AND cardinality(risk_categories) > 0)
      )
    )
  `.execute(db);
  await sql`
    CREATE INDEX parent_notices_open_idx ON parent_notices (municipality_id, due_on, id)
      WHERE status = 'open'
  `.execute(db);
  await sql`
    CREATE INDEX parent_notices_child_idx ON parent_notices (municipality_id, child_id, assessed_on)
  `.execute(db);
  // A unit owes the parents' information after the child left: the child stays visible to it
  // while one is open (the access policy asks per child and unit).
  await sql`
    CREATE INDEX parent_notices_owed_idx ON parent_notices (child_id, unit_id) WHERE status = 'open'
  `.execute(db);
  await sql`ALTER TABLE parent_notices ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql
    .raw(
      `CREATE POLICY parent_notices_tenant_isolation ON parent_notices ` +
        `USING (municipality_id = ${current}) WITH CHECK (municipality_id = ${current})`,
    )
    .execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE ON parent_notices TO lineal_app`.execute(db);
  await sql.raw(eventUnit(true)).execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql.raw(eventUnit(false)).execute(db);
  await sql`DROP TABLE parent_notices`.execute(db);
}
