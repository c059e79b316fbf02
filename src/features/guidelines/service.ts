import type { Service } from '../../request/runner.js';
import { type GuidelineRow, listGuidelines, upsertGuideline } from './repository.js';
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

/** Switches the guideline for one transition on or off (created on first use). */
export const putTransitionGuideline: Service<
  GuidelineParams & { body: PutGuideline },
  Guideline
> = async (session, trx, { fromUnitKind, toUnitKind, body }) =>
  toGuideline(
    await upsertGuideline(
      trx,
      {
        municipality_id: session.municipalityId,
        from_unit_kind: fromUnitKind,
        to_unit_kind: toUnitKind,
        enabled: body.enabled,
        categories: [...new Set(body.categories)],
        reference: body.reference ?? null,
        updated_by: session.principal.id,
      },
      session.now,
    ),
  );
