import type { Transaction } from 'kysely';
import type { DB } from '../../db/schema.js';
import { ConflictError, NotFoundError, ValidationFailedError } from '../../errors.js';
import type { Session } from '../../request/session.js';
import { requireChild } from '../children/service.js';
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
  session: Session,
  trx: Transaction<DB>,
  { childId, body: input }: { childId: string; body: CreateAssignment },
): Promise<Assignment> {
  const v = session.access.childrenToChange();
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
    created_at: session.now,
    created_by: session.principal.id,
  });
  session.audit({ resourceId: row.id, childId });
  return toAssignment(row);
}

export async function listChildAssignments(
  session: Session,
  trx: Transaction<DB>,
  childId: string,
): Promise<{ items: Assignment[] }> {
  const v = session.access.children();
  await requireChild(trx, v, childId);
  const rows = await listAssignments(trx, v.municipalityId, childId);
  session.audit({ childId });
  return { items: rows.map(toAssignment) };
}

export async function unassignSocialWorker(
  session: Session,
  trx: Transaction<DB>,
  { childId, assignmentId }: { childId: string; assignmentId: string },
): Promise<void> {
  const v = session.access.childrenToChange();
  await requireChild(trx, v, childId);
  if (!(await deleteAssignment(trx, v.municipalityId, childId, assignmentId))) {
    throw new NotFoundError('social worker assignment', assignmentId);
  }
  session.audit({ resourceId: assignmentId, childId });
}
