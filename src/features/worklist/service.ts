import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { stepsVisibleTo } from '../../access/policy.js';
import { searchCriteria } from '../../audit/audit.js';
import type { DB } from '../../db/schema.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import { stepColumns } from '../recommendations/repository.js';
import { toStep } from '../recommendations/service.js';
import type { WorklistQuery } from './schemas.js';

const worklistCursor = z.tuple([z.string().regex(/^\d{4}-\d\d-\d\d$/), z.uuid()]);

/** Open steps by due date: what a leader or social worker opens every morning. */
export async function worklist(session: Session, trx: Transaction<DB>, query: WorklistQuery) {
  const today = session.today;
  const after = query.cursor ? decodeCursor(query.cursor, worklistCursor) : undefined;
  let q = trx
    .selectFrom('recommendation_steps')
    .innerJoin('children', 'children.id', 'recommendation_steps.child_id')
    .select([
      ...stepColumns,
      'children.external_ref as child_external_ref',
      'children.given_name as child_given_name',
      'children.family_name as child_family_name',
    ])
    .where(stepsVisibleTo(session.access.steps()))
    .where('recommendation_steps.status', '=', 'open')
    .orderBy('recommendation_steps.due_on')
    .orderBy('recommendation_steps.id')
    .limit(query.limit + 1);
  if (query.unitId) q = q.where('recommendation_steps.unit_id', '=', query.unitId);
  if (query.responsible) q = q.where('recommendation_steps.responsible', '=', query.responsible);
  if (query.zone) q = q.where('recommendation_steps.zone', '=', query.zone);
  if (query.dueBefore) q = q.where('recommendation_steps.due_on', '<=', query.dueBefore);
  if (query.overdue === true) q = q.where('recommendation_steps.due_on', '<', today);
  if (query.overdue === false) q = q.where('recommendation_steps.due_on', '>=', today);
  if (after) {
    q = q.where(
      sql<boolean>`(recommendation_steps.due_on, recommendation_steps.id) > (${after[0]}::date, ${after[1]}::uuid)`,
    );
  }
  const rows = await q.execute();
  session.audit({
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(
    rows,
    query.limit,
    (row) => ({
      ...toStep(row, today),
      child: {
        id: row.child_id,
        externalRef: row.child_external_ref,
        givenName: row.child_given_name,
        familyName: row.child_family_name,
      },
    }),
    (row) => [row.due_on, row.id],
  );
}
