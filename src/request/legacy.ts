// TEMPORARY (issue 13 migration): the old creating-POST helpers, until every route goes through
// the Runner. Deleted when the last feature is converted.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Transaction } from 'kysely';
import { municipalityOf } from '../access/policy.js';
import { audit } from '../audit/audit.js';
import { principalOf } from '../auth/plugin.js';
import type { Principal } from '../auth/principal.js';
import { municipalityScope, type Scope } from '../db/database.js';
import type { DB } from '../db/schema.js';
import {
  type Created,
  claim,
  idempotencyKeyOf,
  requestFingerprint,
  storeResponse,
} from './idempotency.js';
import type { RouteDeps } from './route-deps.js';

export async function createIdempotently<T>(
  deps: RouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  scope: Scope,
  work: (trx: Transaction<DB>) => Promise<Created<T>>,
): Promise<FastifyReply> {
  const key = idempotencyKeyOf(request);
  const principal = principalOf(request);
  const outcome = await deps.database.transaction(scope, async (trx) => {
    const now = deps.now();
    const values =
      key === undefined
        ? undefined
        : {
            municipalityId: scope.kind === 'municipality' ? scope.municipalityId : null,
            principalId: principal.id,
            key,
            hash: requestFingerprint(request, deps.cprSecret),
          };
    if (values) {
      const stored = await claim(trx, values, now);
      if (stored) {
        const spec = request.routeOptions.config.audit;
        if (spec) {
          const body = (stored.response_body ?? {}) as { id?: unknown; childId?: unknown };
          const id = typeof body.id === 'string' ? body.id : null;
          const childId = typeof body.childId === 'string' ? body.childId : null;
          await audit(trx, principal, {
            action: 'read',
            resource: spec.resource,
            resourceId: id,
            childId: spec.resource === 'child' ? id : childId,
            criteria: { idempotentReplay: true },
          });
        }
        const created: Created<T> = {
          status: stored.response_status ?? 200,
          body: stored.response_body as T,
          ...(stored.response_location ? { location: stored.response_location } : {}),
        };
        return { created, replayed: true };
      }
    }
    const created = await work(trx);
    if (values) await storeResponse(trx, values, created, now);
    return { created, replayed: false };
  });
  if (outcome.created.location) reply.header('location', outcome.created.location);
  if (outcome.replayed) reply.header('idempotency-replayed', 'true');
  return reply.status(outcome.created.status).send(outcome.created.body);
}

export function createInMunicipality<T>(
  deps: RouteDeps,
  request: FastifyRequest,
  reply: FastifyReply,
  work: (trx: Transaction<DB>, principal: Principal) => Promise<T>,
  location: (created: T) => string,
): Promise<FastifyReply> {
  const principal = principalOf(request);
  return createIdempotently(
    deps,
    request,
    reply,
    municipalityScope(municipalityOf(principal)),
    async (trx) => {
      const body = await work(trx, principal);
      return { status: 201, body, location: location(body) };
    },
  );
}
