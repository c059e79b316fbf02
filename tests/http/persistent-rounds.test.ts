import { expect, it } from 'vitest';
import type { AssessmentWithRecommendation } from '../../src/features/assessments/schemas.js';
import type { Flag } from '../../src/features/flags/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createScreeningTenant, createUnit } from '../support/factories.js';

// Issue 12, point 11: `persistent` means the same non-green zone in consecutive rounds. A round
// that covered the child and closed without an assessment breaks the series.

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];

type Tenant = Awaited<ReturnType<typeof createScreeningTenant>>;

async function createRound(
  t: EngineContext,
  s: Tenant,
  name: string,
  windowStart: string,
  windowEnd: string,
  unitIds: string[] = [s.unit.id],
): Promise<string> {
  const res = await t.call('POST', '/v1/rounds', {
    token: s.admin.token,
    body: { name, windowStart, windowEnd, rulerVersionId: s.topi, unitIds },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id;
}

async function assessYellow(
  t: EngineContext,
  s: Tenant,
  childId: string,
  roundId: string,
  assessedOn: string,
): Promise<AssessmentWithRecommendation> {
  const res = await t.call('POST', '/v1/assessments', {
    token: s.admin.token,
    body: {
      childId,
      unitId: s.unit.id,
      roundId,
      assessedOn,
      raters,
      rating: { overallLevel: 2 },
      parentsInformed: true,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function flagsOf(t: EngineContext, s: Tenant, childId: string): Promise<string[]> {
  const res = await t.call('GET', `/v1/flags?status=all&childId=${childId}`, {
    token: s.admin.token,
  });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json().items as Flag[]).map((f) => f.kind).sort();
}

const stepKeys = (a: AssessmentWithRecommendation) => a.recommendation.steps.map((s) => s.stepKey);

describeEngines('persistent: consecutive rounds', (t) => {
  it('yellow, a round skipped, yellow again: not persistent, no concern report', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const spring = await createRound(t, s, 'Forår 2025', '2025-04-01', '2025-05-31');
    await createRound(t, s, 'Efterår 2025', '2025-10-01', '2025-11-30');
    const spring26 = await createRound(t, s, 'Forår 2026', '2026-04-01', '2026-05-31');

    await assessYellow(t, s, child.id, spring, '2025-04-20');
    // Not assessed in the autumn round, though enrolled in the unit it covered.
    const again = await assessYellow(t, s, child.id, spring26, '2026-04-20');

    expect(again.recommendation.flags.map((f) => f.kind)).toEqual([]);
    expect(stepKeys(again)).not.toContain('concern_report');
    expect(again.recommendation.steps.some((st) => st.source === 'escalation')).toBe(false);
    expect(again.recommendation.steps.some((st) => st.mandatory)).toBe(false);
    expect(await flagsOf(t, s, child.id)).toEqual([]);
  });

  it('yellow in two consecutive rounds is persistent and escalates to red’s steps', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const spring = await createRound(t, s, 'Forår 2025', '2025-04-01', '2025-05-31');
    const autumn = await createRound(t, s, 'Efterår 2025', '2025-10-01', '2025-11-30');

    await assessYellow(t, s, child.id, spring, '2025-04-20');
    const again = await assessYellow(t, s, child.id, autumn, '2025-10-20');

    expect(again.recommendation.flags.map((f) => f.kind)).toEqual(['persistent']);
    expect(again.recommendation.flags[0]?.reason).toBe(
      `The child has been yellow in 2 consecutive rounds (${spring}, ${autumn}).`,
    );
    expect(stepKeys(again)).toContain('concern_report');
  });

  it('a round that did not cover the child does not break the series', async () => {
    const s = await createScreeningTenant(t);
    const elsewhere = await createUnit(t, s.admin.token);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const spring = await createRound(t, s, 'Forår 2025', '2025-04-01', '2025-05-31');
    // Another unit's round in between: the child was never expected in it.
    await createRound(t, s, 'Efterår 2025 (andet hus)', '2025-10-01', '2025-11-30', [elsewhere.id]);
    const spring26 = await createRound(t, s, 'Forår 2026', '2026-04-01', '2026-05-31');

    await assessYellow(t, s, child.id, spring, '2025-04-20');
    const again = await assessYellow(t, s, child.id, spring26, '2026-04-20');
    expect(again.recommendation.flags.map((f) => f.kind)).toEqual(['persistent']);
  });

  it('a round the child was not yet enrolled for does not break the series', async () => {
    const s = await createScreeningTenant(t);
    // Enrolled only from 2025-12-01: the autumn 2025 round did not cover the child.
    const child = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2025-12-01',
    });
    await createRound(t, s, 'Efterår 2025', '2025-10-01', '2025-11-30');
    const spring = await createRound(t, s, 'Forår 2026', '2026-04-01', '2026-05-31');
    const autumn = await createRound(t, s, 'Efterår 2026', '2026-10-01', '2026-11-15');
    await assessYellow(t, s, child.id, spring, '2026-04-20');
    const again = await assessYellow(t, s, child.id, autumn, '2026-10-20');
    expect(again.recommendation.flags.map((f) => f.kind)).toEqual(['persistent']);
  });
});
