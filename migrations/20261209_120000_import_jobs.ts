import { type Kysely, sql } from 'kysely';

/**
 * Roster imports (issue 15, point 1): `import_jobs` (one uploaded file of children and
 * enrolments keyed by the source system's externalRef, processed asynchronously in chunks under
 * a lease), `import_rows` (the uploaded rows, written while the upload streams in; deleted when
 * the job ends, as they hold names and CPR numbers) and `import_errors` (row-level errors).
 * A job records the last row whose changes were committed (`rows_done`), in the same
 * transaction as those changes, so a job resumed after a crash never applies a row twice.
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('import_jobs')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) =>
      c.notNull().references('municipalities.id').onDelete('cascade'),
    )
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status IN ('uploading', 'queued', 'running', 'succeeded', 'failed')`),
    )
    .addColumn('format', 'text', (c) => c.notNull().check(sql`format IN ('csv', 'ndjson')`))
    .addColumn('mode', 'text', (c) => c.notNull().check(sql`mode IN ('upsert', 'full')`))
    .addColumn('dry_run', 'boolean', (c) => c.notNull())
    .addColumn('unit_ids', sql`uuid[]`)
    .addColumn('end_date', 'date')
    .addColumn('allowed_unit_ids', sql`uuid[]`)
    .addColumn('principal_kind', 'text', (c) => c.notNull())
    .addColumn('principal_id', 'text', (c) => c.notNull())
    .addColumn('role', 'text', (c) => c.notNull())
    .addColumn('request_id', 'text', (c) => c.notNull())
    .addColumn('rows_total', 'integer')
    .addColumn('rows_done', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('created', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('updated', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('unchanged', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('rejected', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('ended', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('problem', 'jsonb')
    .addColumn('leased_by', 'text')
    .addColumn('leased_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('started_at', 'timestamptz')
    .addColumn('finished_at', 'timestamptz')
    .addUniqueConstraint('import_jobs_id_municipality', ['id', 'municipality_id'])
    .execute();
  await sql`
    CREATE INDEX import_jobs_pending ON import_jobs (municipality_id, created_at)
      WHERE status IN ('uploading', 'queued', 'running')
  `.execute(db);

  await db.schema
    .createTable('import_rows')
    .addColumn('job_id', 'uuid', (c) => c.notNull())
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('row_no', 'integer', (c) => c.notNull())
    .addColumn('data', 'jsonb')
    .addColumn('parse_error', 'text')
    .addPrimaryKeyConstraint('import_rows_pkey', ['job_id', 'row_no'])
    .addForeignKeyConstraint(
      'import_rows_job_fk',
      ['job_id', 'municipality_id'],
      'import_jobs',
      ['id', 'municipality_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  await db.schema
    .createTable('import_errors')
    .addColumn('job_id', 'uuid', (c) => c.notNull())
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('row_no', 'integer', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('field', 'text', (c) => c.notNull())
    .addColumn('message', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_errors_pkey', ['job_id', 'row_no', 'seq'])
    .addForeignKeyConstraint(
      'import_errors_job_fk',
      ['job_id', 'municipality_id'],
      'import_jobs',
      ['id', 'municipality_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .execute();

  for (const table of ['import_jobs', 'import_rows', 'import_errors']) {
    await sql`ALTER TABLE ${sql.table(table)} ENABLE ROW LEVEL SECURITY`.execute(db);
    await sql`
      CREATE POLICY ${sql.id(`${table}_tenant_isolation`)} ON ${sql.table(table)}
        USING (municipality_id = (SELECT lineal_current_municipality()))
        WITH CHECK (municipality_id = (SELECT lineal_current_municipality()))
    `.execute(db);
    await sql`GRANT SELECT, INSERT, UPDATE, DELETE ON ${sql.table(table)} TO lineal_app`.execute(
      db,
    );
  }

  // The import workers look for work across municipalities: this names the municipalities that
  // have unfinished jobs (and nothing else), so a worker enters only their scopes.
  await sql`
    CREATE FUNCTION lineal_import_municipalities() RETURNS SETOF uuid
    LANGUAGE sql STABLE SECURITY DEFINER
    SET search_path = public, pg_temp
    AS $$
      SELECT DISTINCT municipality_id FROM import_jobs
      WHERE status IN ('uploading', 'queued', 'running')
    $$
  `.execute(db);
  await sql`REVOKE ALL ON FUNCTION lineal_import_municipalities() FROM PUBLIC`.execute(db);
  await sql`GRANT EXECUTE ON FUNCTION lineal_import_municipalities() TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await sql`DROP FUNCTION lineal_import_municipalities()`.execute(db);
  await db.schema.dropTable('import_errors').execute();
  await db.schema.dropTable('import_rows').execute();
  await db.schema.dropTable('import_jobs').execute();
}
