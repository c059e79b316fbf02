import { type Kysely, sql } from 'kysely';

/**
 * Action guides (versioned, presets with municipality_id NULL), the recommendation made for each
 * assessment with its steps (follow-up tasks), flags that stay raised until acknowledged,
 * concern reports, and the event outbox behind GET /v1/events.
 *
 * Frozen in time: never import application code here.
 */
const tenantTables = [
  'recommendations',
  'recommendation_steps',
  'flags',
  'concern_reports',
  'events',
] as const;

export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('action_guides')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('key', 'text', (c) => c.notNull().check(sql`key ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('ruler_key', 'text', (c) => c.check(sql`ruler_key ~ '^[a-z0-9][a-z0-9-]{0,62}$'`))
    .addColumn('name', 'text', (c) => c.notNull().check(sql`char_length(name) BETWEEN 1 AND 200`))
    .addColumn('description', 'text', (c) => c.check(sql`char_length(description) <= 2000`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await sql`
    CREATE UNIQUE INDEX action_guides_key_unique
      ON action_guides (coalesce(municipality_id, '00000000-0000-0000-0000-000000000000'::uuid), key)
  `.execute(db);
  // One guide per ruler (or one default) per municipality, so the applicable guide is unambiguous.
  await sql`
    CREATE UNIQUE INDEX action_guides_ruler_unique
      ON action_guides (coalesce(municipality_id, '00000000-0000-0000-0000-000000000000'::uuid),
                        coalesce(ruler_key, ''))
  `.execute(db);
  await db.schema
    .createTable('action_guide_versions')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('guide_id', 'uuid', (c) => c.notNull().references('action_guides.id'))
    .addColumn('municipality_id', 'uuid', (c) => c.references('municipalities.id'))
    .addColumn('version', 'integer', (c) => c.notNull().check(sql`version >= 1`))
    .addColumn('definition', 'jsonb', (c) => c.notNull())
    .addColumn('definition_hash', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'uuid')
    .addUniqueConstraint('action_guide_versions_unique', ['guide_id', 'version'])
    .execute();
  await sql`
    CREATE TRIGGER action_guide_versions_immutable BEFORE UPDATE OR DELETE ON action_guide_versions
      FOR EACH ROW EXECUTE FUNCTION lineal_refuse_change()
  `.execute(db);
  for (const table of ['action_guides', 'action_guide_versions']) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY ${sql.id(`${table}_visible`)} ON ${sql.table(table)}
        USING (lineal_is_platform() OR municipality_id IS NULL
               OR municipality_id = lineal_current_municipality())
        WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
    `.execute(db);
  }

  await db.schema
    .createTable('recommendations')
    .addColumn('id', 'uuid', (c) => c.primaryKey())
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('unit_id', 'uuid', (c) => c.notNull())
    .addColumn('assessment_id', 'uuid', (c) => c.notNull().unique().references('assessments.id'))
    .addColumn('guide_version_id', 'uuid', (c) =>
      c.notNull().references('action_guide_versions.id'),
    )
    .addColumn('zone', 'text', (c) => c.check(sql`zone IN ('green', 'yellow', 'red')`))
    .addColumn('previous_zone', 'text', (c) =>
      c.check(sql`previous_zone IN ('green', 'yellow', 'red')`),
    )
    .addColumn('zone_changed', 'boolean', (c) => c.notNull())
    .addColumn('flags', 'jsonb', (c) => c.notNull())
    .addColumn('summary', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addForeignKeyConstraint(
      'recommendations_child_fk',
      ['child_id', 'municipality_id'],
      'children',
      ['id', 'municipality_id'],
    )
    .execute();
  await db.schema
    .createIndex('recommendations_child_idx')
    .on('recommendations')
    .columns(['child_id', 'created_at'])
    .execute();
  // Recommendations are immutable; their steps carry the follow-up state.
  await sql`
    CREATE TRIGGER recommendations_immutable BEFORE UPDATE OR DELETE ON recommendations
      FOR EACH ROW EXECUTE FUNCTION lineal_refuse_change()
  `.execute(db);

  await db.schema
    .createTable('recommendation_steps')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('recommendation_id', 'uuid', (c) => c.notNull().references('recommendations.id'))
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('unit_id', 'uuid', (c) => c.notNull())
    .addColumn('zone', 'text', (c) => c.notNull().check(sql`zone IN ('green', 'yellow', 'red')`))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('step_key', 'text', (c) => c.notNull())
    .addColumn('title', 'jsonb', (c) => c.notNull())
    .addColumn('description', 'jsonb', (c) => c.notNull())
    .addColumn('involve', sql`text[]`, (c) => c.notNull())
    .addColumn('responsible', 'text', (c) => c.notNull())
    .addColumn('mandatory', 'boolean', (c) => c.notNull())
    .addColumn('legal_reference', 'text')
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('due_on', 'date', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('open', 'done', 'not_applicable', 'superseded')`),
    )
    .addColumn('status_reason', 'text', (c) => c.check(sql`char_length(status_reason) <= 2000`))
    .addColumn('status_changed_at', 'timestamptz')
    .addColumn('status_changed_by', 'uuid')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addUniqueConstraint('recommendation_steps_position', ['recommendation_id', 'position'])
    .execute();
  await sql`
    CREATE INDEX recommendation_steps_worklist_idx
      ON recommendation_steps (municipality_id, due_on, id) WHERE status = 'open'
  `.execute(db);
  await sql`
    CREATE INDEX recommendation_steps_unit_worklist_idx
      ON recommendation_steps (unit_id, due_on, id) WHERE status = 'open'
  `.execute(db);
  await db.schema
    .createIndex('recommendation_steps_child_idx')
    .on('recommendation_steps')
    .columns(['child_id', 'status'])
    .execute();

  await db.schema
    .createTable('flags')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('unit_id', 'uuid', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind IN ('deterioration', 'persistent', 'not_assessed', 'red_flag')`),
    )
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('assessment_id', 'uuid', (c) => c.references('assessments.id'))
    .addColumn('round_id', 'uuid', (c) => c.references('rounds.id'))
    .addColumn('raised_at', 'timestamptz', (c) => c.notNull())
    .addColumn('acknowledged_at', 'timestamptz')
    .addColumn('acknowledged_by', 'uuid')
    .addColumn('acknowledgement_note', 'text', (c) =>
      c.check(sql`char_length(acknowledgement_note) BETWEEN 1 AND 2000`),
    )
    .addCheckConstraint(
      'flags_acknowledgement_complete',
      sql`(acknowledged_at IS NULL) = (acknowledged_by IS NULL)`,
    )
    .execute();
  await sql`
    CREATE UNIQUE INDEX flags_not_assessed_once
      ON flags (child_id, unit_id, round_id) WHERE kind = 'not_assessed'
  `.execute(db);
  await db.schema
    .createIndex('flags_unit_idx')
    .on('flags')
    .columns(['municipality_id', 'unit_id', 'raised_at'])
    .execute();
  await db.schema.createIndex('flags_child_idx').on('flags').columns(['child_id']).execute();
  await sql`
    CREATE INDEX flags_raised_idx ON flags (municipality_id, raised_at, id)
      WHERE acknowledged_at IS NULL
  `.execute(db);
  await db.schema
    .createIndex('flags_assessment_idx')
    .on('flags')
    .columns(['assessment_id'])
    .execute();

  await db.schema
    .createTable('concern_reports')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('reported_on', 'date', (c) => c.notNull())
    .addColumn('reported_by_name', 'text', (c) =>
      c.notNull().check(sql`char_length(reported_by_name) BETWEEN 1 AND 200`),
    )
    .addColumn('reported_by_role', 'text', (c) => c.notNull())
    .addColumn('reference', 'text', (c) => c.check(sql`char_length(reference) BETWEEN 1 AND 200`))
    .addColumn('completed_step_ids', sql`uuid[]`, (c) => c.notNull().defaultTo(sql`'{}'::uuid[]`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'uuid', (c) => c.notNull())
    .addForeignKeyConstraint(
      'concern_reports_child_fk',
      ['child_id', 'municipality_id'],
      'children',
      ['id', 'municipality_id'],
    )
    .execute();
  await db.schema
    .createIndex('concern_reports_child_idx')
    .on('concern_reports')
    .columns(['municipality_id', 'child_id', 'reported_on'])
    .execute();

  // The outbox. tx_id orders events by the transaction that wrote them; a reader only takes
  // events of transactions older than every transaction still running, so an event can never
  // appear behind a cursor that has already passed it.
  await db.schema
    .createTable('events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('tx_id', sql`xid8`, (c) => c.notNull().defaultTo(sql`pg_current_xact_id()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('child_id', 'uuid')
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'uuid', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute();
  await db.schema
    .createIndex('events_feed_idx')
    .on('events')
    .columns(['municipality_id', 'tx_id', 'id'])
    .execute();

  // When the not-assessed flags of a closed round were raised (the server does it once).
  await db.schema
    .alterTable('rounds')
    .addColumn('not_assessed_flagged_at', 'timestamptz')
    .execute();

  for (const table of tenantTables) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY ${sql.id(`${table}_tenant_isolation`)} ON ${sql.table(table)}
        USING (lineal_is_platform() OR municipality_id = lineal_current_municipality())
        WITH CHECK (lineal_is_platform() OR municipality_id = lineal_current_municipality())
    `.execute(db);
  }
  await sql`GRANT SELECT, INSERT ON action_guides, action_guide_versions TO lineal_app`.execute(db);
  await sql`GRANT SELECT, INSERT ON recommendations, concern_reports, events TO lineal_app`.execute(
    db,
  );
  await sql`GRANT SELECT, INSERT, UPDATE ON recommendation_steps, flags TO lineal_app`.execute(db);
  await sql`GRANT USAGE ON SEQUENCE events_id_seq TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.alterTable('rounds').dropColumn('not_assessed_flagged_at').execute();
  await db.schema.dropTable('events').execute();
  await db.schema.dropTable('concern_reports').execute();
  await db.schema.dropTable('flags').execute();
  await db.schema.dropTable('recommendation_steps').execute();
  await db.schema.dropTable('recommendations').execute();
  await db.schema.dropTable('action_guide_versions').execute();
  await db.schema.dropTable('action_guides').execute();
}
