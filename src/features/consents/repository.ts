import type { Executor } from '../../db/database.js';

const consentColumns = [
  'id',
  'child_id',
  'purpose',
  'recipient_unit_id',
  'recipient_role',
  'categories',
  'given_by_name',
  'given_by_relation',
  'given_on',
  'valid_until',
  'revoked_at',
  'revoked_by_name',
  'revoked_by_relation',
  'revocation_reason',
  'revocation_recorded_by',
  'created_at',
  'created_by',
  'confirmation_required',
  'confirmed_at',
  'confirmed_by',
] as const;

export interface ConsentRow {
  id: string;
  child_id: string;
  purpose: string;
  recipient_unit_id: string | null;
  recipient_role: string | null;
  categories: string[];
  given_by_name: string;
  given_by_relation: string;
  given_on: string;
  valid_until: string | null;
  revoked_at: Date | null;
  revoked_by_name: string | null;
  revoked_by_relation: string | null;
  revocation_reason: string | null;
  revocation_recorded_by: string | null;
  created_at: Date;
  created_by: string;
  confirmation_required: boolean;
  confirmed_at: Date | null;
  confirmed_by: string | null;
}

export interface NewConsent {
  municipality_id: string;
  child_id: string;
  purpose: string;
  recipient_unit_id: string | null;
  recipient_role: string | null;
  categories: string[];
  given_by_name: string;
  given_by_relation: string;
  given_on: string;
  valid_until: string | null;
  created_by: string;
  confirmation_required: boolean;
}

export async function insertConsent(db: Executor, values: NewConsent): Promise<ConsentRow> {
  return db
    .insertInto('consents')
    .values(values)
    .returning(consentColumns)
    .executeTakeFirstOrThrow();
}

/** The child's consents, oldest first. */
export function listConsents(
  db: Executor,
  municipalityId: string,
  childId: string,
): Promise<ConsentRow[]> {
  return db
    .selectFrom('consents')
    .select(consentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export function findConsent(
  db: Executor,
  municipalityId: string,
  childId: string,
  id: string,
  options: { lock?: boolean } = {},
): Promise<ConsentRow | undefined> {
  let query = db
    .selectFrom('consents')
    .select(consentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .where('id', '=', id);
  if (options.lock) query = query.forUpdate();
  return query.executeTakeFirst();
}

export async function revokeConsent(
  db: Executor,
  municipalityId: string,
  id: string,
  revocation: {
    at: Date;
    byName: string;
    byRelation: string;
    reason: string;
    recordedBy: string;
  },
): Promise<ConsentRow> {
  return db
    .updateTable('consents')
    .set({
      revoked_at: revocation.at,
      revoked_by_name: revocation.byName,
      revoked_by_relation: revocation.byRelation,
      revocation_reason: revocation.reason,
      revocation_recorded_by: revocation.recordedBy,
    })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(consentColumns)
    .executeTakeFirstOrThrow();
}

/** Records the confirmation of a consent that waits for one. */
export async function confirmConsent(
  db: Executor,
  municipalityId: string,
  id: string,
  confirmation: { at: Date; by: string },
): Promise<ConsentRow> {
  return db
    .updateTable('consents')
    .set({ confirmed_at: confirmation.at, confirmed_by: confirmation.by })
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', id)
    .returning(consentColumns)
    .executeTakeFirstOrThrow();
}

// Guidelines

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

export interface GuidelineRow {
  id: string;
  from_unit_kind: string;
  to_unit_kind: string;
  enabled: boolean;
  categories: string[];
  reference: string | null;
  updated_at: Date;
  updated_by: string;
}

export function listGuidelines(
  db: Executor,
  municipalityId: string,
  options: { enabledOnly?: boolean } = {},
): Promise<GuidelineRow[]> {
  let query = db
    .selectFrom('transition_guidelines')
    .select(guidelineColumns)
    .where('municipality_id', '=', municipalityId)
    .orderBy('from_unit_kind')
    .orderBy('to_unit_kind');
  if (options.enabledOnly) query = query.where('enabled', '=', true);
  return query.execute();
}

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
): Promise<GuidelineRow> {
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

/** The kinds of the given units. */
export async function unitKindsOf(
  db: Executor,
  municipalityId: string,
  unitIds: readonly string[],
): Promise<Map<string, string>> {
  if (unitIds.length === 0) return new Map();
  const rows = await db
    .selectFrom('units')
    .select(['id', 'kind'])
    .where('municipality_id', '=', municipalityId)
    .where('id', 'in', [...new Set(unitIds)])
    .execute();
  return new Map(rows.map((r) => [r.id, r.kind]));
}
