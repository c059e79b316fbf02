import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { NotFoundError } from '../../errors.js';

const columns = [
  'id',
  'name',
  'kind',
  'district',
  'external_ref',
  'created_at',
  'updated_at',
  sql<string>`updated_at::text`.as('updated_at_key'),
] as const;

export function insertUnit(
  db: Executor,
  values: {
    municipality_id: string;
    name: string;
    kind: string;
    district: string | null;
    external_ref: string | null;
  },
) {
  return db.insertInto('units').values(values).returning(columns).executeTakeFirstOrThrow();
}

export function findUnit(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('units')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .executeTakeFirst();
}

export type UnitRow = NonNullable<Awaited<ReturnType<typeof findUnit>>>;

/** The unit of the municipality; 404 otherwise. */
export async function requireUnit(
  db: Executor,
  municipalityId: string,
  id: string,
): Promise<UnitRow> {
  const row = await findUnit(db, municipalityId, id);
  if (!row) throw new NotFoundError('unit', id);
  return row;
}

export function updateUnit(
  db: Executor,
  municipalityId: string,
  id: string,
  changes: Partial<Pick<UnitRow, 'name' | 'kind' | 'district' | 'external_ref'>>,
  now: Date,
) {
  return db
    .updateTable('units')
    .set({ ...changes, updated_at: now })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(columns)
    .executeTakeFirst();
}

/** By name then id; keyset pagination after (name, id); fetches `limit + 1`. */
export function listUnits(
  db: Executor,
  municipalityId: string,
  filter: {
    kind?: string | undefined;
    district?: string | undefined;
    externalRef?: string | undefined;
    /** Changed at or after this instant: the list is then in change order (updated_at, id). */
    updatedSince?: string | undefined;
    after?: { name: string; id: string } | undefined;
    limit: number;
  },
) {
  const byChange = filter.updatedSince !== undefined;
  let query = db
    .selectFrom('units')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .orderBy(byChange ? 'updated_at' : 'name')
    .orderBy('id')
    .limit(filter.limit + 1);
  if (filter.updatedSince) {
    query = query.where('updated_at', '>=', sql<Date>`${filter.updatedSince}::timestamptz`);
  }
  if (filter.kind) query = query.where('kind', '=', filter.kind);
  if (filter.district) query = query.where('district', '=', filter.district);
  if (filter.externalRef) query = query.where('external_ref', '=', filter.externalRef);
  if (filter.after && byChange) {
    const { name: at, id } = filter.after;
    query = query.where(sql<boolean>`(updated_at, id) > (${at}::timestamptz, ${id}::uuid)`);
  } else if (filter.after) {
    const { name, id } = filter.after;
    query = query.where((eb) =>
      eb.or([eb('name', '>', name), eb.and([eb('name', '=', name), eb('id', '>', id)])]),
    );
  }
  return query.execute();
}

/** The unit, locked until the transaction ends (a change that checks its version first). */
export function lockUnit(db: Executor, municipalityId: string, id: string) {
  return db
    .selectFrom('units')
    .select(columns)
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

/**
 * The field errors of `unitIds` naming no unit of the municipality (unknown, or another
 * municipality's), one per id at `body.unitIds.<index>`: a reference to a unit is a 422, never
 * silently nothing.
 */
export async function unknownUnitErrors(
  db: Executor,
  municipalityId: string,
  unitIds: readonly string[],
): Promise<{ path: string; message: string; code: string }[]> {
  if (unitIds.length === 0) return [];
  const found = new Set(
    (
      await db
        .selectFrom('units')
        .select('id')
        .where('municipality_id', '=', municipalityId)
        .where('id', 'in', [...unitIds])
        .execute()
    ).map((row) => row.id),
  );
  return unitIds.flatMap((id, index) =>
    found.has(id)
      ? []
      : [
          {
            path: `body.unitIds.${index}`,
            message: 'is not a unit of this municipality',
            code: 'unknown_unit',
          },
        ],
  );
}
