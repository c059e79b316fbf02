import { Kysely, PostgresDialect } from 'kysely';
import pg from 'pg';
import { migrateToLatest } from '../../src/db/migrations.js';
import { openPostgresDatabase } from '../../src/db/postgres.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import {
  adminQuery,
  ensureTestAppRole,
  TEST_APP_PASSWORD,
  TEST_APP_ROLE,
  withCredentials,
  withDatabase,
} from './postgres-admin.js';

/** A lineal database of a test's own, as an operator sets one up. */
export interface LinealDatabase {
  /** The schema owner's URL (migrations, checks behind row-level security). */
  ownerUrl: string;
  /** The service's URL: the test app role, a member of lineal_app that owns nothing. */
  appUrl: string;
  /** A platform admin key's token, made as `npm run create-platform-key` does. */
  platformToken: string;
}

/**
 * Creates database `name` on the server at `adminUrl`, migrates it as the owner, grants the
 * test app role and makes a platform admin key through that role (labelled `keyLabel`).
 */
export async function createLinealDatabase(
  adminUrl: string,
  name: string,
  keyLabel: string,
): Promise<LinealDatabase> {
  await adminQuery(adminUrl, [`CREATE DATABASE "${name}"`]);
  const ownerUrl = withDatabase(adminUrl, name);
  const owner = new Kysely({
    dialect: new PostgresDialect({ pool: new pg.Pool({ connectionString: ownerUrl, max: 1 }) }),
  });
  try {
    await migrateToLatest(owner);
  } finally {
    await owner.destroy();
  }
  await ensureTestAppRole(ownerUrl);
  const appUrl = withCredentials(ownerUrl, TEST_APP_ROLE, TEST_APP_PASSWORD);
  const direct = await openPostgresDatabase({ url: appUrl, poolMax: 1 });
  try {
    return {
      ownerUrl,
      appUrl,
      platformToken: (await createPlatformAdminKey(direct, keyLabel)).token,
    };
  } finally {
    await direct.close();
  }
}
