import { type Judged, seesOwnDutiesOnly, WITHHELD_REASON } from '../../access/policy.js';
import { localDate } from '../../domain/dates.js';
import type { RulerDefinition } from '../../domain/rulers/definition.js';
import { type Basis, distinctBases, notesBases, withheldByUnit } from '../../domain/sharing.js';
import type { Service } from '../../request/runner.js';
import { childTimeline } from '../assessments/repository.js';
import { requireChild } from '../children/service.js';
import { basisViews } from '../consents/schemas.js';
import { flagsOfChild, openStepsOfChild, rulerDefinitions } from './repository.js';
import type { Handover } from './schemas.js';

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
export const getHandover: Service<string, Handover> = async (session, trx, childId) => {
  const { access, today } = session;
  const m = session.municipalityId;
  await requireChild(trx, access.children(), childId);
  const ctx = await access.sharing(trx, childId);
  const source = (unitId: string) =>
    access.isUnitLimited && access.unitIds.includes(unitId)
      ? ('own_unit' as const)
      : ('other_unit' as const);
  const notesFor = (item: Judged<unknown>['item']) => notesBases(ctx, item);

  const rows = await childTimeline(trx, { municipalityId: m, unitIds: [] }, childId, false);
  const assessments = await access.judge(
    trx,
    ctx,
    rows,
    (r) => ({ unitId: r.unit_id, date: r.assessed_on }),
    'assessments',
  );
  const rulers = await rulerDefinitions(
    trx,
    assessments.shown.map((a) => a.value.ruler_version_id),
  );
  // Every unit's steps of the child (the child is visible): judged below per unit.
  const steps = await access.judge(
    trx,
    ctx,
    await openStepsOfChild(trx, { ...access.steps(), unitIds: [] }, childId),
    (s) => ({ unitId: s.unit_id, date: s.assessed_on }),
    'recommendations',
  );
  const flags = await access.judge(
    trx,
    ctx,
    await flagsOfChild(trx, m, childId),
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
    generatedAt: session.now.toISOString(),
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
      overdue: s.due_on < today,
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
  session.audit({ resourceId: childId, childId });
  return summary;
};
