import type { Transaction } from 'kysely';
import { audit } from '../../audit/audit.js';
import { isUnitLimited, municipalityOf, type Principal } from '../../auth/principal.js';
import { type Database, municipalityScope } from '../../db/database.js';
import type { DB } from '../../db/schema.js';
import { localDate } from '../../domain/dates.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';
import {
  type Basis,
  CHILD_CONSENT_AGE,
  confirmationRefusal,
  consentStatus,
  distinctBases,
  mayGiveConsent,
  needsConfirmation,
  notesBases,
  type SharingContext,
  withheldByUnit,
} from '../../domain/sharing.js';
import {
  ConflictError,
  ForbiddenError,
  NotFoundError,
  ProblemError,
  ValidationFailedError,
} from '../../errors.js';
import type { FieldError } from '../../http/problem.js';
import { childTimeline } from '../assessments/repository.js';
import { listEnrolments, type Visibility } from '../children/repository.js';
import { enrolledVisibilityOf, requireChild, visibilityOf } from '../children/service.js';
import { stepsVisibleTo } from '../recommendations/repository.js';
import { audienceOf } from '../recommendations/service.js';
import { findUnit } from '../units/repository.js';
import {
  type ConsentRow,
  confirmConsent,
  findConsent,
  type GuidelineRow,
  insertConsent,
  listConsents,
  listGuidelines,
  revokeConsent,
  upsertGuideline,
} from './repository.js';
import {
  basisViews,
  type Consent,
  type CreateConsent,
  type Guideline,
  type Handover,
  type RevokeConsent,
} from './schemas.js';
import {
  consentFacts,
  type Judged,
  judge,
  loadSharing,
  seesOwnDutiesOnly,
  WITHHELD_REASON,
} from './sharing.js';

export function toConsent(row: ConsentRow, today: string): Consent {
  return {
    id: row.id,
    childId: row.child_id,
    purpose: row.purpose as Consent['purpose'],
    recipient: {
      unitId: row.recipient_unit_id,
      role: row.recipient_role as Consent['recipient']['role'],
    },
    categories: row.categories as Consent['categories'],
    givenBy: {
      name: row.given_by_name,
      relation: row.given_by_relation as Consent['givenBy']['relation'],
    },
    givenOn: row.given_on,
    validUntil: row.valid_until,
    status: consentStatus(consentFacts(row), today),
    confirmation: {
      required: row.confirmation_required,
      confirmedAt: row.confirmed_at?.toISOString() ?? null,
      confirmedBy: row.confirmed_by,
    },
    revocation: row.revoked_at
      ? {
          revokedAt: row.revoked_at.toISOString(),
          revokedBy: {
            name: row.revoked_by_name as string,
            relation: row.revoked_by_relation as Consent['givenBy']['relation'],
          },
          reason: row.revocation_reason as string,
          recordedBy: row.revocation_recorded_by as string,
        }
      : null,
    createdAt: row.created_at.toISOString(),
    createdBy: row.created_by,
  };
}

/**
 * Records a consent for a child the principal can see; audited in the same transaction. Only a
 * parent, a guardian or the child from 15 gives consent; one a unit-limited key records for its
 * own unit (or for a role) waits for confirmation before it is a basis for sharing.
 */
export async function createConsent(
  trx: Transaction<DB>,
  principal: Principal,
  childId: string,
  input: CreateConsent,
  now: Date,
): Promise<Consent> {
  const v = enrolledVisibilityOf(principal, now);
  const child = await requireChild(trx, v, childId);
  const errors: FieldError[] = [];
  if (input.givenOn > v.today) {
    errors.push({ path: 'body.givenOn', message: 'is in the future', code: 'future_date' });
  }
  if (!mayGiveConsent(input.givenBy.relation, child.birth_date, input.givenOn)) {
    errors.push({
      path: 'body.givenBy.relation',
      message:
        input.givenBy.relation === 'child'
          ? `the child gives consent itself only from age ${CHILD_CONSENT_AGE} (on givenOn)`
          : 'only a parent, a guardian or the child (from 15) gives consent',
      code: 'not_a_consent_giver',
    });
  }
  if (
    input.recipient.unitId !== undefined &&
    !(await findUnit(trx, v.municipalityId, input.recipient.unitId))
  ) {
    errors.push({
      path: 'body.recipient.unitId',
      message: 'is not a unit of your municipality',
      code: 'unknown_unit',
    });
  }
  if (errors.length > 0) throw new ValidationFailedError('The consent cannot be recorded.', errors);
  const row = await insertConsent(trx, {
    municipality_id: v.municipalityId,
    child_id: childId,
    purpose: input.purpose,
    recipient_unit_id: input.recipient.unitId ?? null,
    recipient_role: input.recipient.role ?? null,
    categories: input.categories,
    given_by_name: input.givenBy.name,
    given_by_relation: input.givenBy.relation,
    given_on: input.givenOn,
    valid_until: input.validUntil ?? null,
    created_by: principal.id,
    confirmation_required: needsConfirmation(principal, input.recipient.unitId ?? null),
  });
  await audit(trx, principal, {
    action: 'create',
    resource: 'consent',
    resourceId: row.id,
    childId,
  });
  return toConsent(row, v.today);
}

/**
 * For a unit-limited key whose units no longer have the child (it sees it only for its open
 * steps): the last day they had it. Consents given after it are not the key's to see. Null
 * when the key is not limited to units or the child is enrolled in one of them.
 */
async function ownUnitsLeftOn(
  trx: Transaction<DB>,
  principal: Principal,
  v: Visibility,
  childId: string,
): Promise<string | null> {
  if (!isUnitLimited(principal)) return null;
  const own = (await listEnrolments(trx, v.municipalityId, childId)).filter((e) =>
    principal.unitIds.includes(e.unit_id),
  );
  if (own.some((e) => e.end_date === null || e.end_date >= v.today)) return null;
  return (
    own
      .map((e) => e.end_date as string)
      .sort()
      .at(-1) ?? '0000-01-01'
  );
}

export async function listChildConsents(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
): Promise<{ items: Consent[] }> {
  const v = visibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    const left = await ownUnitsLeftOn(trx, principal, v, childId);
    const rows = (await listConsents(trx, v.municipalityId, childId)).filter(
      (r) => left === null || r.given_on <= left,
    );
    await audit(trx, principal, { action: 'read', resource: 'consent', childId });
    return { items: rows.map((r) => toConsent(r, v.today)) };
  });
}

export async function getConsent(
  database: Database,
  principal: Principal,
  childId: string,
  consentId: string,
  now: Date,
): Promise<Consent> {
  const v = visibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    const row = await findConsent(trx, v.municipalityId, childId, consentId);
    const left = row && (await ownUnitsLeftOn(trx, principal, v, childId));
    if (!row || (left && row.given_on > left)) throw new NotFoundError('consent', consentId);
    await audit(trx, principal, {
      action: 'read',
      resource: 'consent',
      resourceId: consentId,
      childId,
    });
    return toConsent(row, v.today);
  });
}

/** The consent, locked for a change (404 when the key cannot see it; 409 once revoked). */
async function lockUnrevokedConsent(
  trx: Transaction<DB>,
  v: Visibility,
  childId: string,
  consentId: string,
): Promise<ConsentRow> {
  await requireChild(trx, v, childId);
  const current = await findConsent(trx, v.municipalityId, childId, consentId, { lock: true });
  if (!current) throw new NotFoundError('consent', consentId);
  if (current.revoked_at) {
    throw new ConflictError(
      `Consent ${consentId} was already revoked on ${current.revoked_at.toISOString()}.`,
      'consent-revoked',
    );
  }
  return current;
}

/** Revokes a consent at once: from this transaction on it is no basis for sharing. */
export async function revokeChildConsent(
  database: Database,
  principal: Principal,
  childId: string,
  consentId: string,
  input: RevokeConsent,
  now: Date,
): Promise<Consent> {
  const v = enrolledVisibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await lockUnrevokedConsent(trx, v, childId, consentId);
    const row = await revokeConsent(trx, v.municipalityId, consentId, {
      at: now,
      byName: input.revokedBy.name,
      byRelation: input.revokedBy.relation,
      reason: input.reason,
      recordedBy: principal.id,
    });
    await audit(trx, principal, {
      action: 'withdraw',
      resource: 'consent',
      resourceId: consentId,
      childId,
    });
    return toConsent(row, v.today);
  });
}

/**
 * Confirms a consent that waits for confirmation: by a unit leader of its recipient unit or an
 * administrator, never by the principal that recorded it. From then on it is a basis.
 */
export async function confirmChildConsent(
  database: Database,
  principal: Principal,
  childId: string,
  consentId: string,
  now: Date,
): Promise<Consent> {
  // A change to the child's record: only a unit that has the child now (or a municipality key).
  const v = enrolledVisibilityOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    const current = await lockUnrevokedConsent(trx, v, childId, consentId);
    if (!current.confirmation_required || current.confirmed_at) {
      throw new ConflictError(
        current.confirmed_at
          ? `Consent ${consentId} was already confirmed on ${current.confirmed_at.toISOString()}.`
          : `Consent ${consentId} needs no confirmation: it was in force when recorded.`,
        'consent-not-pending',
      );
    }
    const refusal = confirmationRefusal(principal, {
      createdBy: current.created_by,
      recipientUnitId: current.recipient_unit_id,
    });
    if (refusal === 'own_consent') {
      throw new ProblemError(
        403,
        'own-consent',
        'Forbidden',
        'A consent is confirmed by someone other than whoever recorded it.',
      );
    }
    if (refusal) {
      throw new ForbiddenError(
        current.recipient_unit_id === null
          ? 'A consent addressed to a role in every unit is confirmed by an administrator.'
          : 'Only a leader of the recipient unit or an administrator confirms this consent.',
      );
    }
    const row = await confirmConsent(trx, v.municipalityId, consentId, {
      at: now,
      by: principal.id,
    });
    await audit(trx, principal, {
      action: 'update',
      resource: 'consent',
      resourceId: consentId,
      childId,
    });
    return toConsent(row, v.today);
  });
}

// Guidelines

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

export async function listTransitionGuidelines(
  database: Database,
  principal: Principal,
): Promise<{ items: Guideline[] }> {
  const municipalityId = municipalityOf(principal);
  const rows = await database.transaction(municipalityScope(municipalityId), (trx) =>
    listGuidelines(trx, municipalityId),
  );
  return { items: rows.map(toGuideline) };
}

export async function putTransitionGuideline(
  database: Database,
  principal: Principal,
  kinds: { fromUnitKind: string; toUnitKind: string },
  input: { enabled: boolean; categories: string[]; reference?: string | null | undefined },
  now: Date,
): Promise<Guideline> {
  const municipalityId = municipalityOf(principal);
  const row = await database.transaction(municipalityScope(municipalityId), (trx) =>
    upsertGuideline(
      trx,
      {
        municipality_id: municipalityId,
        from_unit_kind: kinds.fromUnitKind,
        to_unit_kind: kinds.toUnitKind,
        enabled: input.enabled,
        categories: [...new Set(input.categories)],
        reference: input.reference ?? null,
        updated_by: principal.id,
      },
      now,
    ),
  );
  return toGuideline(row);
}

// The handover summary

interface StepHandoverRow {
  id: string;
  unit_id: string;
  step_key: string;
  title: unknown;
  zone: string;
  responsible: string;
  involve: string[];
  mandatory: boolean;
  due_on: string;
  status_reason: string | null;
  assessed_on: string;
}

interface FlagHandoverRow {
  id: string;
  unit_id: string;
  kind: string;
  reason: string;
  assessment_id: string | null;
  raised_at: Date;
  acknowledged_at: Date | null;
  acknowledgement_note: string | null;
  assessed_on: string | null;
}

type Domains = Handover['domains'];

/** Per ruler domain, the level in the latest assessment rating it (worst item of the domain). */
function latestDomains(
  shown: readonly {
    id: string;
    unitId: string;
    source: 'own_unit' | 'other_unit';
    assessedOn: string;
    rulerKey: string;
    answers: Record<string, unknown>;
    ruler: RulerDefinition | undefined;
  }[],
): Domains {
  const out: Domains = [];
  const seen = new Set<string>();
  // Newest first: the first assessment that rates a domain decides it.
  for (const a of [...shown].reverse()) {
    if (!a.ruler) continue;
    const ruler = a.ruler;
    const byDomain = new Map<string, { levels: number[]; items: typeof ruler.items }>();
    for (const item of ruler.items) {
      const answer = a.answers[item.key];
      if (item.redFlag || typeof answer !== 'number') continue;
      const domain = item.domain ?? item.key;
      const entry = byDomain.get(domain) ?? { levels: [], items: [] };
      entry.levels.push(answer);
      entry.items.push(item);
      byDomain.set(domain, entry);
    }
    for (const [domain, entry] of byDomain) {
      const key = `${a.rulerKey}\u0000${domain}`;
      if (seen.has(key)) continue;
      seen.add(key);
      const level = ruler.higherIsBetter ? Math.min(...entry.levels) : Math.max(...entry.levels);
      const only = entry.items.length === 1 ? entry.items[0] : undefined;
      out.push({
        rulerKey: a.rulerKey,
        domain,
        label: only?.label ?? { da: domain, en: domain },
        zone: ruler.levels.find((l) => l.value === level)?.zone ?? null,
        level,
        assessmentId: a.id,
        unitId: a.unitId,
        source: a.source,
        assessedOn: a.assessedOn,
      });
    }
  }
  return out.sort((x, y) =>
    x.rulerKey === y.rulerKey
      ? x.domain.localeCompare(y.domain)
      : x.rulerKey.localeCompare(y.rulerKey),
  );
}

function describeBasis(b: Basis): string {
  switch (b.kind) {
    case 'role':
      return "your role, which sees every unit's data";
    case 'own_unit':
      return 'your own units';
    case 'consent':
      return `consent ${b.consentId} (${b.purpose}${b.validUntil ? `, until ${b.validUntil}` : ''})`;
    case 'guideline':
      return `the municipal guideline for ${b.fromUnitKind} → ${b.toUnitKind}`;
  }
}

function explain(
  bases: { assessments: Basis[]; recommendations: Basis[]; notes: Basis[] },
  withheld: { assessments: number; steps: number; flags: number },
): string {
  const list = (bs: Basis[]) => bs.map(describeBasis).join('; ');
  const parts = [
    bases.assessments.length > 0
      ? `Assessments shown on: ${list(bases.assessments)}.`
      : 'No assessments shown.',
    bases.recommendations.length > 0
      ? `Steps and flags shown on: ${list(bases.recommendations)}.`
      : 'No steps or flags shown.',
    bases.notes.length > 0
      ? `Free text of what other units recorded is included under ${list(bases.notes)}.`
      : 'No free text is included: no consent covering notes addresses you.',
  ];
  const total = withheld.assessments + withheld.steps + withheld.flags;
  if (total > 0) {
    parts.push(
      `Withheld from other units: ${withheld.assessments} assessment(s), ${withheld.steps} ` +
        `open step(s) and ${withheld.flags} flag(s), which no consent in force and no transition ` +
        'guideline covers.',
    );
  }
  return parts.join(' ');
}

const bases = <T>(judged: readonly Judged<T>[]) => distinctBases(judged.flatMap((j) => j.bases));

/**
 * What the receiving unit may know about a child from the units before it: latest zone and level
 * per domain, open steps and flags, each shown on a basis; free text only under a consent
 * covering notes. Audited as one read of the child's handover.
 */
export async function getHandover(
  database: Database,
  principal: Principal,
  childId: string,
  now: Date,
): Promise<Handover> {
  const v = visibilityOf(principal, now);
  const audience = audienceOf(principal, now);
  return database.transaction(municipalityScope(v.municipalityId), async (trx) => {
    await requireChild(trx, v, childId);
    const ctx: SharingContext = await loadSharing(trx, principal, childId, v.today);
    const m = v.municipalityId;
    const source = (unitId: string) =>
      isUnitLimited(principal) && principal.unitIds.includes(unitId)
        ? ('own_unit' as const)
        : ('other_unit' as const);
    const notesFor = (item: Judged<unknown>['item']) => notesBases(ctx, item);

    const rows = await childTimeline(trx, { municipalityId: m, unitIds: [] }, childId, false);
    const assessments = await judge(
      trx,
      m,
      ctx,
      rows,
      (r) => ({ unitId: r.unit_id, date: r.assessed_on }),
      'assessments',
    );
    const versionIds = [...new Set(assessments.shown.map((a) => a.value.ruler_version_id))];
    const versions =
      versionIds.length === 0
        ? []
        : await trx
            .selectFrom('ruler_versions')
            .select(['id', 'definition'])
            .where('id', 'in', versionIds)
            .execute();
    const rulers = new Map(versions.map((r) => [r.id, r.definition as RulerDefinition]));

    const steps = await judge(
      trx,
      m,
      ctx,
      (await trx
        .selectFrom('recommendation_steps')
        .innerJoin(
          'recommendations',
          'recommendations.id',
          'recommendation_steps.recommendation_id',
        )
        .innerJoin('assessments', 'assessments.id', 'recommendations.assessment_id')
        .select([
          'recommendation_steps.id',
          'recommendation_steps.unit_id',
          'recommendation_steps.step_key',
          'recommendation_steps.title',
          'recommendation_steps.zone',
          'recommendation_steps.responsible',
          'recommendation_steps.involve',
          'recommendation_steps.mandatory',
          'recommendation_steps.due_on',
          'recommendation_steps.status_reason',
          'assessments.assessed_on',
        ])
        // Every unit's steps of the child (the child is visible): judged below per unit.
        .where(stepsVisibleTo({ ...audience, unitIds: [] }))
        .where('recommendation_steps.child_id', '=', childId)
        .where('recommendation_steps.status', '=', 'open')
        .orderBy('recommendation_steps.due_on')
        .orderBy('recommendation_steps.id')
        .execute()) as StepHandoverRow[],
      (s) => ({ unitId: s.unit_id, date: s.assessed_on }),
      'recommendations',
    );

    const flags = await judge(
      trx,
      m,
      ctx,
      (await trx
        .selectFrom('flags')
        .leftJoin('assessments', 'assessments.id', 'flags.assessment_id')
        .select([
          'flags.id',
          'flags.unit_id',
          'flags.kind',
          'flags.reason',
          'flags.assessment_id',
          'flags.raised_at',
          'flags.acknowledged_at',
          'flags.acknowledgement_note',
          'assessments.assessed_on',
        ])
        .where('flags.municipality_id', '=', m)
        .where('flags.child_id', '=', childId)
        // Flags of corrected or withdrawn assessments were closed with them.
        .where((eb) =>
          eb.or([eb('flags.assessment_id', 'is', null), eb('assessments.status', '=', 'current')]),
        )
        .orderBy('flags.raised_at')
        .orderBy('flags.id')
        .execute()) as FlagHandoverRow[],
      (f) => ({ unitId: f.unit_id, date: f.assessed_on ?? localDate(f.raised_at) }),
      'recommendations',
    );

    const shownAssessments = assessments.shown.map(({ value, item }) => ({
      id: value.id,
      unitId: value.unit_id,
      source: source(value.unit_id),
      assessedOn: value.assessed_on,
      rulerKey: value.ruler_key,
      zone: value.zone as Handover['domains'][number]['zone'],
      level: value.level,
      answers: (value.answers ?? {}) as Record<string, unknown>,
      ruler: rulers.get(value.ruler_version_id),
      justification: value.justification,
      childPerspective: value.child_perspective,
      notes: notesFor(item),
    }));
    const last = shownAssessments.at(-1);
    const notes = distinctBases([
      ...shownAssessments.flatMap((a) => a.notes),
      ...steps.shown.flatMap((s) => notesFor(s.item)),
      ...flags.shown.flatMap((f) => notesFor(f.item)),
    ]);
    // A unit that sees the child only for its open duties learns nothing of other units.
    if (seesOwnDutiesOnly(ctx)) {
      for (const judged of [assessments, steps, flags]) judged.withheld.length = 0;
    }
    const withheldCounts = {
      assessments: assessments.withheld.length,
      steps: steps.withheld.length,
      flags: flags.withheld.length,
    };
    const basis = {
      assessments: bases(assessments.shown),
      recommendations: distinctBases([...bases(steps.shown), ...bases(flags.shown)]),
      notes,
    };
    const withheldItems = [...assessments.withheld, ...steps.withheld, ...flags.withheld].map(
      (w) => w.item,
    );

    const summary: Handover = {
      childId,
      generatedAt: now.toISOString(),
      receivingUnits: ctx.receiving.map((r) => ({
        unitId: r.unitId,
        unitKind: r.unitKind as Handover['receivingUnits'][number]['unitKind'],
        startDate: r.startDate,
      })),
      basis: {
        assessments: basisViews(basis.assessments),
        recommendations: basisViews(basis.recommendations),
        notes: basisViews(basis.notes),
        explanation: explain(basis, withheldCounts),
      },
      latest: last
        ? {
            assessmentId: last.id,
            unitId: last.unitId,
            source: last.source,
            assessedOn: last.assessedOn,
            rulerKey: last.rulerKey,
            zone: last.zone,
            level: last.level,
            ...(last.notes.length > 0
              ? { justification: last.justification, childPerspective: last.childPerspective }
              : {}),
          }
        : null,
      domains: latestDomains(shownAssessments),
      openSteps: steps.shown.map(({ value: s, item }) => ({
        id: s.id,
        unitId: s.unit_id,
        source: source(s.unit_id),
        stepKey: s.step_key,
        title: s.title as Handover['openSteps'][number]['title'],
        zone: s.zone as Handover['openSteps'][number]['zone'],
        responsible: s.responsible as Handover['openSteps'][number]['responsible'],
        involve: s.involve as Handover['openSteps'][number]['involve'],
        mandatory: s.mandatory,
        dueOn: s.due_on,
        overdue: s.due_on < v.today,
        ...(notesFor(item).length > 0 ? { statusReason: s.status_reason } : {}),
      })),
      flags: flags.shown.map(({ value: f, item }) => ({
        id: f.id,
        unitId: f.unit_id,
        source: source(f.unit_id),
        kind: f.kind as Handover['flags'][number]['kind'],
        reason: f.reason,
        assessmentId: f.assessment_id,
        raisedAt: f.raised_at.toISOString(),
        status: f.acknowledged_at ? ('acknowledged' as const) : ('raised' as const),
        acknowledgedAt: f.acknowledged_at?.toISOString() ?? null,
        ...(notesFor(item).length > 0 ? { acknowledgementNote: f.acknowledgement_note } : {}),
      })),
      withheld:
        withheldItems.length > 0
          ? {
              ...withheldCounts,
              reason: WITHHELD_REASON,
              fromUnits: withheldByUnit(withheldItems) as NonNullable<
                Handover['withheld']
              >['fromUnits'],
            }
          : null,
    };
    await audit(trx, principal, {
      action: 'read',
      resource: 'handover',
      resourceId: childId,
      childId,
    });
    return summary;
  });
}
