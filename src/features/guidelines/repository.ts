import type { Executor } from '../../db/database.js';

const guidelineColumns = [
  'id',
  'from_unit_kind',
  'to_unit_kind',
  'enabled',
  'categories',
  'reference',
  'updated_at',
  'updated_by',
] as const;

/** The municipality's guidelines, on and off, by transition. */
export function listGuidelines(db: Executor, municipalityId: string) {
  return db
    .selectFrom('transition_guidelines')
    .select(guidelineColumns)
    .where('municipality_id', '=', municipalityId)
    .orderBy('from_unit_kind')
    .orderBy('to_unit_kind')
    .execute();
}

export type GuidelineRow = Awaited<ReturnType<typeof listGuidelines>>[number];

export function upsertGuideline(
  db: Executor,
  values: {
    municipality_id: string;
    from_unit_kind: string;
    to_unit_kind: string;
    enabled: boolean;
    categories: string[];
    reference: string | null;
    updated_by: string;
  },
  now: Date,
) {
  return db
    .insertInto('transition_guidelines')
    .values({ ...values, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['municipality_id', 'from_unit_kind', 'to_unit_kind']).doUpdateSet({
        enabled: values.enabled,
        categories: values.categories,
        reference: values.reference,
        updated_by: values.updated_by,
        updated_at: now,
      }),
    )
    .returning(guidelineColumns)
    .executeTakeFirstOrThrow();
}

/** The guideline for one transition, if any; `lock` holds it until the transaction ends. */
export function findGuideline(
  db: Executor,
  municipalityId: string,
  transition: { fromUnitKind: string; toUnitKind: string },
  options: { lock?: boolean } = {},
) {
  let query = db
    .selectFrom('transition_guidelines')
    .select(guidelineColumns)
    .where('municipality_id', '=', municipalityId)
    .where('from_unit_kind', '=', transition.fromUnitKind)
    .where('to_unit_kind', '=', transition.toUnitKind);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

/** A new guideline, unless the transition has one already (then undefined). */
export function insertGuideline(
  db: Executor,
  values: Parameters<typeof upsertGuideline>[1],
  now: Date,
) {
  return db
    .insertInto('transition_guidelines')
    .values({ ...values, updated_at: now })
    .onConflict((oc) =>
      oc.columns(['municipality_id', 'from_unit_kind', 'to_unit_kind']).doNothing(),
    )
    .returning(guidelineColumns)
    .executeTakeFirst();
}
