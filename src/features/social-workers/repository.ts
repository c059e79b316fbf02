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
) {
  return db
    .selectFrom('social_worker_assignments')
    .select(assignmentColumns)
    .where('municipality_id', '=', municipalityId)
    .where('child_id', '=', childId)
    .where('principal_kind', '=', principal.kind)
    .where('principal_id', '=', principal.id)
    .executeTakeFirst();
}

export type AssignmentRow = NonNullable<Awaited<ReturnType<typeof findAssignment>>>;

export function insertAssignment(db: Executor, values: Insertable<SocialWorkerAssignmentsTable>) {
  return db
    .insertInto('social_worker_assignments')
    .values(values)
    .returning(assignmentColumns)
    .executeTakeFirstOrThrow();
}

export function listAssignments(db: Executor, municipalityId: string, childId: string) {
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
