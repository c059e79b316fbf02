import type { Selectable, Transaction } from 'kysely';
import { z } from 'zod';
import { type AuditAction, type AuditResource, searchCriteria } from '../../audit/audit.js';
import type { AuditLogTable, DB } from '../../db/schema.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import type { Session } from '../../request/session.js';
import type { AuditEntryView, AuditQuery } from './schemas.js';

/** The columns an audit entry is shown with (all but the municipality). */
export const AUDIT_COLUMNS = [
  'id',
  'occurred_at',
  'principal_kind',
  'principal_id',
  'role',
  'action',
  'resource_type',
  'resource_id',
  'child_id',
  'child_tombstone',
  'criteria',
  'outcome',
  'status_code',
  'request_id',
] as const;

export type AuditRow = Pick<Selectable<AuditLogTable>, (typeof AUDIT_COLUMNS)[number]>;

export function toAuditEntry(row: AuditRow): AuditEntryView {
  return {
    id: String(row.id),
    occurredAt: row.occurred_at.toISOString(),
    principal: { kind: row.principal_kind, id: row.principal_id, role: row.role },
    // Text columns, written only from the enums of audit/audit.ts.
    action: row.action as AuditAction,
    resourceType: row.resource_type as AuditResource,
    resourceId: row.resource_id,
    childId: row.child_id,
    childTombstone: row.child_tombstone,
    criteria: (row.criteria ?? null) as Record<string, unknown> | null,
    outcome: row.outcome as AuditEntryView['outcome'],
    statusCode: row.status_code,
    requestId: row.request_id,
  };
}

const auditCursor = z.tuple([z.string().regex(/^\d+$/)]);

/** The municipality's audit log, newest first, filtered; reading it is itself audited. */
export async function listAuditEntries(session: Session, trx: Transaction<DB>, query: AuditQuery) {
  const municipalityId = session.municipalityId;
  const after = query.cursor ? decodeCursor(query.cursor, auditCursor) : undefined;
  let q = trx
    .selectFrom('audit_log')
    .select(AUDIT_COLUMNS)
    .where('municipality_id', '=', municipalityId)
    .orderBy('id', 'desc')
    .limit(query.limit + 1);
  if (query.childId) q = q.where('child_id', '=', query.childId);
  if (query.childTombstone) q = q.where('child_tombstone', '=', query.childTombstone);
  if (query.principalId) q = q.where('principal_id', '=', query.principalId);
  if (query.action) q = q.where('action', '=', query.action);
  if (query.resourceType) q = q.where('resource_type', '=', query.resourceType);
  if (query.outcome) q = q.where('outcome', '=', query.outcome);
  if (query.from) q = q.where('occurred_at', '>=', new Date(query.from));
  if (query.to) q = q.where('occurred_at', '<', new Date(query.to));
  if (after) q = q.where('id', '<', Number(after[0]));
  const rows = await q.execute();
  session.audit({
    childId: query.childId ?? null,
    criteria: searchCriteria({ ...query, results: Math.min(rows.length, query.limit) }),
  });
  return toPage(rows, query.limit, toAuditEntry, (row) => [String(row.id)]);
}
