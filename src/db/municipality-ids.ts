import { type Database, platformScope } from './database.js';

/**
 * The id of every municipality, in code order. The platform scope sees no municipality's own
 * rows, so a job that works across municipalities (retention, not-assessed flags, expired
 * idempotency records) lists them here and then enters each one's scope in turn.
 */
export function municipalityIds(database: Database): Promise<string[]> {
  return database.transaction(platformScope, async (trx) =>
    (await trx.selectFrom('municipalities').select('id').orderBy('code').execute()).map(
      (row) => row.id,
    ),
  );
}
