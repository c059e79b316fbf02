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
 * Principals not limited to units (administrators, social workers, whole-municipality
 * integrations) see every unit's data; the rules do not apply to them.
 */

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
  givenOn: string;
  validUntil: string | null;
  revokedAt: Date | null;
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

export type ConsentStatus = 'active' | 'expired' | 'revoked';

export function consentStatus(c: ConsentFacts, today: string): ConsentStatus {
  if (c.revokedAt) return 'revoked';
  if (c.validUntil !== null && c.validUntil < today) return 'expired';
  return 'active';
}

export const isUnitLimitedViewer = (viewer: Viewer) => viewer.unitIds.length > 0;

function consentInForce(c: ConsentFacts, today: string): boolean {
  return consentStatus(c, today) === 'active' && c.givenOn <= today;
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
