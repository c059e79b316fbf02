import type { Executor } from '../../db/database.js';
import { NotFoundError } from '../../errors.js';

const columns = ['id', 'code', 'name', 'created_at'] as const;

export type MunicipalityRow = {
  id: string;
  code: string;
  name: string;
  created_at: Date;
};

export function insertMunicipality(
  db: Executor,
  values: { code: string; name: string },
): Promise<MunicipalityRow> {
  return db
    .insertInto('municipalities')
    .values(values)
    .returning(columns)
    .executeTakeFirstOrThrow();
}

export function findMunicipality(db: Executor, id: string): Promise<MunicipalityRow | undefined> {
  return db.selectFrom('municipalities').select(columns).where('id', '=', id).executeTakeFirst();
}

/** Municipalities ordered by code, after `afterCode`; fetches `limit + 1` to detect more. */
export function listMunicipalities(
  db: Executor,
  page: { afterCode?: string; limit: number },
): Promise<MunicipalityRow[]> {
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
