import { sql } from 'kysely';
import type { Executor } from '../../db/database.js';
import { parentAccessLogResources } from '../../domain/parent-view.js';

/*
 * The parent view's queries. Each names the child; in a parent's transaction the database
 * shows that child's rows only, whatever a query says (migrations/20261215_090000_parent_view.ts).
 */

/** The columns of a link the unit sees (never its code's hash). */
export const linkColumns = [
  'id',
  'child_id',
  'unit_id',
  'handed_to',
  'created_at',
  'expires_at',
  'used_at',
  'revoked_at',
] as const;

export function listLinks(db: Executor, childId: string) {
  return db
    .selectFrom('parent_links')
    .select(linkColumns)
    .where('child_id', '=', childId)
    .orderBy('created_at', 'desc')
    .orderBy('id')
    .execute();
}

export function findLink(db: Executor, id: string) {
  return db
    .selectFrom('parent_links')
    .select(linkColumns)
    .where('id', '=', id)
    .forUpdate()
    .executeTakeFirst();
}

export function childFacts(db: Executor, childId: string, today: string) {
  return Promise.all([
    db
      .selectFrom('children')
      .select(['given_name', 'birth_date'])
      .where('id', '=', childId)
      .executeTakeFirst(),
    db
      .selectFrom('enrolments as e')
      .innerJoin('units as u', 'u.id', 'e.unit_id')
      .select(['u.id', 'u.name'])
      .where('e.child_id', '=', childId)
      .where('e.start_date', '<=', today)
      .where((eb) => eb.or([eb('e.end_date', 'is', null), eb('e.end_date', '>=', today)]))
      .orderBy('u.name')
      .execute(),
  ]);
}

export function currentAssessments(db: Executor, childId: string) {
  return db
    .selectFrom('assessments as a')
    .innerJoin('units as u', 'u.id', 'a.unit_id')
    .innerJoin('ruler_versions as v', 'v.id', 'a.ruler_version_id')
    .innerJoin('rulers as r', 'r.id', 'v.ruler_id')
    .select([
      'a.id',
      'a.assessed_on',
      'a.zone',
      'a.level',
      'u.name as unit',
      'r.name as ruler',
      'v.definition',
    ])
    .where('a.child_id', '=', childId)
    .where('a.status', '=', 'current')
    .orderBy('a.assessed_on', 'desc')
    .orderBy('a.id')
    .execute();
}

/** The steps of the child's current assessments that involve the parents. */
export function parentSteps(db: Executor, childId: string) {
  return db
    .selectFrom('recommendation_steps as s')
    .innerJoin('recommendations as r', 'r.id', 's.recommendation_id')
    .innerJoin('assessments as a', 'a.id', 'r.assessment_id')
    .select([
      's.id',
      'a.assessed_on',
      's.title',
      's.description',
      's.responsible',
      's.involve',
      's.due_on',
      's.status',
    ])
    .where('s.child_id', '=', childId)
    .where('a.status', '=', 'current')
    .where('s.status', '<>', 'superseded')
    .where((eb) =>
      eb.or([
        eb('s.responsible', '=', 'parents'),
        eb(sql.lit('parents'), '=', eb.fn.any('s.involve')),
      ]),
    )
    .orderBy('s.due_on')
    .orderBy('s.id')
    .execute();
}

export function consentsOf(db: Executor, childId: string) {
  return db
    .selectFrom('consents as c')
    .leftJoin('units as u', 'u.id', 'c.recipient_unit_id')
    .select([
      'c.id',
      'c.purpose',
      'u.name as unit',
      'c.recipient_role',
      'c.categories',
      'c.given_by_name',
      'c.given_by_relation',
      'c.given_on',
      'c.valid_until',
      'c.revoked_at',
    ])
    .where('c.child_id', '=', childId)
    .orderBy('c.given_on', 'desc')
    .orderBy('c.id')
    .execute();
}

/**
 * One page of the child's access log, newest first (`before`: the last id of the previous page):
 * every successful use, except the parent's own reads of the parent view.
 */
export function accessLog(db: Executor, childId: string, limit: number, before?: number) {
  let query = db
    .selectFrom('audit_log')
    .select(['id', 'occurred_at', 'principal_kind', 'role', 'unit_ids', 'action', 'resource_type'])
    .where('child_id', '=', childId)
    .where('outcome', '=', 'success')
    .where('resource_type', 'in', [...parentAccessLogResources])
    // The parent's own reads of this view would drown the rest; their changes are listed.
    .where((eb) => eb.not(eb.and([eb('principal_kind', '=', 'parent'), eb('action', '=', 'read')])))
    .orderBy('id', 'desc')
    .limit(limit + 1);
  if (before !== undefined) query = query.where('id', '<', before);
  return query.execute();
}

export async function unitNames(
  db: Executor,
  ids: readonly string[],
): Promise<Map<string, string>> {
  if (ids.length === 0) return new Map();
  const rows = await db
    .selectFrom('units')
    .select(['id', 'name'])
    .where('id', 'in', [...ids])
    .execute();
  return new Map(rows.map((r) => [r.id, r.name]));
}

/** The child's self-reports (reports given for statistics only are never among them). */
export function selfReportsOf(db: Executor, childId: string) {
  return db
    .selectFrom('self_reports')
    .select(['id', 'reported_on', 'zone', 'purpose', 'shared_with_parents'])
    .where('child_id', '=', childId)
    .where('purpose', '<>', 'statistics_only')
    .orderBy('reported_on', 'desc')
    .orderBy('id')
    .execute();
}
