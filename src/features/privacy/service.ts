import { randomUUID } from 'node:crypto';
import { sql, type Transaction } from 'kysely';
import { z } from 'zod';
import {
  type AuditEntry,
  audit,
  auditSystem,
  childKey,
  searchCriteria,
} from '../../audit/audit.js';
import { municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope, platformScope } from '../../db/database.js';
import { municipalityIds } from '../../db/municipality-ids.js';
import type { DB } from '../../db/schema.js';
import { localDate } from '../../domain/dates.js';
import { decodeCursor, toPage } from '../../http/pagination.js';
import { requireChild, visibilityOf } from '../children/service.js';

/** snake_case row → camelCase JSON: dates as ISO strings, binary columns left out. */
function toJson(row: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(row)) {
    if (value instanceof Uint8Array) continue;
    const name = key.replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
    out[name] = value instanceof Date ? value.toISOString() : value;
  }
  return out;
}

type AuditRow = {
  id: string;
  occurred_at: Date;
  principal_kind: string;
  principal_id: string;
  role: string;
  action: string;
  resource_type: string;
  resource_id: string | null;
  child_id: string | null;
  child_tombstone: string | null;
  criteria: unknown;
  outcome: string;
  status_code: number | null;
  request_id: string;
};

function toAuditEntry(row: AuditRow) {
  return {
    id: String(row.id),
    occurredAt: row.occurred_at.toISOString(),
    principal: {
      kind: row.principal_kind as 'api_key' | 'oidc' | 'system',
      id: row.principal_id,
      role: row.role,
    },
    action: row.action as AuditEntry['action'],
    resourceType: row.resource_type as AuditEntry['resource'],
    resourceId: row.resource_id,
    childId: row.child_id,
    childTombstone: row.child_tombstone,
    criteria: (row.criteria ?? null) as Record<string, unknown> | null,
    outcome: row.outcome as 'success',
    statusCode: row.status_code,
    requestId: row.request_id,
  };
}

const auditCursor = z.tuple([z.string().regex(/^\d+$/)]);

/** The municipality's audit log, newest first, filtered; reading it is itself audited. */
export async function listAuditEntries(
  database: Database,
  principal: Principal,
  query: {
    limit: number;
    cursor?: string | undefined;
    childId?: string | undefined;
    childTombstone?: string | undefined;
    principalId?: string | undefined;
    action?: string | undefined;
    resourceType?: string | undefined;
    outcome?: string | undefined;
    from?: string | undefined;
    to?: string | undefined;
  },
) {
  const municipalityId = municipalityOf(principal);
  const after = query.cursor ? decodeCursor(query.cursor, auditCursor) : undefined;
  const rows = await database.transaction(municipalityScope(municipalityId), async (trx) => {
    let q = trx
      .selectFrom('audit_log')
      .selectAll()
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
    if (after) q = q.where('id', '<', after[0]);
    const found = (await q.execute()) as unknown as AuditRow[];
    await audit(trx, principal, {
      action: 'search',
      resource: 'audit_log',
      childId: query.childId ?? null,
      criteria: searchCriteria({ ...query, results: Math.min(found.length, query.limit) }),
    });
    return found;
  });
  return toPage(rows, query.limit, toAuditEntry, (row) => [String(row.id)]);
}

/**
 * Everything stored about a child, for a parent's access request (GDPR art. 15): master data,
 * enrolments, every assessment version, recommendations and their steps, flags, consents,
 * concern reports, and every audit entry about the child (this request's included).
 */
export async function childDossier(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
) {
  const v = visibilityOf(principal, now);
  const m = v.municipalityId;
  return database.transaction(municipalityScope(m), async (trx) => {
    await requireChild(trx, v, childId);
    await audit(trx, principal, {
      action: 'read',
      resource: 'dossier',
      resourceId: childId,
      childId,
    });
    const child = await trx
      .selectFrom('children')
      .selectAll()
      .where('municipality_id', '=', m)
      .where('id', '=', childId)
      .executeTakeFirstOrThrow();
    const of = <
      T extends
        | 'enrolments'
        | 'assessments'
        | 'recommendations'
        | 'recommendation_steps'
        | 'flags'
        | 'consents'
        | 'concern_reports'
        | 'social_worker_assignments',
    >(
      table: T,
    ) =>
      sql<Record<string, unknown>>`
        SELECT * FROM ${sql.table(table)}
        WHERE municipality_id = ${m} AND child_id = ${childId}
        ORDER BY created_at, id
      `
        .execute(trx)
        .then((r) => r.rows.map(toJson));
    const [
      enrolments,
      assessments,
      recommendations,
      steps,
      flags,
      consents,
      concernReports,
      socialWorkerAssignments,
    ] = await Promise.all([
      of('enrolments'),
      of('assessments'),
      of('recommendations'),
      of('recommendation_steps'),
      sql<Record<string, unknown>>`
          SELECT * FROM flags WHERE municipality_id = ${m} AND child_id = ${childId}
          ORDER BY raised_at, id`
        .execute(trx)
        .then((r) => r.rows.map(toJson)),
      of('consents'),
      of('concern_reports'),
      of('social_worker_assignments'),
    ]);
    const events = await sql<Record<string, unknown>>`
      SELECT id, type, subject_type, subject_id, payload, created_at FROM events
      WHERE municipality_id = ${m} AND child_id = ${childId} ORDER BY id`
      .execute(trx)
      .then((r) => r.rows.map(toJson));
    const auditRows = (await trx
      .selectFrom('audit_log')
      .selectAll()
      .where('municipality_id', '=', m)
      .where('child_id', '=', childId)
      .orderBy('id')
      .execute()) as unknown as AuditRow[];
    const { cpr_hash, ...master } = child as Record<string, unknown>;
    return {
      generatedAt: now.toISOString(),
      municipalityId: m,
      child: { ...toJson(master), hasCpr: cpr_hash !== null && cpr_hash !== undefined },
      enrolments,
      assessments,
      recommendations,
      steps,
      flags,
      consents,
      concernReports,
      socialWorkerAssignments,
      events,
      auditEntries: auditRows.map(toAuditEntry),
    };
  });
}

interface ErasureRow {
  id: string;
  tombstone: string;
  erased_at: Date;
  source: 'request' | 'retention';
  deleted: unknown;
}

const toErasure = (row: ErasureRow, alreadyErased: boolean) => ({
  erasureId: row.id,
  tombstone: row.tombstone,
  erasedAt: row.erased_at.toISOString(),
  source: row.source,
  alreadyErased,
  deleted: row.deleted as Record<string, number>,
});

/**
 * Erases one child in the caller's transaction: the erasure's own audit entry is written first
 * (so it, too, ends up under the tombstone), then every row about the child is deleted by the
 * database function, and the erasure is registered. Returns the register row.
 */
async function eraseInTransaction(
  trx: Transaction<DB>,
  municipalityId: string,
  childId: string,
  how: {
    reason: string;
    source: 'request' | 'retention';
    by: string | null;
    writeAudit: (entry: AuditEntry) => Promise<void>;
  },
): Promise<ErasureRow> {
  const tombstone = `erased-${randomUUID()}`;
  await how.writeAudit({ action: 'delete', resource: 'child', resourceId: childId, childId });
  const consents = await sql<{ n: number }>`
    SELECT count(*)::int AS n FROM consents WHERE municipality_id = ${municipalityId} AND child_id = ${childId}
  `.execute(trx);
  const { rows } = await sql<{ deleted: Record<string, number> }>`
    SELECT lineal_erase_child(${childId}::uuid, ${tombstone}) AS deleted
  `.execute(trx);
  const deleted = { ...(rows[0]?.deleted ?? {}), consents: consents.rows[0]?.n ?? 0 };
  return (await trx
    .insertInto('erasures')
    .values({
      municipality_id: municipalityId,
      child_key: childKey(municipalityId, childId),
      tombstone,
      reason: how.reason,
      source: how.source,
      erased_by: how.by,
      deleted: JSON.stringify(deleted),
    })
    .returning(['id', 'tombstone', 'erased_at', 'source', 'deleted'])
    .executeTakeFirstOrThrow()) as ErasureRow;
}

/**
 * Erases a child on request (municipality administrator, with a reason). Idempotent: erasing an
 * already erased child answers with the first erasure's report.
 */
export async function eraseChild(
  database: Database,
  principal: Principal,
  childId: string,
  reason: string,
  now: Date,
) {
  const v = visibilityOf(principal, now);
  const m = v.municipalityId;
  return database.transaction(municipalityScope(m), async (trx) => {
    const earlier = (await trx
      .selectFrom('erasures')
      .select(['id', 'tombstone', 'erased_at', 'source', 'deleted'])
      .where('municipality_id', '=', m)
      .where('child_key', '=', childKey(m, childId))
      .executeTakeFirst()) as ErasureRow | undefined;
    if (earlier) {
      // Asking again is a use too: recorded under the tombstone, never the raw id.
      await audit(trx, principal, {
        action: 'delete',
        resource: 'child',
        resourceId: earlier.tombstone,
        childTombstone: earlier.tombstone,
        criteria: { alreadyErased: true },
      });
      return toErasure(earlier, true);
    }
    await requireChild(trx, v, childId, { lock: true });
    const row = await eraseInTransaction(trx, m, childId, {
      reason,
      source: 'request',
      by: `${principal.kind}:${principal.id}`,
      writeAudit: (entry) => audit(trx, principal, entry),
    });
    return toErasure(row, false);
  });
}

/** The same calendar date `years` earlier; 29 February becomes 28 February in a common year. */
export function yearsBefore(date: string, years: number): string {
  const [y, m, d] = date.split('-').map(Number) as [number, number, number];
  const year = y - years;
  const leap = (year % 4 === 0 && year % 100 !== 0) || year % 400 === 0;
  const day = m === 2 && d === 29 && !leap ? 28 : d;
  return `${String(year).padStart(4, '0')}-${String(m).padStart(2, '0')}-${String(day).padStart(2, '0')}`;
}

/** Whether a child is due for retention (locks the child row; false when gone or not due). */
async function stillDue(trx: Transaction<DB>, childId: string, cutoffDate: string) {
  const { rows } = await sql<{ due: boolean }>`
    SELECT (
      bool_and(e.id IS NOT NULL AND e.end_date IS NOT NULL AND e.end_date < ${cutoffDate}::date)
      OR (count(e.id) = 0 AND min(c.created_at) < ${cutoffDate}::date)
    ) AS due
    FROM (SELECT id, created_at, municipality_id FROM children WHERE id = ${childId} FOR UPDATE) c
    LEFT JOIN enrolments e ON e.child_id = c.id AND e.municipality_id = c.municipality_id
  `.execute(trx);
  return rows[0]?.due === true;
}

export interface RetentionReport {
  runId: string;
  dryRun: boolean;
  cutoffDate: string;
  auditCutoff: string;
  children: {
    municipalityId: string;
    tombstone: string | null;
    lastEnrolmentEnded: string | null;
  }[];
  childrenErased: number;
  auditEntriesPruned: number;
}

/**
 * The retention job: erases every child whose last enrolment ended more than `years` years ago
 * (a child never enrolled: registered that long ago), and deletes audit entries older than
 * `auditMonths` months. Idempotent (a second run finds nothing more to do); reports what it did.
 */
export async function runRetention(
  database: Database,
  options: { years: number; auditMonths: number; now: Date; dryRun?: boolean },
): Promise<RetentionReport> {
  const runId = randomUUID();
  const today = localDate(options.now);
  const cutoffDate = yearsBefore(today, options.years);
  const auditCutoff = new Date(options.now);
  auditCutoff.setUTCMonth(auditCutoff.getUTCMonth() - options.auditMonths);
  const due: { id: string; municipality_id: string; last_end: string | null }[] = [];
  for (const municipalityId of await municipalityIds(database)) {
    const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
      sql<{ id: string; municipality_id: string; last_end: string | null }>`
        SELECT c.id, c.municipality_id, max(e.end_date)::text AS last_end
        FROM children c
        LEFT JOIN enrolments e ON e.child_id = c.id AND e.municipality_id = c.municipality_id
        WHERE c.municipality_id = ${municipalityId}
        GROUP BY c.id, c.municipality_id, c.created_at
        HAVING bool_and(e.id IS NOT NULL AND e.end_date IS NOT NULL AND e.end_date < ${cutoffDate}::date)
            OR (count(e.id) = 0 AND c.created_at < ${cutoffDate}::date)
        ORDER BY c.id
      `
        .execute(trx)
        .then((r) => r.rows),
    );
    due.push(...rows);
  }
  const children: RetentionReport['children'] = [];
  for (const child of due) {
    if (options.dryRun) {
      children.push({
        municipalityId: child.municipality_id,
        tombstone: null,
        lastEnrolmentEnded: child.last_end,
      });
      continue;
    }
    const row = await database.transaction(
      municipalityScope(child.municipality_id),
      async (trx) => {
        // Re-checked under a lock: enrolled again or erased on request since the selection.
        if (!(await stillDue(trx, child.id, cutoffDate))) return null;
        return eraseInTransaction(trx, child.municipality_id, child.id, {
          reason: `Retention: last enrolment ended ${child.last_end ?? 'never enrolled'}, more than ${options.years} years before ${today}.`,
          source: 'retention',
          by: 'system:retention',
          writeAudit: (entry) =>
            auditSystem(
              trx,
              { job: 'retention', runId, municipalityId: child.municipality_id },
              entry,
            ),
        });
      },
    );
    if (!row) continue;
    children.push({
      municipalityId: child.municipality_id,
      tombstone: row.tombstone,
      lastEnrolmentEnded: child.last_end,
    });
  }
  let auditEntriesPruned = 0;
  if (!options.dryRun) {
    const { rows } = await database.transaction(platformScope, (trx) =>
      sql<{ n: number }>`SELECT lineal_prune_audit(${auditCutoff})::int AS n`.execute(trx),
    );
    auditEntriesPruned = rows[0]?.n ?? 0;
  }
  return {
    runId,
    dryRun: options.dryRun === true,
    cutoffDate,
    auditCutoff: auditCutoff.toISOString(),
    children,
    childrenErased: options.dryRun ? 0 : children.length,
    auditEntriesPruned,
  };
}
