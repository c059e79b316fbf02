import type { Insertable } from 'kysely';
import type { Executor } from '../../db/database.js';
import type { SocialWorkerAssignmentsTable } from '../../db/schema.js';

const assignmentColumns = [
  'id',
  'child_id',
  'principal_kind',
  'principal_id',
  'created_at',
  'created_by',
] as const;

export interface AssignmentRow {
  id: string;
  child_id: string;
  principal_kind: string;
  principal_id: string;
  created_at: Date;
  created_by: string;
}

export async function isSocialWorkerKey(
  db: Executor,
  municipalityId: string,
  keyId: string,
): Promise<boolean> {
  const row = await db
    .selectFrom('api_keys')
    .select('id')
    .where('municipality_id', '=', municipalityId)
    .where('id', '=', keyId)
    .where('role', '=', 'social_worker')
    .executeTakeFirst();
  return row !== undefined;
}

export function findAssignment(
  db: Executor,
  municipalityId: string,
  childId: string,
  principal: { kind: string; id: string },
): Promise<AssignmentRow | undefined> {
  return db
    .selectFrom('social_worker_assignments')
    .select(assignmentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .where('principal_kind', '=', principal.kind)
    .where('principal_id', '=', principal.id)
    .executeTakeFirst();
}

export function insertAssignment(
  db: Executor,
  values: Insertable<SocialWorkerAssignmentsTable>,
): Promise<AssignmentRow> {
  return db
    .insertInto('social_worker_assignments')
    .values(values)
    .returning(assignmentColumns)
    .executeTakeFirstOrThrow();
}

export function listAssignments(
  db: Executor,
  municipalityId: string,
  childId: string,
): Promise<AssignmentRow[]> {
  return db
    .selectFrom('social_worker_assignments')
    .select(assignmentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .orderBy('created_at')
    .orderBy('id')
    .execute();
}

export async function deleteAssignment(
  db: Executor,
  municipalityId: string,
  childId: string,
  id: string,
): Promise<boolean> {
  const deleted = await db
    .deleteFrom('social_worker_assignments')
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .where('id', '=', id)
    .returning('id')
    .executeTakeFirst();
  return deleted !== undefined;
}
