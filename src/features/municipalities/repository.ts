import type { Executor } from '../../db/database.js';
import { NotFoundError } from '../../errors.js';

const columns = ['id', 'code', 'name', 'created_at'] as const;

export function insertMunicipality(db: Executor, values: { code: string; name: string }) {
  return db
    .insertInto('municipalities')
    .values(values)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export function findMunicipality(db: Executor, id: string) {
  return db.selectFrom('municipalities').select(columns).where('id', '=', id).executeTakeFirst();
}

export type MunicipalityRow = NonNullable<Awaited<ReturnType<typeof findMunicipality>>>;

/** Municipalities ordered by code, after `afterCode`; fetches `limit + 1` to detect more. */
export function listMunicipalities(db: Executor, page: { afterCode?: string; limit: number }) {
  let query = db
    .selectFrom('municipalities')
    .select(columns)
    .orderBy('code')
    .limit(page.limit + 1);
  if (page.afterCode !== undefined) query = query.where('code', '>', page.afterCode);
  return query.execute();
}

/** Throws 404 unless the municipality exists (and is visible in the transaction's scope). */
export async function requireMunicipality(db: Executor, id: string): Promise<MunicipalityRow> {
  const row = await findMunicipality(db, id);
  if (!row) throw new NotFoundError('municipality', id);
  return row;
}
