import { sql, type Transaction } from 'kysely';
import { visibleChildren } from '../../access/policy.js';
import type { DB } from '../../db/schema.js';
import { NotFoundError } from '../../errors.js';
import type { ReadOn } from '../../request/runner.js';
import type { Session } from '../../request/session.js';
import { AUDIT_COLUMNS, toAuditEntry } from '../audit/service.js';
import type { Dossier } from './schemas.js';

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

type ChildTable =
  | 'enrolments'
  | 'assessments'
  | 'recommendations'
  | 'recommendation_steps'
  | 'consents'
  | 'concern_reports'
  | 'parent_notices'
  | 'self_reports'
  | 'social_worker_assignments';

/**
 * Everything stored about a child, for a parent's access request (GDPR art. 15): master data,
 * enrolments, every assessment version, recommendations and their steps, flags, consents,
 * concern reports, the parent-information duties, the child's own self-reports (every
 * purpose), and every audit entry about the child. Read in the request's transaction;
 * the audit entries once it has committed (`Runner.runThen`), so that this read's own entry is
 * among them.
 */
export async function childDossier(session: Session, trx: Transaction<DB>, childId: string) {
  const m = session.municipalityId;
  const child = await trx
    .selectFrom('children')
    .selectAll('children')
    .where('children.municipality_id', '=', m)
    .where('children.id', '=', childId)
    .where(visibleChildren(session.access.children()))
    .executeTakeFirst();
  if (!child) throw new NotFoundError('child', childId);
  session.audit({ resourceId: childId, childId });
  const of = (table: ChildTable) =>
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
    parentNotices,
    selfReports,
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
    of('parent_notices'),
    // Every purpose: the child's right of access is not a use of the answers
    // (selfReportAudience(…, 'access_request') is full).
    of('self_reports'),
    of('social_worker_assignments'),
  ]);
  const events = await sql<Record<string, unknown>>`
    SELECT id, type, subject_type, subject_id, payload, created_at FROM events
    WHERE municipality_id = ${m} AND child_id = ${childId} ORDER BY id`
    .execute(trx)
    .then((r) => r.rows.map(toJson));
  const { cpr_hash, ...master } = child;
  return async (read: ReadOn): Promise<Dossier> => {
    const auditRows = await read((t) =>
      t
        .selectFrom('audit_log')
        .select(AUDIT_COLUMNS)
        .where('municipality_id', '=', m)
        .where('child_id', '=', childId)
        .orderBy('id')
        .execute(),
    );
    return {
      generatedAt: session.now.toISOString(),
      municipalityId: m,
      child: { ...toJson(master), hasCpr: cpr_hash !== null },
      enrolments,
      assessments,
      recommendations,
      steps,
      flags,
      consents,
      concernReports,
      parentNotices,
      selfReports,
      socialWorkerAssignments,
      events,
      auditEntries: auditRows.map(toAuditEntry),
    };
  };
}
