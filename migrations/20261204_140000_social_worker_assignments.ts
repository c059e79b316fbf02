import { type Kysely, sql } from 'kysely';

/**
 * `social_worker_assignments`: a social worker (an API key or an identity-provider user, named
 * as the request principal is: kind and id) explicitly assigned to a child by a municipality
 * administrator or unit leader. Besides a step or concern report involving child services, it
 * is what lets a social worker see the child. Erasing the child deletes its assignments
 * (ON DELETE CASCADE).
 *
 * Frozen in time: never import application code here.
 */
export async function up(db: Kysely<any>): Promise<void> {
  await db.schema
    .createTable('social_worker_assignments')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('municipality_id', 'uuid', (c) => c.notNull())
    .addColumn('child_id', 'uuid', (c) => c.notNull())
    .addColumn('principal_kind', 'text', (c) =>
      c.notNull().check(sql`principal_kind IN ('api_key', 'oidc')`),
    )
    .addColumn('principal_id', 'text', (c) =>
      c.notNull().check(sql`char_length(principal_id) BETWEEN 1 AND 500`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('created_by', 'text', (c) =>
      c.notNull().check(sql`char_length(created_by) BETWEEN 1 AND 500`),
    )
    .addForeignKeyConstraint(
      'social_worker_assignments_child_fk',
      ['child_id', 'municipality_id'],
      'children',
      ['id', 'municipality_id'],
      (fk) => fk.onDelete('cascade'),
    )
    .addUniqueConstraint('social_worker_assignments_unique', [
      'municipality_id',
      'child_id',
      'principal_kind',
      'principal_id',
    ])
    .execute();
  await sql`
    CREATE INDEX social_worker_assignments_principal
      ON social_worker_assignments (municipality_id, principal_kind, principal_id)
  `.execute(db);

  await sql`ALTER TABLE social_worker_assignments ENABLE ROW LEVEL SECURITY`.execute(db);
  await sql`
    CREATE POLICY social_worker_assignments_tenant_isolation ON social_worker_assignments
      USING (municipality_id = (SELECT lineal_current_municipality()))
      WITH CHECK (municipality_id = (SELECT lineal_current_municipality()))
  `.execute(db);
  await sql`GRANT SELECT, INSERT, DELETE ON social_worker_assignments TO lineal_app`.execute(db);
}

export async function down(db: Kysely<any>): Promise<void> {
  await db.schema.dropTable('social_worker_assignments').execute();
}
