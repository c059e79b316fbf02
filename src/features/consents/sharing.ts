import type { Transaction } from 'kysely';
import { isUnitLimited, municipalityOf, type Principal } from '../../auth/principal.js';
import type { DB } from '../../db/schema.js';
import {
  type Basis,
  basesFor,
  type ConsentFacts,
  type ConsentPurpose,
  type DataCategory,
  isUnitLimitedViewer,
  type SharedItem,
  type SharingContext,
  type WithheldReason,
  type WithheldUnit,
  withheldByUnit,
} from '../../domain/sharing.js';
import { ProblemError } from '../../errors.js';
import { listEnrolments } from '../children/repository.js';
import { type ConsentRow, listConsents, listGuidelines, unitKindsOf } from './repository.js';

/** What the sharing rules need to know of a stored consent. */
export function consentFacts(row: ConsentRow): ConsentFacts {
  return {
    id: row.id,
    purpose: row.purpose as ConsentPurpose,
    recipientUnitId: row.recipient_unit_id,
    recipientRole: row.recipient_role,
    categories: row.categories,
    givenByRelation: row.given_by_relation,
    givenOn: row.given_on,
    validUntil: row.valid_until,
    revokedAt: row.revoked_at,
    awaitingConfirmation: row.confirmation_required && row.confirmed_at === null,
  };
}

/**
 * The facts the sharing rules need for one child and one principal, read in the caller's
 * transaction: the child's enrolments in the principal's units, its consents and the
 * municipality's guidelines. Principals not limited to units need none of them.
 */
export async function loadSharing(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  today: string,
): Promise<SharingContext> {
  const viewer = { role: principal.role, unitIds: principal.unitIds };
  if (!isUnitLimited(principal)) {
    return { viewer, today, receiving: [], consents: [], guidelines: [] };
  }
  const municipalityId = municipalityOf(principal);
  const enrolments = await listEnrolments(trx, municipalityId, childId);
  const consents = await listConsents(trx, municipalityId, childId);
  const guidelines = await listGuidelines(trx, municipalityId, { enabledOnly: true });
  return {
    viewer,
    today,
    receiving: enrolments
      .filter(
        (e) =>
          principal.unitIds.includes(e.unit_id) && (e.end_date === null || e.end_date >= today),
      )
      .map((e) => ({ unitId: e.unit_id, unitKind: e.unit_kind, startDate: e.start_date })),
    consents: consents.map(consentFacts),
    guidelines: guidelines.map((g) => ({
      id: g.id,
      fromUnitKind: g.from_unit_kind,
      toUnitKind: g.to_unit_kind,
      enabled: g.enabled,
      categories: g.categories,
    })),
  };
}

/**
 * Whether a unit-limited viewer sees the child only because its units still owe follow-up (no
 * current enrolment in them): then nothing of other units exists for it, not even as a count
 * of withheld items, since that would tell what was recorded after the child left.
 */
export function seesOwnDutiesOnly(ctx: SharingContext): boolean {
  return isUnitLimitedViewer(ctx.viewer) && ctx.receiving.length === 0;
}

export interface Judged<T> {
  value: T;
  item: SharedItem;
  bases: Basis[];
}

/**
 * Splits values into those the viewer may see for the category (with their bases) and those
 * withheld. `locate` says which unit recorded a value and the date it is about.
 */
export async function judge<T>(
  trx: Transaction<DB>,
  municipalityId: string,
  ctx: SharingContext,
  values: readonly T[],
  locate: (value: T) => { unitId: string; date: string },
  category: Exclude<DataCategory, 'notes'>,
): Promise<{ shown: Judged<T>[]; withheld: Judged<T>[] }> {
  const located = values.map((value) => ({ value, ...locate(value) }));
  if (!isUnitLimitedViewer(ctx.viewer)) {
    const bases: Basis[] = [{ kind: 'role' }];
    return {
      shown: located.map((l) => ({
        value: l.value,
        item: { unitId: l.unitId, unitKind: 'unknown', date: l.date },
        bases,
      })),
      withheld: [],
    };
  }
  const kinds = await unitKindsOf(
    trx,
    municipalityId,
    located.map((l) => l.unitId),
  );
  const shown: Judged<T>[] = [];
  const withheld: Judged<T>[] = [];
  for (const l of located) {
    const item = { unitId: l.unitId, unitKind: kinds.get(l.unitId) ?? 'unknown', date: l.date };
    const bases = basesFor(ctx, item, category);
    (bases.length > 0 ? shown : withheld).push({ value: l.value, item, bases });
  }
  return { shown, withheld };
}

export const WITHHELD_REASON: WithheldReason = 'no_consent_or_guideline';

export function withheldSummary(items: readonly SharedItem[]): {
  count: number;
  reason: WithheldReason;
  fromUnits: WithheldUnit[];
} | null {
  if (items.length === 0) return null;
  return { count: items.length, reason: WITHHELD_REASON, fromUnits: withheldByUnit(items) };
}

/**
 * 403 for data of another unit that the key may not see: the child is visible to it, so the
 * reason is stated (the timeline already counts what is withheld), never the content.
 */
export class NoSharingBasisError extends ProblemError {
  constructor(what: string, unitKind: string) {
    super(
      403,
      'no-sharing-basis',
      'Forbidden',
      `${what} was recorded by another unit (${unitKind}). Your units may see it only under a ` +
        'consent in force that covers it or a transition guideline of the municipality ' +
        `(reason: ${WITHHELD_REASON}).`,
    );
  }
}
