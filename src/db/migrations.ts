import { promises as fs } from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { type Kysely, sql } from 'kysely';
import { FileMigrationProvider, type MigrationResult, Migrator } from 'kysely/migration';

/** `migrations/` at the repository root; from `dist/src/db` it is `dist/migrations`. */
export const migrationFolder = fileURLToPath(new URL('../../migrations', import.meta.url));

const provider = new FileMigrationProvider({
  fs,
  path,
  migrationFolder,
  import: (filePath) => import(pathToFileURL(filePath).href),
});

// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export function createMigrator(db: Kysely<any>): Migrator {
  return new Migrator({ db, provider });
}

export class MigrationError extends Error {
  constructor(
    message: string,
    readonly results: readonly MigrationResult[],
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'MigrationError';
  }
}

/** Applies every pending migration; returns the names applied. Throws on the first failure. */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export async function migrateToLatest(db: Kysely<any>): Promise<string[]> {
  const { error, results = [] } = await createMigrator(db).migrateToLatest();
  if (error) {
    const failed = results.find((r) => r.status === 'Error');
    throw new MigrationError(
      `Migration ${failed?.migrationName ?? '(unknown)'} failed: ${
        error instanceof Error ? error.message : String(error)
      }`,
      results,
      { cause: error },
    );
  }
  return results.filter((r) => r.status === 'Success').map((r) => r.migrationName);
}

export interface MigrationStatus {
  /** Shipped with the code but not applied to the database. */
  pending: string[];
  /** Applied to the database but unknown to this code (the database is newer than the code). */
  unknown: string[];
}

/**
 * Compares the migrations this code ships with the ones recorded in the database.
 * Needs only SELECT on the migration table, so the application role can run it.
 */
// biome-ignore lint/suspicious/noExplicitAny: migrations work on any schema
export async function migrationStatus(db: Kysely<any>): Promise<MigrationStatus> {
  const shipped = Object.keys(await provider.getMigrations()).sort();
  const exists = await sql<{ present: boolean }>`
    SELECT to_regclass('kysely_migration') IS NOT NULL AS present
  `.execute(db);
  const applied = exists.rows[0]?.present
    ? (await sql<{ name: string }>`SELECT name FROM kysely_migration`.execute(db)).rows.map(
        (r) => r.name,
      )
    : [];
  const appliedSet = new Set(applied);
  const shippedSet = new Set(shipped);
  return {
    pending: shipped.filter((name) => !appliedSet.has(name)),
    unknown: applied.filter((name) => !shippedSet.has(name)).sort(),
  };
}
