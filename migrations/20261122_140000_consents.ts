import { type Kysely, sql } from 'kysely';

/**
 * Transitions and consent: the recorded bases on which a unit may see what earlier units
 * recorded about a child.
 *
 * - `consents`: a child's (or its parents') consent to share named data categories with a
 *   recipient (a unit, a role, or a role in a unit) for a purpose, possibly until a date, and
 *   its revocation. What was consented to never changes: only the revocation columns may be
 *   set, once. Erasing the child deletes its consents (ON DELETE CASCADE).
 * - `transition_guidelines`: a municipality's standing decision that data moves with the child
 *   at a kind of transition (e.g. kindergarten → school), switched on and off by its
 *   administrator; one row per transition type.
 *
 * Frozen in time: never import application code here.
 */
const unitKinds = sql.raw(
  "'family_daycare', 'nursery', 'kindergarten', 'integrated_daycare', 'school', 'after_school', 'club', 'health_visiting'",
);

async function tenantIsolation(db: Kysely<any>, table: string): Promise<void> {
  await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY ${sql.id(`${table}_tenant_isolation`)} ON ${sql.table(table)}
      USING (lineal_is_platform() OR municipality_id = lineal_current_municipality())
      WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
  `.execute(db);
}

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('consents')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('purpose', 'text', (c) =>
      c.notNull().check(sql`purpose IN ('transition_handover', 'interdisciplinary_sharing')`),
    )
    .addColumn('recipient_unit_id', 'uuid')
    .addColumn('recipient_role', 'text', (c) =>
      c.check(sql`recipient_role IN ('unit_leader', 'unit_staff')`),
    )
    .addColumn('categories', sql`text[]`, (c) =>
      c
        .notNull()
        .check(
          sql`cardinality(categories) BETWEEN 1 AND 3 AND categories <@ ARRAY['assessments', 'recommendations', 'notes']::text[]`,
        ),
    )
    .addColumn('given_by_name', 'text', (c) =>
      c.notNull().check(sql`char_length(given_by_name) BETWEEN 1 AND 200`),
    )
    .addColumn('given_by_relation', 'text', (c) =>
      c.notNull().check(sql`given_by_relation IN ('parent', 'guardian', 'child', 'other')`),
    )
    .addColumn('given_on', 'date', (c) => c.notNull())
    .addColumn('valid_until', 'date')
    .addColumn('revoked_at', 'timestamptz')
    .addColumn('revoked_by_name', 'text', (c) =>
      c.check(sql`char_length(revoked_by_name) BETWEEN 1 AND 200`),
    )
    .addColumn('revoked_by_relation', 'text', (c) =>
      c.check(sql`revoked_by_relation IN ('parent', 'guardian', 'child', 'other')`),
    )
    .addColumn('revocation_reason', 'text', (c) =>
      c.check(sql`char_length(revocation_reason) BETWEEN 1 AND 2000`),
    )
    .addColumn('revocation_recorded_by', 'text', (c) =>
      c.check(sql`char_length(revocation_recorded_by) BETWEEN 1 AND 500`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'text', (c) =>
      c.notNull().check(sql`char_length(created_by) BETWEEN 1 AND 500`),
    )
    .addForeignKeyConstraint(
      'consents_child_fk',
      ['child_id', 'municipality_id'],
      'children',
      ['id', 'municipality_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addForeignKeyConstraint(
      'consents_recipient_unit_fk',
      ['recipient_unit_id', 'municipality_id'],
      'units',
      ['id', 'municipality_id'],
    )
    .addCheckConstraint(
      'consents_has_recipient',
      sql`recipient_unit_id IS NOT NULL OR recipient_role IS NOT NULL`,
    )
    .addCheckConstraint(
      'consents_dates_ordered',
      sql`valid_until IS NULL OR valid_until >= given_on`,
    )
    .addCheckConstraint(
      'consents_revocation_complete',
      sql`(revoked_at IS NULL) = (revoked_by_name IS NULL)
          AND (revoked_at IS NULL) = (revoked_by_relation IS NULL)
          AND (revoked_at IS NULL) = (revocation_reason IS NULL)
          AND (revoked_at IS NULL) = (revocation_recorded_by IS NULL)`,
    )
    .execute();
  await db.schema
    .createIndex('consents_child_idx')
    .on('consents')
    .columns(['municipality_id', 'child_id', 'created_at'])
    .execute();
  // What was consented to is a record: only the revocation may be added, once.
  await sql`
    CREATE FUNCTION lineal_consent_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      revocation text[] := ARRAY['revoked_at', 'revoked_by_name', 'revoked_by_relation',
                                 'revocation_reason', 'revocation_recorded_by'];
    BEGIN
      IF (to_jsonb(NEW) - revocation) IS DISTINCT FROM (to_jsonb(OLD) - revocation) THEN
        RAISE EXCEPTION 'consent content is immutable; revoke it and record a new one'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      IF OLD.revoked_at IS NOT NULL AND to_jsonb(NEW) IS DISTINCT FROM to_jsonb(OLD) THEN
        RAISE EXCEPTION 'a revoked consent stays revoked'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER consents_content_frozen BEFORE UPDATE ON consents
      FOR EACH ROW EXECUTE FUNCTION lineal_consent_frozen()
  `.execute(db);

  await db.schema
    .createTable('transition_guidelines')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull().references('municipalities.id'))
    .addColumn('from_unit_kind', 'text', (c) =>
      c.notNull().check(sql`from_unit_kind IN (${unitKinds})`),
    )
    .addColumn('to_unit_kind', 'text', (c) =>
      c.notNull().check(sql`to_unit_kind IN (${unitKinds})`),
    )
    .addColumn('enabled', 'boolean', (c) => c.notNull())
    .addColumn('categories', sql`text[]`, (c) =>
      c
        .notNull()
        .check(
          sql`cardinality(categories) BETWEEN 1 AND 2 AND categories <@ ARRAY['assessments', 'recommendations']::text[]`,
        ),
    )
    .addColumn('reference', 'text', (c) => c.check(sql`char_length(reference) BETWEEN 1 AND 500`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_by', 'text', (c) =>
      c.notNull().check(sql`char_length(updated_by) BETWEEN 1 AND 500`),
    )
    .addUniqueConstraint('transition_guidelines_unique', [
      'municipality_id',
      'from_unit_kind',
      'to_unit_kind',
    ])
    .execute();

  for (const table of ['consents', 'transition_guidelines']) await tenantIsolation(db, table);
  await sql`GRANT SELECT, INSERT, UPDATE ON consents, transition_guidelines TO lineal_app`.execute(
    db,
  );
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('transition_guidelines').execute();
  await db.schema.dropTable('consents').execute();
  await sql`DROP FUNCTION lineal_consent_frozen()`.execute(db);
}
