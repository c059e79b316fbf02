import { expect, it } from 'vitest';
import type { StepTask } from '../../src/features/recommendations/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];

async function setup(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const child = await createChild(t, s.admin.token, {
    unitId: s.unit.id,
    enrolledFrom: '2024-08-01',
  });
  const assess = (body: Record<string, unknown>) =>
    t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId: child.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-20',
        raters,
        parentsInformed: true,
        ...body,
      },
    });
  return { ...s, child, assess };
}

const stepKeys = (steps: StepTask[], status?: string) =>
  steps.filter((st) => !status || st.status === status).map((st) => st.stepKey);

describeEngines('follow-up after corrections, withdrawals and moves', (t) => {
  it('a correction keeps follow-up already done (a concern report made stays made)', async () => {
    const s = await setup(t);
    const red = (await s.assess({ rating: { overallLevel: 3 }, redFlags: ['violence'] })).json();
    const report = await t.call('POST', `/v1/children/${s.child.id}/concern-reports`, {
      token: s.admin.token,
      body: {
        reportedOn: '2026-11-20',
        reportedBy: { name: 'Bo', role: 'unit_leader' },
        reference: 'BFU-1',
      },
    });
    expect(report.json().completedStepIds).toHaveLength(1);
    const corrected = await t.call('POST', `/v1/assessments/${red.id}/corrections`, {
      token: s.admin.token,
      body: {
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-20',
        raters,
        parentsInformed: true,
        rating: { overallLevel: 3 },
        redFlags: ['violence'],
        justification: 'Stavefejl rettet.',
        reason: 'Stavefejl.',
      },
    });
    expect(corrected.statusCode, corrected.body).toBe(201);
    const steps = corrected.json().recommendation.steps as StepTask[];
    const immediate = steps.find((st) => st.stepKey === 'concern_report_immediate');
    expect(immediate?.status).toBe('done');
    expect(immediate?.statusReason).toMatch(/Carried over.*BFU-1/);
    expect(stepKeys(steps, 'open')).not.toContain('concern_report_immediate');
  });

  it("withdrawal closes the assessment's raised flags; a withdrawn assessment's steps cannot be reopened", async () => {
    const s = await setup(t);
    const red = (await s.assess({ rating: { overallLevel: 3 }, redFlags: ['violence'] })).json();
    const step = (red.recommendation.steps as StepTask[]).find(
      (st) => st.stepKey === 'involve_unit_leader',
    );
    const done = await t.call('PATCH', `/v1/steps/${step?.id}`, {
      token: s.admin.token,
      body: { status: 'done' },
    });
    expect(done.statusCode, done.body).toBe(200);
    await t.call('POST', `/v1/assessments/${red.id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Forkert barn.' },
    });
    const flags = (
      await t.call('GET', `/v1/flags?childId=${s.child.id}&status=all`, { token: s.admin.token })
    ).json().items;
    expect(flags.length).toBeGreaterThan(0);
    for (const flag of flags) {
      expect(flag.status).toBe('acknowledged');
      expect(flag.acknowledgementNote).toMatch(/withdrawn/);
    }
    const reopen = await t.call('PATCH', `/v1/steps/${step?.id}`, {
      token: s.admin.token,
      body: { status: 'open', reason: 'Fortryd.' },
    });
    expectProblem(reopen, 409);
  });

  it('follow-up stays with the unit that recorded it: a new unit sees it only on a basis', async () => {
    const s = await setup(t);
    const red = (await s.assess({ rating: { overallLevel: 3 } })).json();
    const unitB = await createUnit(t, s.admin.token, { kind: 'kindergarten' });
    const enrolment = (
      await t.call('GET', `/v1/children/${s.child.id}/enrolments`, { token: s.admin.token })
    ).json().items[0];
    await t.call('PATCH', `/v1/children/${s.child.id}/enrolments/${enrolment.id}`, {
      token: s.admin.token,
      body: { endDate: '2026-11-21' },
    });
    const moved = await t.call('POST', `/v1/children/${s.child.id}/enrolments`, {
      token: s.admin.token,
      body: { unitId: unitB.id, startDate: '2026-11-22' },
    });
    expect(moved.statusCode, moved.body).toBe(201);
    const leaderA = await createKey(t, s.municipality.id, 'unit_leader', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const leaderB = await createKey(t, s.municipality.id, 'unit_leader', {
      token: s.admin.token,
      unitIds: [unitB.id],
    });
    const worklist = async (token: string) =>
      (await t.call('GET', '/v1/worklist?limit=200', { token }))
        .json()
        .items.map((i: StepTask) => i.stepKey);
    const openKeys = stepKeys(red.recommendation.steps as StepTask[], 'open');
    expect(openKeys).toEqual(expect.arrayContaining(['concern_report', 'involve_unit_leader']));
    // Duties outlive the enrolment: the old unit keeps its open steps until they are closed
    // (tests/http/visibility.test.ts).
    expect((await worklist(leaderA.token)).sort()).toEqual([...openKeys].sort());
    // The receiving unit has no consent or guideline: the old unit's steps are not its to see
    // (the handover summary shows them once there is a basis; tests/http/consents.test.ts).
    expect(await worklist(leaderB.token)).toEqual([]);
    expect((await worklist(s.admin.token)).sort()).toEqual([...openKeys].sort());
    const report = await t.call('POST', `/v1/children/${s.child.id}/concern-reports`, {
      token: s.admin.token,
      body: { reportedOn: '2026-11-22', reportedBy: { name: 'Cecilie', role: 'unit_leader' } },
    });
    expect(report.statusCode, report.body).toBe(201);
    expect(report.json().completedStepIds).toHaveLength(1);
  });

  it("unit-limited keys read only their units' events from the feed", async () => {
    const s = await setup(t);
    expect((await s.assess({ rating: { overallLevel: 3 } })).statusCode).toBe(201);
    const unitB = await createUnit(t, s.admin.token);
    const childB = await createChild(t, s.admin.token, {
      unitId: unitB.id,
      enrolledFrom: '2024-08-01',
    });
    expect(
      (await s.assess({ childId: childB.id, unitId: unitB.id, rating: { overallLevel: 3 } }))
        .statusCode,
    ).toBe(201);
    const limited = await createKey(t, s.municipality.id, 'integration', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const whole = await createKey(t, s.municipality.id, 'integration', { token: s.admin.token });
    const feed = async (token: string) => {
      const res = await t.call('GET', '/v1/events?limit=500', { token });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items as { id: number; unitId: string | null; childId: string | null }[];
    };
    const all = await feed(whole.token);
    const own = await feed(limited.token);
    const ofUnitA = all.filter((e) => e.unitId === s.unit.id);
    expect(ofUnitA.length).toBeGreaterThan(0);
    expect(all.filter((e) => e.unitId === unitB.id).length).toBeGreaterThan(0);
    expect(own).toEqual(ofUnitA);
    expect(own.some((e) => e.childId === childB.id)).toBe(false);
    const crafted = Buffer.from(JSON.stringify(['x', crypto.randomUUID()])).toString('base64url');
    expectProblem(
      await t.call('GET', `/v1/flags?cursor=${crafted}`, { token: s.admin.token }),
      400,
    );
  });

  it('a child assessed in another covered unit of the round is not flagged as not assessed', async () => {
    const s = await setup(t);
    const unitB = await createUnit(t, s.admin.token, { kind: 'kindergarten' });
    const round = (
      await t.call('POST', '/v1/rounds', {
        token: s.admin.token,
        body: {
          name: 'Forår',
          windowStart: '2026-04-01',
          windowEnd: '2026-05-31',
          rulerVersionId: s.topi,
          unitKinds: ['kindergarten'],
        },
      })
    ).json();
    const enrolment = (
      await t.call('GET', `/v1/children/${s.child.id}/enrolments`, { token: s.admin.token })
    ).json().items[0];
    await t.call('PATCH', `/v1/children/${s.child.id}/enrolments/${enrolment.id}`, {
      token: s.admin.token,
      body: { endDate: '2026-04-30' },
    });
    await t.call('POST', `/v1/children/${s.child.id}/enrolments`, {
      token: s.admin.token,
      body: { unitId: unitB.id, startDate: '2026-05-01' },
    });
    const assessed = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId: s.child.id,
        unitId: unitB.id,
        roundId: round.id,
        assessedOn: '2026-05-15',
        raters,
        rating: { overallLevel: 1 },
        parentsInformed: true,
      },
    });
    expect(assessed.statusCode, assessed.body).toBe(201);
    const other = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2025-01-01',
    });
    const res = await t.call('POST', `/v1/rounds/${round.id}/not-assessed-flags`, {
      token: s.admin.token,
    });
    expect(res.json()).toEqual({ raised: 1 });
    const flagged = (
      await t.call('GET', '/v1/flags?kind=not_assessed&limit=200', { token: s.admin.token })
    )
      .json()
      .items.map((f: { childId: string }) => f.childId);
    expect(flagged).toContain(other.id);
    expect(flagged).not.toContain(s.child.id);
  });
});
