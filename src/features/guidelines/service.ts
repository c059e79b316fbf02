import { NotFoundError, PreconditionFailedError } from '../../errors.js';
import { requireIfMatch } from '../../http/etag.js';
import type { Service } from '../../request/runner.js';
import {
  findGuideline,
  type GuidelineRow,
  insertGuideline,
  listGuidelines,
  upsertGuideline,
} from './repository.js';
import type { Guideline, GuidelineParams, PutGuideline } from './schemas.js';

function toGuideline(row: GuidelineRow): Guideline {
  return {
    id: row.id,
    fromUnitKind: row.from_unit_kind as Guideline['fromUnitKind'],
    toUnitKind: row.to_unit_kind as Guideline['toUnitKind'],
    enabled: row.enabled,
    categories: row.categories as Guideline['categories'],
    reference: row.reference,
    updatedAt: row.updated_at.toISOString(),
    updatedBy: row.updated_by,
  };
}

export const listTransitionGuidelines: Service<void, { items: Guideline[] }> = async (
  session,
  trx,
) => ({ items: (await listGuidelines(trx, session.municipalityId)).map(toGuideline) });

/** The guideline for one transition; 404 before it was first switched. */
export const getTransitionGuideline: Service<GuidelineParams, Guideline> = async (
  session,
  trx,
  transition,
) => {
  const row = await findGuideline(trx, session.municipalityId, transition);
  if (!row) {
    throw new NotFoundError(
      `transition guideline ${transition.fromUnitKind} → ${transition.toUnitKind}`,
    );
  }
  return toGuideline(row);
};

/**
 * Switches the guideline for one transition on or off (created on first use). With If-Match,
 * only if the guideline exists and is still the version read, compared on the locked row.
 */
export const putTransitionGuideline: Service<
  GuidelineParams & {
    body: PutGuideline;
    ifMatch?: string | undefined;
    ifNoneMatch?: '*' | undefined;
  },
  Guideline
> = async (session, trx, { fromUnitKind, toUnitKind, body, ifMatch, ifNoneMatch }) => {
  if (ifMatch !== undefined) {
    const current = await findGuideline(
      trx,
      session.municipalityId,
      { fromUnitKind, toUnitKind },
      { lock: true },
    );
    requireIfMatch(ifMatch, current ? toGuideline(current) : null, 'transition guideline');
  }
  const values = {
    municipality_id: session.municipalityId,
    from_unit_kind: fromUnitKind,
    to_unit_kind: toUnitKind,
    enabled: body.enabled,
    categories: [...new Set(body.categories)],
    reference: body.reference ?? null,
    updated_by: session.principal.id,
  };
  if (ifNoneMatch === '*') {
    // Create only: of two creations at once, the second finds the row (ON CONFLICT DO NOTHING).
    const created = await insertGuideline(trx, values, session.now);
    if (!created) {
      throw new PreconditionFailedError(
        'If-None-Match: * but the guideline for this transition exists already; read it and ' +
          'send your change with its ETag in If-Match.',
      );
    }
    return toGuideline(created);
  }
  return toGuideline(await upsertGuideline(trx, values, session.now));
};
