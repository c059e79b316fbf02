import { type Kysely, sql } from 'kysely';
import { NO_MIGRATIONS } from 'kysely/migration';
import { describe, expect, it } from 'vitest';
import { createMigrator, migrateToLatest, migrationStatus } from '../../src/db/migrations.js';
import { availableEngines, describeEngines, openTestDatabase } from '../support/engines.js';

describeEngines('migrations', (t) => {
  it('are all applied to a fresh database', async () => {
    const status = await migrationStatus(t.database.db);
    expect(status).toEqual({ pending: [], unknown: [] });
  });

  it('migrate down to nothing and up again', async () => {
    await t.asOwner(async (db) => {
      const down = await createMigrator(db).migrateTo(NO_MIGRATIONS);
      expect(down.error).toBeUndefined();
      const tables = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM information_schema.tables
        WHERE table_schema = 'public' AND table_name IN ('municipalities', 'api_keys')
      `.execute(db);
      expect(tables.rows[0]?.n).toBe(0);
      expect((await migrationStatus(db)).pending.length).toBeGreaterThan(0);
      const applied = await migrateToLatest(db);
      expect(applied.length).toBeGreaterThan(0);
      expect(await migrationStatus(db)).toEqual({ pending: [], unknown: [] });
    });
  });
});

/** A comparable description of the schema: tables, columns, constraints, indexes, policies. */
// biome-ignore lint/suspicious/noExplicitAny: introspection works on any schema
async function schemaSnapshot(db: Kysely<any>) {
  const columns = await sql`
    SELECT table_name, column_name, data_type, udt_name, is_nullable, column_default
    FROM information_schema.columns WHERE table_schema = 'public'
    ORDER BY table_name, column_name
  `.execute(db);
  const constraints = await sql`
    SELECT conrelid::regclass::text AS table_name, conname, contype,
           pg_get_constraintdef(oid) AS definition
    FROM pg_constraint
    -- NOT NULL constraints: PostgreSQL 18 (PGlite) lists them here too; columns cover them.
    WHERE connamespace = 'public'::regnamespace AND contype <> 'n'
    ORDER BY 1, 2
  `.execute(db);
  const indexes = await sql`
    SELECT tablename, indexname, indexdef FROM pg_indexes WHERE schemaname = 'public'
    ORDER BY 1, 2
  `.execute(db);
  const policies = await sql`
    SELECT tablename, policyname, cmd, qual, with_check FROM pg_policies
    WHERE schemaname = 'public' ORDER BY 1, 2
  `.execute(db);
  const rls = await sql`
    SELECT relname, relrowsecurity, relforcerowsecurity FROM pg_class
    WHERE relnamespace = 'public'::regnamespace AND relkind = 'r' ORDER BY 1
  `.execute(db);
  const grants = await sql`
    SELECT table_name, privilege_type FROM information_schema.role_table_grants
    WHERE grantee = 'lineal_app' ORDER BY 1, 2
  `.execute(db);
  const functions = await sql`
    SELECT p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.prosecdef,
           pg_get_function_result(p.oid) AS result
    FROM pg_proc p WHERE p.pronamespace = 'public'::regnamespace ORDER BY 1, 2
  `.execute(db);
  return {
    columns: columns.rows,
    constraints: constraints.rows,
    indexes: indexes.rows,
    policies: policies.rows,
    rls: rls.rows,
    grants: grants.rows,
    functions: functions.rows,
  };
}

describe('one schema on both engines', () => {
  it.skipIf(!availableEngines().includes('postgres'))(
    'the same migrations produce the same schema on PGlite and PostgreSQL',
    async () => {
      const embedded = await openTestDatabase('pglite');
      const server = await openTestDatabase('postgres');
      try {
        const a = await embedded.asOwner(schemaSnapshot);
        const b = await server.asOwner(schemaSnapshot);
        expect(a.columns.length).toBeGreaterThan(10);
        expect(a).toEqual(b);
      } finally {
        await embedded.drop();
        await server.drop();
      }
    },
  );
});
