import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import { involvesSocialWork } from '../../access/policy.js';
import { searchCriteria } from '../../audit/audit.js';
import type { DB } from '../../db/schema.js';
import { ConflictError, ForbiddenError, NotFoundError } from '../../errors.js';
import { decodeCursor, PgTimestampSchema, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import { appendEvents } from '../events/outbox.js';
import { notAssessedAuditSubjects, raiseNotAssessedFlags } from './not-assessed.js';
import { selectFlags, toFlag } from './repository.js';
import type { Flag, FlagListQuery } from './schemas.js';

const flagCursor = z.tuple([PgTimestampSchema, z.uuid()]);

export async function listFlags(session: Session, trx: Transaction<DB>, query: FlagListQuery) {
  const { access, principal } = session;
  const municipalityId = session.municipalityId;
  const after = query.cursor ? decodeCursor(query.cursor, flagCursor) : undefined;
  // Unit-limited keys: flags raised in their own units, about children enrolled there now.
  let q = selectFlags(trx, municipalityId)
    .where(access.flags())
    .orderBy('raised_at')
    .orderBy('id')
    .limit(query.limit + 1);
  if (access.isSocialWorker) {
    // Social workers: the flags of the children they are involved with.
    q = q.where(
      involvesSocialWork('flags.child_id', municipalityId, {
        kind: principal.kind,
        id: principal.id,
      }),
    );
  }
  if (query.unitId) q = q.where('unit_id', '=', query.unitId);
  if (query.childId) q = q.where('child_id', '=', query.childId);
  if (query.kind) q = q.where('kind', '=', query.kind);
  if (query.status === 'raised') q = q.where('acknowledged_at', 'is', null);
  if (query.status === 'acknowledged') q = q.where('acknowledged_at', 'is not', null);
  if (after) {
    q = q.where(sql<boolean>`(raised_at, id) > (${after[0]}::timestamptz, ${after[1]}::uuid)`);
  }
  const rows = await q.execute();
  session.audit({
    childId: query.childId ?? null,
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(rows, query.limit, toFlag, (row) => [row.raised_at_key, row.id]);
}

export async function acknowledgeFlag(
  session: Session,
  trx: Transaction<DB>,
  input: { id: string; body: { note: string } },
): Promise<Flag> {
  const { id: flagId, body } = input;
  const { access, now } = session;
  const by = session.principal.id;
  // Unit-limited keys: flags raised in their own units, about children enrolled there now.
  const flag = await selectFlags(trx, session.municipalityId)
    .where('id', '=', flagId)
    .where(access.flags())
    .forUpdate()
    .executeTakeFirst();
  if (!flag || !(await access.seesChild(trx, flag.child_id))) {
    throw new NotFoundError('flag', flagId);
  }
  if (flag.acknowledged_at) {
    throw new ConflictError(
      `The flag was already acknowledged at ${flag.acknowledged_at.toISOString()}.`,
      'flag-acknowledged',
    );
  }
  await trx
    .updateTable('flags')
    .set({ acknowledged_at: now, acknowledged_by: by, acknowledgement_note: body.note })
    .where('id', '=', flagId)
    .execute();
  await appendEvents(trx, [
    {
      municipalityId: session.municipalityId,
      type: 'flag.acknowledged',
      childId: flag.child_id,
      subjectType: 'flag',
      subjectId: flagId,
      payload: { kind: flag.kind, note: body.note },
    },
  ]);
  session.audit({ resourceId: flagId, childId: flag.child_id });
  return toFlag({
    ...flag,
    acknowledged_at: now,
    acknowledged_by: by,
    acknowledgement_note: body.note,
  });
}

/** The route's not-assessed run (the server's sweep does the same by itself). */
export async function flagNotAssessed(
  session: Session,
  trx: Transaction<DB>,
  roundId: string,
): Promise<{ raised: number }> {
  if (session.access.isUnitLimited) {
    throw new ForbiddenError('This key is limited to units; the round covers more.');
  }
  const { flags } = await raiseNotAssessedFlags(trx, session.municipalityId, roundId, session.now);
  session.audit(...notAssessedAuditSubjects(roundId, flags));
  return { raised: flags.length };
}
