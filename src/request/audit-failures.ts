import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { sql, type Transaction } from 'kysely';
import {
  type AuditAction,
  type AuditResource,
  auditFailure,
  childKey,
  isUuid,
} from '../audit/audit.js';
import type { Action } from '../auth/permissions.js';
import { type Database, municipalityScope } from '../db/database.js';
import type { DB } from '../db/schema.js';

declare module 'fastify' {
  interface FastifyContextConfig {
    /**
     * The use of child data this route makes. Required on every route whose permission touches
     * child data; the service writes the entry on success, this plugin on failure.
     */
    audit?: { resource: AuditResource; action: AuditAction };
  }
}

/** Permissions whose routes use child data: each must declare `config.audit`. */
export const childDataPermissions: readonly Action[] = [
  'child:read',
  'child:write',
  'enrolment:write',
  'assessment:read',
  'assessment:write',
  'recommendation:read',
  'step:write',
  'flag:read',
  'flag:write',
  'concern_report:read',
  'concern_report:write',
  'consent:read',
  'consent:write',
  'consent:confirm',
  'handover:read',
  'event:read',
  'unit_analytics:read',
  'round:close',
  'audit:read',
  'dossier:read',
  'child:erase',
];

/** The child a failed request was about, from its path (only well-formed ids are recorded). */
function childOfRequest(request: FastifyRequest, resource: AuditResource): string | null {
  const params = (request.params ?? {}) as Record<string, unknown>;
  if (isUuid(params.childId)) return params.childId;
  if (
    ['child', 'dossier', 'handover'].includes(resource) &&
    isUuid(params.id) &&
    request.routeOptions.url?.startsWith('/v1/children/')
  ) {
    return params.id;
  }
  return null;
}

/** Tables whose rows name a child, by the path parameter that holds their id. */
const childTables = {
  assessmentId: 'assessments',
  recommendationId: 'recommendations',
  stepId: 'recommendation_steps',
  flagId: 'flags',
  consentId: 'consents',
  enrolmentId: 'enrolments',
} as const;

/**
 * The child a failed request concerns: named in the path or body, or found through the row the
 * path names; an erased child is recorded by its tombstone, never by its id again.
 */
async function subjectOf(
  database: Database,
  municipalityId: string | null,
  named: string | null,
  innermost: [string, string] | undefined,
): Promise<{ childId: string | null; childTombstone: string | null }> {
  if (!municipalityId) return { childId: named, childTombstone: null };
  return database.transaction(municipalityScope(municipalityId), (trx) =>
    childSubjectIn(trx, municipalityId, named, innermost),
  );
}

/**
 * `subjectOf` in a transaction already in the municipality's scope (also used for the refused
 * items of a bulk request, src/request/bulk.ts).
 */
export async function childSubjectIn(
  trx: Transaction<DB>,
  municipalityId: string,
  named: string | null,
  innermost?: [string, string],
): Promise<{ childId: string | null; childTombstone: string | null }> {
  let childId = named;
  const table = innermost ? childTables[innermost[0] as keyof typeof childTables] : undefined;
  if (!childId && table && innermost) {
    const { rows } = await sql<{ child_id: string }>`
      SELECT child_id FROM ${sql.table(table)}
      WHERE id = ${innermost[1]} AND municipality_id = ${municipalityId}`.execute(trx);
    childId = rows[0]?.child_id ?? null;
  }
  if (!childId) return { childId: null, childTombstone: null };
  const exists = await trx
    .selectFrom('children')
    .select('id')
    .where('id', '=', childId)
    .executeTakeFirst();
  if (exists) return { childId, childTombstone: null };
  const erased = await trx
    .selectFrom('erasures')
    .select('tombstone')
    .where('municipality_id', '=', municipalityId)
    .where('child_key', '=', childKey(municipalityId, childId))
    .executeTakeFirst();
  return erased
    ? { childId: null, childTombstone: erased.tombstone }
    : { childId, childTombstone: null };
}

/**
 * The failure half of the audit log: an authenticated request to a child-data route that ends
 * in 4xx/5xx is recorded with its outcome, before the response goes out (the service's own entry was rolled back with its
 * transaction). Unauthenticated requests (401) reach no data and are not attributable.
 */
export const auditFailuresPlugin = fp(
  async (app: FastifyInstance, opts: { database: Database; extraPermissions?: Action[] }) => {
    const audited = new Set<Action>([...childDataPermissions, ...(opts.extraPermissions ?? [])]);
    app.addHook('onRoute', (route) => {
      const permission = route.config?.permission;
      if (permission && audited.has(permission) && !route.config?.audit) {
        throw new Error(`Route ${route.method} ${route.url} uses child data: declare config.audit`);
      }
    });

    // onSend, not onResponse: the entry is committed before the client sees the answer, so a
    // client that asks the log next finds it.
    app.addHook('onSend', async (request, reply, payload) => {
      const spec = request.routeOptions.config.audit;
      const principal = request.principal;
      if (!spec || !principal || reply.statusCode < 400) return payload;
      const params = (request.params ?? {}) as Record<string, unknown>;
      const childId = childOfRequest(request, spec.resource);
      // The innermost id in the path (a consent, an assessment, a step…), else the child.
      const ids = Object.entries(params).filter(
        ([key, value]) => key !== 'childId' && isUuid(value),
      );
      const resourceId = (ids.at(-1)?.[1] as string | undefined) ?? childId;
      try {
        const body = request.body as { childId?: unknown } | undefined;
        // A parent's session is about its one child, whatever the request named: nothing a
        // parent sends puts an entry into another child's trail, nor looks another child up.
        const subject = principal.childId
          ? { childId: principal.childId, childTombstone: null }
          : await subjectOf(
              opts.database,
              principal.municipalityId,
              childId ?? (isUuid(body?.childId) ? body.childId : null),
              ids.at(-1) as [string, string] | undefined,
            );
        await auditFailure(
          opts.database,
          principal,
          {
            action: spec.action,
            resource: spec.resource,
            resourceId:
              subject.childTombstone && resourceId === childId
                ? subject.childTombstone
                : resourceId,
            childId: subject.childId,
            childTombstone: subject.childTombstone,
            // Not the raw query of a failed request: it may hold anything a caller typed.
            criteria: null,
          },
          reply.statusCode,
        );
      } catch (error) {
        request.log.error({ err: error }, 'could not audit a failed request');
      }
      return payload;
    });
  },
  { name: 'lineal-audit', dependencies: ['lineal-auth'] },
);
