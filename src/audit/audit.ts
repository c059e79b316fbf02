import { createHash } from 'node:crypto';
import type { Transaction } from 'kysely';
import type { Principal } from '../auth/principal.js';
import { type Database, municipalityScope, platformScope } from '../db/database.js';
import type { DB } from '../db/schema.js';

/** What was done with child data (the audit log's `action`). */
export const auditActions = [
  'create',
  'read',
  'update',
  'withdraw',
  'delete',
  'export',
  'search',
] as const;
export type AuditAction = (typeof auditActions)[number];

/** The kinds of child data whose every use is audited. */
export const auditResources = [
  'child',
  'enrolment',
  'assessment',
  'recommendation',
  'step',
  'flag',
  'consent',
  'concern_report',
  'parent_notice',
  'self_report',
  'coverage',
  'analytics',
  'event',
  'export',
  'dossier',
  'handover',
  'audit_log',
  'social_worker_assignment',
  'parent_link',
  'parent_session',
  'parent_view',
] as const;
export type AuditResource = (typeof auditResources)[number];

export const auditOutcomes = [
  'success',
  'denied',
  'not_found',
  'invalid',
  'conflict',
  'error',
] as const;
export type AuditOutcome = (typeof auditOutcomes)[number];

/** One use of child data. */
export interface AuditEntry {
  action: AuditAction;
  resource: AuditResource;
  /** The row used (an assessment id, a step id…); for a child, the child's id. */
  resourceId?: string | null;
  /** The child concerned; null for list and search requests (then `criteria` says what). */
  childId?: string | null;
  /** The filters of a list or search (never free text such as a name: see `searchCriteria`). */
  criteria?: Record<string, unknown> | null;
  /** An erased child's tombstone, in place of its id. */
  childTombstone?: string | null;
}

/**
 * Records uses of child data, in the caller's transaction: a write is audited atomically with
 * the change, a read with the query that made it. The only way entries are written on success.
 */
export async function audit(
  trx: Transaction<DB>,
  principal: Principal,
  ...entries: AuditEntry[]
): Promise<void> {
  await insertEntries(trx, actorOf(principal), entries);
}

/** Who an entry names: a principal of a request, or the service itself (`system`). */
interface Actor {
  kind: 'api_key' | 'oidc' | 'parent' | 'system';
  id: string;
  role: string;
  municipalityId: string | null;
  /** The units the principal is limited to (none: the whole municipality, or the service). */
  unitIds: readonly string[];
  requestId: string;
}

const actorOf = (p: Principal): Actor => ({
  kind: p.kind,
  id: p.id,
  role: p.role,
  municipalityId: p.municipalityId,
  unitIds: p.unitIds,
  requestId: p.requestId,
});

/** In chunks of 1,000 rows: one INSERT's bind parameters are limited (65,535). */
async function insertEntries(trx: Transaction<DB>, actor: Actor, entries: AuditEntry[]) {
  for (let at = 0; at < entries.length; at += 1000) {
    await trx
      .insertInto('audit_log')
      .values(entries.slice(at, at + 1000).map((e) => row(actor, e, 'success', null)))
      .execute();
  }
}

function row(actor: Actor, e: AuditEntry, outcome: AuditOutcome, status: number | null) {
  return {
    municipality_id: actor.municipalityId,
    principal_kind: actor.kind,
    principal_id: actor.id,
    role: actor.role,
    unit_ids: actor.unitIds.length > 0 ? [...actor.unitIds] : null,
    action: e.action,
    resource_type: e.resource,
    resource_id: e.resourceId ?? null,
    child_id: e.childId ?? null,
    child_tombstone: e.childTombstone ?? null,
    criteria: e.criteria ? JSON.stringify(e.criteria) : null,
    outcome,
    status_code: status,
    request_id: actor.requestId,
  };
}

/**
 * Records a use by the service itself (retention, not-assessed flags), which has no principal:
 * principal kind `system`, the job's name as principal id and a run id as request id.
 */
export async function auditSystem(
  trx: Transaction<DB>,
  job: { job: string; runId: string; municipalityId: string },
  ...entries: AuditEntry[]
): Promise<void> {
  await insertEntries(
    trx,
    {
      kind: 'system',
      id: job.job,
      role: 'system',
      municipalityId: job.municipalityId,
      unitIds: [],
      requestId: job.runId,
    },
    entries,
  );
}

/** The outcome recorded for a failed request's status code. */
export function outcomeOf(status: number): AuditOutcome {
  if (status === 401 || status === 403 || status === 429) return 'denied';
  if (status === 404 || status === 410) return 'not_found';
  if (status === 409 || status === 412) return 'conflict';
  if (status >= 500) return 'error';
  return 'invalid';
}

/**
 * Records a request that failed (its own transaction: the request's was rolled back, so nothing
 * it would have audited remains).
 */
export async function auditFailure(
  database: Database,
  principal: Principal,
  entry: AuditEntry,
  status: number,
): Promise<void> {
  const scope = principal.municipalityId
    ? municipalityScope(principal.municipalityId)
    : platformScope;
  await database.transaction(scope, (trx) =>
    trx
      .insertInto('audit_log')
      .values(row(actorOf(principal), entry, outcomeOf(status), status))
      .execute(),
  );
}

/**
 * Records failed parts of a request in the request's own transaction: the items of a bulk
 * request that were refused while the others were done (src/request/bulk.ts), each with its
 * outcome and status, as a failed single request is recorded by `auditFailure`.
 */
export async function auditFailedParts(
  trx: Transaction<DB>,
  principal: Principal,
  parts: readonly { entry: AuditEntry; status: number }[],
): Promise<void> {
  const actor = actorOf(principal);
  for (let at = 0; at < parts.length; at += 1000) {
    await trx
      .insertInto('audit_log')
      .values(
        parts.slice(at, at + 1000).map((p) => row(actor, p.entry, outcomeOf(p.status), p.status)),
      )
      .execute();
  }
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
export const isUuid = (value: unknown): value is string =>
  typeof value === 'string' && UUID.test(value);

/** Query keys whose values are free text about a person: recorded as given, never their value. */
const FREE_TEXT_KEYS = new Set(['q', 'name', 'givenName', 'familyName', 'cpr', 'externalRef']);

/**
 * The criteria of a list or search request as recorded: ids, dates, statuses and limits as
 * given; free text (a name searched for, a CPR number) only as `"[given]"`, so that the log
 * itself holds no names.
 */
export function searchCriteria(query: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(query)) {
    if (value === undefined || key === 'cursor') continue;
    out[key] = FREE_TEXT_KEYS.has(key) ? '[given]' : value;
  }
  return out;
}

/** A non-reversible key of a child id (ids are random, so a plain hash cannot be searched back). */
export const childKey = (municipalityId: string, childId: string) =>
  createHash('sha256').update(`lineal-erasure:${municipalityId}:${childId}`).digest('hex');
