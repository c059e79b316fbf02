import { type Kysely, sql } from 'kysely';

/**
 * Screening core: units, children, enrolments, versioned rulers, rounds, assessments (versioned,
 * withdrawable), and idempotency keys for creating POSTs. Every tenant-owned table carries
 * municipality_id and the same row-level-security policy as the foundation tables.
 *
 * Frozen in time: never import application code here.
 */
const tenantTables = [
  'units',
  'children',
  'enrolments',
  'rounds',
  'assessments',
  'idempotency_keys',
] as const;

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
    .createTable('units')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull().references('municipalities.id'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) BETWEEN 1 AND 200`))
    .addColumn('kind', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`kind IN ('family_daycare', 'nursery', 'kindergarten', 'integrated_daycare', 'school', 'after_school', 'club', 'health_visiting')`,
        ),
    )
    .addColumn('district', 'text', (c) => c.check(sql`char_length(district) BETWEEN 1 AND 200`))
    .addColumn('external_ref', 'text', (c) =>
      c.check(sql`char_length(external_ref) BETWEEN 1 AND 200`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('units_external_ref_unique', ['municipality_id', 'external_ref'])
    .addUniqueConstraint('units_id_municipality_unique', ['id', 'municipality_id'])
    .execute();
  await db.schema
    .createIndex('units_municipality_name_idx')
    .on('units')
    .columns(['municipality_id', 'name', 'id'])
    .execute();

  await db.schema
    .createTable('children')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull().references('municipalities.id'))
    .addColumn('external_ref', 'text', (c) =>
      c.notNull().check(sql`char_length(external_ref) BETWEEN 1 AND 200`),
    )
    .addColumn('given_name', 'text', (c) => c.check(sql`char_length(given_name) BETWEEN 1 AND 200`))
    .addColumn('family_name', 'text', (c) =>
      c.check(sql`char_length(family_name) BETWEEN 1 AND 200`),
    )
    .addColumn('birth_date', 'date', (c) => c.notNull())
    .addColumn('sex', 'text', (c) => c.check(sql`sex IN ('female', 'male', 'other')`))
    .addColumn('cpr_hash', 'bytea', (c) => c.check(sql`octet_length(cpr_hash) = 32`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('children_external_ref_unique', ['municipality_id', 'external_ref'])
    .addUniqueConstraint('children_cpr_unique', ['municipality_id', 'cpr_hash'])
    .addUniqueConstraint('children_id_municipality_unique', ['id', 'municipality_id'])
    .execute();
  await db.schema
    .createIndex('children_municipality_created_idx')
    .on('children')
    .columns(['municipality_id', 'created_at', 'id'])
    .execute();
  await db.schema
    .createIndex('children_municipality_birth_idx')
    .on('children')
    .columns(['municipality_id', 'birth_date'])
    .execute();

  // Composite foreign keys keep a row's child and unit in the row's own municipality.
  await db.schema
    .createTable('enrolments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('unit_id', 'uuid', (c) => c.notNull())
    .addColumn('start_date', 'date', (c) => c.notNull())
    .addColumn('end_date', 'date')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint('enrolments_child_fk', ['child_id', 'municipality_id'], 'children', [
      'id',
      'municipality_id',
    ])
    .addForeignKeyConstraint('enrolments_unit_fk', ['unit_id', 'municipality_id'], 'units', [
      'id',
      'municipality_id',
    ])
    .addCheckConstraint('enrolments_dates_ordered', sql`end_date IS NULL OR end_date >= start_date`)
    .execute();
  await db.schema
    .createIndex('enrolments_child_idx')
    .on('enrolments')
    .columns(['child_id', 'start_date'])
    .execute();
  await db.schema
    .createIndex('enrolments_municipality_start_idx')
    .on('enrolments')
    .columns(['municipality_id', 'start_date'])
    .execute();
  await db.schema
    .createIndex('enrolments_unit_idx')
    .on('enrolments')
    .columns(['unit_id', 'start_date', 'end_date'])
    .execute();

  // Rulers: municipality_id NULL = a shipped preset every municipality may use.
  await db.schema
    .createTable('rulers')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('key', 'text', (c) => c.notNull().check(sql`key ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) BETWEEN 1 AND 200`))
    .addColumn('description', 'text', (c) => c.check(sql`char_length(description) <= 2000`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    CREATE UNIQUE INDEX rulers_key_unique
      ON rulers (coalesce(municipality_id, '00000000-0000-0000-0000-000000000000'::uuid), key)
  `.execute(db);
  await db.schema
    .createTable('ruler_versions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('ruler_id', 'uuid', (c) => c.notNull().references('rulers.id'))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('definition_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'uuid')
    .addUniqueConstraint('ruler_versions_unique', ['ruler_id', 'version'])
    .execute();
  // Versions are immutable: nobody (not even the owner by mistake) updates one.
  await sql`
    CREATE FUNCTION lineal_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      RAISE EXCEPTION '% rows are immutable', TG_TABLE_NAME USING ERRCODE = 'integrity_constraint_violation';
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER ruler_versions_immutable BEFORE UPDATE OR DELETE ON ruler_versions
      FOR EACH ROW EXECUTE FUNCTION lineal_refuse_change()
  `.execute(db);
  for (const table of ['rulers', 'ruler_versions']) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY ${sql.id(`${table}_visible`)} ON ${sql.table(table)}
        USING (lineal_is_platform() OR municipality_id IS NULL
               OR municipality_id = lineal_current_municipality())
        WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
    `.execute(db);
  }

  await db.schema
    .createTable('rounds')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull().references('municipalities.id'))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) BETWEEN 1 AND 200`))
    .addColumn('window_start', 'date', (c) => c.notNull())
    .addColumn('window_end', 'date', (c) => c.notNull())
    .addColumn('ruler_version_id', 'uuid', (c) => c.notNull().references('ruler_versions.id'))
    .addColumn('unit_kinds', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('unit_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('min_age_months', 'integer', (c) => c.check(sql`min_age_months >= 0`))
    .addColumn('max_age_months', 'integer', (c) => c.check(sql`max_age_months >= 0`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addCheckConstraint('rounds_window_ordered', sql`window_end >= window_start`)
    .addCheckConstraint(
      'rounds_ages_ordered',
      sql`min_age_months IS NULL OR max_age_months IS NULL OR max_age_months >= min_age_months`,
    )
    .addUniqueConstraint('rounds_id_municipality_unique', ['id', 'municipality_id'])
    .execute();
  await db.schema
    .createIndex('rounds_municipality_window_idx')
    .on('rounds')
    .columns(['municipality_id', 'window_start', 'id'])
    .execute();

  await db.schema
    .createTable('assessments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('unit_id', 'uuid', (c) => c.notNull())
    .addColumn('round_id', 'uuid')
    .addColumn('ruler_version_id', 'uuid', (c) => c.notNull().references('ruler_versions.id'))
    .addColumn('assessed_on', 'date', (c) => c.notNull())
    .addColumn('raters', 'jsonb', (c) => c.notNull())
    .addColumn('overall_level', 'integer')
    .addColumn('answers', 'jsonb', (c) => c.notNull())
    .addColumn('red_flags', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'::text[]`))
    .addColumn('justification', 'text', (c) => c.check(sql`char_length(justification) <= 4000`))
    .addColumn('parents_informed', 'boolean', (c) => c.notNull())
    .addColumn('child_perspective', 'text', (c) =>
      c.check(sql`char_length(child_perspective) <= 4000`),
    )
    .addColumn('zone', 'text', (c) => c.check(sql`zone IN ('green', 'yellow', 'red')`))
    .addColumn('level', 'integer')
    .addColumn('score', 'double precision')
    .addColumn('explanation', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('current', 'superseded', 'withdrawn')`),
    )
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('lineage_id', 'uuid', (c) => c.notNull())
    .addColumn('supersedes_id', 'uuid', (c) => c.references('assessments.id').unique())
    .addColumn('correction_reason', 'text', (c) =>
      c.check(sql`char_length(correction_reason) BETWEEN 1 AND 2000`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addColumn('status_changed_at', 'timestamptz')
    .addColumn('status_changed_by', 'uuid')
    .addColumn('withdrawal_reason', 'text', (c) =>
      c.check(sql`char_length(withdrawal_reason) BETWEEN 1 AND 2000`),
    )
    .addForeignKeyConstraint('assessments_child_fk', ['child_id', 'municipality_id'], 'children', [
      'id',
      'municipality_id',
    ])
    .addForeignKeyConstraint('assessments_unit_fk', ['unit_id', 'municipality_id'], 'units', [
      'id',
      'municipality_id',
    ])
    .addForeignKeyConstraint('assessments_round_fk', ['round_id', 'municipality_id'], 'rounds', [
      'id',
      'municipality_id',
    ])
    .addCheckConstraint(
      'assessments_correction_has_reason',
      sql`(supersedes_id IS NULL) = (correction_reason IS NULL)`,
    )
    .addCheckConstraint(
      'assessments_withdrawal_has_reason',
      sql`(status = 'withdrawn') = (withdrawal_reason IS NOT NULL)`,
    )
    .execute();
  // At most one current assessment per child, unit and round: a second one is a correction.
  await sql`
    CREATE UNIQUE INDEX assessments_one_current_per_round
      ON assessments (child_id, unit_id, round_id) WHERE status = 'current' AND round_id IS NOT NULL
  `.execute(db);
  await db.schema
    .createIndex('assessments_child_idx')
    .on('assessments')
    .columns(['child_id', 'assessed_on', 'created_at'])
    .execute();
  await db.schema
    .createIndex('assessments_lineage_idx')
    .on('assessments')
    .columns(['lineage_id', 'version'])
    .execute();
  await db.schema
    .createIndex('assessments_round_unit_idx')
    .on('assessments')
    .columns(['round_id', 'unit_id', 'status'])
    .execute();
  await db.schema
    .createIndex('assessments_municipality_created_idx')
    .on('assessments')
    .columns(['municipality_id', 'created_at', 'id'])
    .execute();
  // Assessments are never deleted: corrections supersede, withdrawals keep the row. And what
  // was assessed never changes: only the status columns may be updated.
  await sql`
    CREATE TRIGGER assessments_never_deleted BEFORE DELETE ON assessments
      FOR EACH ROW EXECUTE FUNCTION lineal_refuse_change()
  `.execute(db);
  await sql`
    CREATE FUNCTION lineal_assessment_content_frozen() RETURNS trigger LANGUAGE plpgsql AS $$
    DECLARE
      status_columns text[] := ARRAY['status', 'status_changed_at', 'status_changed_by',
                                     'withdrawal_reason'];
    BEGIN
      IF (to_jsonb(NEW) - status_columns) IS DISTINCT FROM (to_jsonb(OLD) - status_columns) THEN
        RAISE EXCEPTION 'assessment content is immutable; record a correction instead'
          USING ERRCODE = 'integrity_constraint_violation';
      END IF;
      RETURN NEW;
    END $$;
  `.execute(db);
  await sql`
    CREATE TRIGGER assessments_content_frozen BEFORE UPDATE ON assessments
      FOR EACH ROW EXECUTE FUNCTION lineal_assessment_content_frozen()
  `.execute(db);

  await db.schema
    .createTable('idempotency_keys')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('principal_id', 'uuid', (c) => c.notNull())
    .addColumn('key', 'text', (c) => c.notNull().check(sql`char_length(key) BETWEEN 1 AND 255`))
    .addColumn('request_hash', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) =>
      c.notNull().check(sql`state IN ('in_progress', 'completed')`),
    )
    .addColumn('claim_token', 'uuid', (c) => c.notNull())
    .addColumn('response_status', 'integer')
    .addColumn('response_body', 'jsonb')
    .addColumn('response_location', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addUniqueConstraint('idempotency_keys_unique', ['principal_id', 'key'])
    .execute();
  await db.schema
    .createIndex('idempotency_keys_expiry_idx')
    .on('idempotency_keys')
    .column('expires_at')
    .execute();
  await db.schema
    .createIndex('idempotency_keys_principal_expiry_idx')
    .on('idempotency_keys')
    .columns(['principal_id', 'expires_at'])
    .execute();

  // Platform administrators' idempotency keys have no municipality: the platform scope sees them.
  for (const table of tenantTables) await tenantIsolation(db, table);

  await sql`
    GRANT SELECT, INSERT, UPDATE ON units, children, enrolments, rounds, assessments TO lineal_app
  `.execute(db);
  await sql`GRANT SELECT, INSERT ON rulers, ruler_versions TO lineal_app`.execute(db);
  await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON idempotency_keys TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('idempotency_keys').execute();
  await db.schema.dropTable('assessments').execute();
  await sql`DROP FUNCTION lineal_assessment_content_frozen()`.execute(db);
  await db.schema.dropTable('rounds').execute();
  await sql`DROP TRIGGER ruler_versions_immutable ON ruler_versions`.execute(db);
  await db.schema.dropTable('ruler_versions').execute();
  await db.schema.dropTable('rulers').execute();
  await sql`DROP FUNCTION lineal_refuse_change()`.execute(db);
  await db.schema.dropTable('enrolments').execute();
  await db.schema.dropTable('children').execute();
  await db.schema.dropTable('units').execute();
}
