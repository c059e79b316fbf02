import type { Transaction } from 'kysely';
import { audit } from '../../audit/audit.js';
import type { Principal } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import { enrolledVisibilityOf, requireChild, visibilityOf } from '../children/service.js';
import {
  type AssignmentRow,
  deleteAssignment,
  findAssignment,
  insertAssignment,
  isSocialWorkerKey,
  listAssignments,
} from './repository.js';
import type { Assignment, CreateAssignment } from './schemas.js';

export function toAssignment(row: AssignmentRow): Assignment {
  return {
    id: row.id,
    childId: row.child_id,
    principal: { kind: row.principal_kind as 'api_key' | 'oidc', id: row.principal_id },
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/**
 * Assigns a social worker to a child, which lets them see it. Only who may change the child's
 * record may do so (an administrator; a unit leader of a unit the child is enrolled in now).
 */
export async function assignSocialWorker(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  input: CreateAssignment,
  now: Date,
): Promise<Assignment> {
  const v = enrolledVisibilityOf(principal, now);
  await requireChild(trx, v, childId);
  const { kind, id } = input.principal;
  if (
    kind === 'api_key' &&
    !(UUID.test(id) && (await isSocialWorkerKey(trx, v.municipalityId, id)))
  ) {
    throw new ValidationFailedError('The social worker cannot be assigned.', [
      {
        path: 'body.principal.id',
        message: 'is not a social_worker key of this municipality',
        code: 'not_a_social_worker_key',
      },
    ]);
  }
  if (await findAssignment(trx, v.municipalityId, childId, { kind, id })) {
    throw new ConflictError(
      'The social worker is already assigned to the child.',
      'already-assigned',
    );
  }
  const row = await insertAssignment(trx, {
    municipality_id: v.municipalityId,
    child_id: childId,
    principal_kind: kind,
    principal_id: id,
    created_at: now,
    created_by: principal.id,
  });
  await audit(trx, principal, {
    action: 'create',
    resource: 'social_worker_assignment',
    resourceId: row.id,
    childId,
  });
  return toAssignment(row);
}

export async function listChildAssignments(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
): Promise<{ items: Assignment[] }> {
  const v = visibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    const rows = await listAssignments(trx, v.municipalityId, childId);
    await audit(trx, principal, { action: 'read', resource: 'social_worker_assignment', childId });
    return { items: rows.map(toAssignment) };
  });
}

export async function unassignSocialWorker(
  database: Database,
  principal: Principal,
  childId: string,
  assignmentId: string,
  now: Date,
): Promise<void> {
  const v = enrolledVisibilityOf(principal, now);
  await database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    if (!(await deleteAssignment(trx, v.municipalityId, childId, assignmentId))) {
      throw new NotFoundError('social worker assignment', assignmentId);
    }
    await audit(trx, principal, {
      action: 'delete',
      resource: 'social_worker_assignment',
      resourceId: assignmentId,
      childId,
    });
  });
}
