/**
 * Sharing at transitions (overgange): when may a unit see what other units recorded about a
 * child? Pure rules; the callers load the facts.
 *
 * A principal limited to units sees, of a child it can see (enrolled now or soon in one of its
 * units), everything its own units recorded. What *other* units recorded it sees only on a
 * recorded basis:
 *
 * - a **consent** in force (given, not expired, not revoked) that addresses the principal (its
 *   recipient unit is one of the principal's units and/or its recipient role is the principal's
 *   role) and covers the data category. A `transition_handover` consent covers what was
 *   recorded *before* the child started in the receiving unit; an `interdisciplinary_sharing`
 *   consent covers what was recorded at any time.
 * - a municipal **transition guideline** switched on for the transition type (the kind of the
 *   unit that recorded it → the kind of the receiving unit) and the category, for what was
 *   recorded before the child started in the receiving unit.
 *
 * Free text (`notes`) moves only with a consent: guidelines never cover it.
 *
 * A receiving unit cannot grant itself access: only a parent, a guardian or the child from 15
 * gives consent (`mayGiveConsent`), and a consent recorded by a unit-limited key that addresses
 * one of that key's own units (or every unit with a role) waits for a unit leader of the
 * recipient unit or an administrator other than the recorder to confirm it
 * (`needsConfirmation`, `confirmationRefusal`). Until then it is no basis.
 * Principals not limited to units (administrators, social workers, whole-municipality
 * integrations) see every unit's data; the rules do not apply to them.
 */

import { ageInYears } from './dates.js';

export const dataCategories = ['assessments', 'recommendations', 'notes'] as const;
export type DataCategory = (typeof dataCategories)[number];
/** What a guideline can cover: never free text. */
export const guidelineCategories = ['assessments', 'recommendations'] as const;
export type GuidelineCategory = (typeof guidelineCategories)[number];
export const consentPurposes = ['transition_handover', 'interdisciplinary_sharing'] as const;
export type ConsentPurpose = (typeof consentPurposes)[number];
/** Roles a consent may name as recipient: the roles limited to units. */
export const recipientRoles = ['unit_leader', 'unit_staff'] as const;
export const consentRelations = ['parent', 'guardian', 'child', 'other'] as const;
export type ConsentRelation = (typeof consentRelations)[number];
/** From this age (in whole years on the day it is given) a child gives consent itself. */
export const CHILD_CONSENT_AGE = 15;

/**
 * Whether a person of this relation may give consent for the child on `givenOn`: a parent or
 * guardian (holders of parental authority), or the child itself from 15. Never `other`: a
 * professional or a relative without parental authority gives no consent.
 */
export function mayGiveConsent(relation: string, birthDate: string, givenOn: string): boolean {
  if (relation === 'parent' || relation === 'guardian') return true;
  if (relation === 'child') return ageInYears(birthDate, givenOn) >= CHILD_CONSENT_AGE;
  return false;
}

/** Why data was withheld (one reason today; an enum so that more can follow). */
export const withheldReasons = ['no_consent_or_guideline'] as const;
export type WithheldReason = (typeof withheldReasons)[number];

export interface Viewer {
  role: string;
  /** Empty: not limited to units. */
  unitIds: readonly string[];
}

/** The child's current or upcoming enrolment in one of the viewer's units. */
export interface ReceivingEnrolment {
  unitId: string;
  unitKind: string;
  startDate: string;
}

export interface ConsentFacts {
  id: string;
  purpose: ConsentPurpose;
  recipientUnitId: string | null;
  recipientRole: string | null;
  categories: readonly string[];
  /** Consents recorded before the giver rule may name `other`: those are no basis. */
  givenByRelation: string;
  givenOn: string;
  validUntil: string | null;
  revokedAt: Date | null;
  /** Recorded for the recorder's own unit and not yet confirmed by a leader or administrator. */
  awaitingConfirmation: boolean;
}

export interface GuidelineFacts {
  id: string;
  fromUnitKind: string;
  toUnitKind: string;
  enabled: boolean;
  categories: readonly string[];
}

export interface SharingContext {
  viewer: Viewer;
  /** Today in Copenhagen. */
  today: string;
  receiving: readonly ReceivingEnrolment[];
  consents: readonly ConsentFacts[];
  guidelines: readonly GuidelineFacts[];
}

/** Something recorded about the child: by which unit, about which date. */
export interface SharedItem {
  unitId: string;
  unitKind: string;
  /** The date the data is about (an assessment's date; a step's or flag's assessment date). */
  date: string;
}

export type Basis =
  | { kind: 'role' }
  | { kind: 'own_unit' }
  | { kind: 'consent'; consentId: string; purpose: ConsentPurpose; validUntil: string | null }
  | { kind: 'guideline'; guidelineId: string; fromUnitKind: string; toUnitKind: string };

export const consentStatuses = ['active', 'pending_confirmation', 'expired', 'revoked'] as const;
export type ConsentStatus = (typeof consentStatuses)[number];

export function consentStatus(c: ConsentFacts, today: string): ConsentStatus {
  if (c.revokedAt) return 'revoked';
  if (c.validUntil !== null && c.validUntil < today) return 'expired';
  if (c.awaitingConfirmation) return 'pending_confirmation';
  return 'active';
}

export const isUnitLimitedViewer = (viewer: Viewer) => viewer.unitIds.length > 0;

/**
 * Whether a consent recorded by `recorder` waits for confirmation: the recorder is limited to
 * units and the consent would open other units' data to one of them (its recipient unit is one
 * of the recorder's, or it names only a role, which every unit has).
 */
export function needsConfirmation(recorder: Viewer, recipientUnitId: string | null): boolean {
  return (
    isUnitLimitedViewer(recorder) &&
    (recipientUnitId === null || recorder.unitIds.includes(recipientUnitId))
  );
}

/**
 * Why `confirmer` may not confirm a consent awaiting confirmation, or null if it may: never the
 * principal that recorded it; an administrator always; a unit leader only for a consent
 * addressed to one of its units.
 */
export function confirmationRefusal(
  confirmer: { id: string; role: string; unitIds: readonly string[] },
  consent: { createdBy: string; recipientUnitId: string | null },
): 'own_consent' | 'not_recipient_leader' | null {
  if (confirmer.id === consent.createdBy) return 'own_consent';
  if (confirmer.role === 'municipality_admin') return null;
  if (
    confirmer.role === 'unit_leader' &&
    consent.recipientUnitId !== null &&
    confirmer.unitIds.includes(consent.recipientUnitId)
  ) {
    return null;
  }
  return 'not_recipient_leader';
}

/** A basis today: active (confirmed where needed), already given, and by someone who may give it. */
function consentInForce(c: ConsentFacts, today: string): boolean {
  return (
    consentStatus(c, today) === 'active' &&
    c.givenOn <= today &&
    (c.givenByRelation === 'parent' ||
      c.givenByRelation === 'guardian' ||
      c.givenByRelation === 'child')
  );
}

function addresses(c: ConsentFacts, viewer: Viewer): boolean {
  return (
    (c.recipientUnitId === null || viewer.unitIds.includes(c.recipientUnitId)) &&
    (c.recipientRole === null || c.recipientRole === viewer.role)
  );
}

/** Consents that make the item visible to the viewer for the category (own units aside). */
export function consentBases(
  ctx: SharingContext,
  item: SharedItem,
  category: DataCategory,
): Basis[] {
  if (!isUnitLimitedViewer(ctx.viewer)) return [];
  return ctx.consents
    .filter(
      (c) =>
        consentInForce(c, ctx.today) &&
        addresses(c, ctx.viewer) &&
        c.categories.includes(category) &&
        ctx.receiving.some(
          (r) =>
            (c.recipientUnitId === null || r.unitId === c.recipientUnitId) &&
            r.unitId !== item.unitId &&
            (c.purpose === 'interdisciplinary_sharing' || item.date < r.startDate),
        ),
    )
    .map((c) => ({
      kind: 'consent' as const,
      consentId: c.id,
      purpose: c.purpose,
      validUntil: c.validUntil,
    }));
}

/** Guidelines that make the item visible to the viewer for the category (never notes). */
export function guidelineBases(
  ctx: SharingContext,
  item: SharedItem,
  category: DataCategory,
): Basis[] {
  if (!isUnitLimitedViewer(ctx.viewer) || category === 'notes') return [];
  return ctx.guidelines
    .filter(
      (g) =>
        g.enabled &&
        g.categories.includes(category) &&
        g.fromUnitKind === item.unitKind &&
        ctx.receiving.some(
          (r) => r.unitKind === g.toUnitKind && r.unitId !== item.unitId && item.date < r.startDate,
        ),
    )
    .map((g) => ({
      kind: 'guideline' as const,
      guidelineId: g.id,
      fromUnitKind: g.fromUnitKind,
      toUnitKind: g.toUnitKind,
    }));
}

/**
 * Every basis on which the viewer may see the item's data of this category; empty: withheld.
 * For `notes`, only consents count (see `notesBases`).
 */
export function basesFor(
  ctx: SharingContext,
  item: SharedItem,
  category: Exclude<DataCategory, 'notes'>,
): Basis[] {
  if (!isUnitLimitedViewer(ctx.viewer)) return [{ kind: 'role' }];
  if (ctx.viewer.unitIds.includes(item.unitId)) return [{ kind: 'own_unit' }];
  return [...consentBases(ctx, item, category), ...guidelineBases(ctx, item, category)];
}

/** The consents under which the item's free text may be shown to the viewer. */
export function notesBases(ctx: SharingContext, item: SharedItem): Basis[] {
  return consentBases(ctx, item, 'notes');
}

const basisOrder: Record<Basis['kind'], number> = {
  role: 0,
  own_unit: 1,
  consent: 2,
  guideline: 3,
};

/** The distinct bases of a list (by kind and id): role, own units, consents, guidelines. */
export function distinctBases(bases: Iterable<Basis>): Basis[] {
  const seen = new Map<string, Basis>();
  for (const b of bases) {
    const key =
      b.kind === 'consent'
        ? `c:${b.consentId}`
        : b.kind === 'guideline'
          ? `g:${b.guidelineId}`
          : b.kind;
    if (!seen.has(key)) seen.set(key, b);
  }
  return [...seen.values()].sort((x, y) => basisOrder[x.kind] - basisOrder[y.kind]);
}

export interface WithheldUnit {
  unitId: string;
  unitKind: string;
  count: number;
}

/** Withheld items per unit that recorded them, in first-seen order. */
export function withheldByUnit(
  items: Iterable<{ unitId: string; unitKind: string }>,
): WithheldUnit[] {
  const units = new Map<string, WithheldUnit>();
  for (const item of items) {
    const unit = units.get(item.unitId);
    if (unit) unit.count += 1;
    else units.set(item.unitId, { unitId: item.unitId, unitKind: item.unitKind, count: 1 });
  }
  return [...units.values()];
}
