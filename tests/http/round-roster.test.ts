import { expect, it } from 'vitest';
import { describeEngines } from '../support/engines.js';
import {
  assessmentBody,
  createAssessment,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

// Today in the test clock is 2026-11-22 (Copenhagen).
const WINDOW = { windowStart: '2026-11-02', windowEnd: '2026-11-27' };

describeEngines('a unit round roster', (t) => {
  it('lists each covered child with status, zone, open flags and open/overdue steps', async () => {
    const s = await createScreeningTenant(t);
    const round = await createRound(t, s.admin.token, s.topi, { name: 'Efterår', ...WINDOW });
    const other = await createUnit(t, s.admin.token);
    const anna = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      givenName: 'Anna',
      familyName: 'Andersen',
      sex: 'female',
    });
    const bo = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      givenName: 'Bo',
      familyName: 'Berg',
    });
    const carl = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      givenName: 'Carl',
      familyName: 'Clausen',
    });
    // Elsewhere, and one who left before the window: not on the roster.
    await createChild(t, s.admin.token, { unitId: other.id, familyName: 'Dahl' });
    await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      familyName: 'Eriksen',
      enrolledTo: '2026-10-31',
    });

    // Anna green; Bo red by a red flag (a flag and open steps); Carl not assessed.
    const inRound = { unitId: s.unit.id, roundId: round.id, assessedOn: '2026-11-10' };
    const a1 = await createAssessment(t, s.admin.token, { childId: anna.id, ...inRound });
    const b1 = await createAssessment(t, s.admin.token, {
      childId: bo.id,
      ...inRound,
      redFlags: ['violence'],
    });
    // Anna's assessment is corrected to yellow: status corrected, version 2.
    const corrected = await t.call('POST', `/v1/assessments/${a1.id}/corrections`, {
      token: s.admin.token,
      body: {
        ...assessmentBody({ childId: anna.id, ...inRound }),
        childId: undefined,
        rating: { overallLevel: 2 },
        reason: 'Forkert niveau tastet.',
      },
    });
    expect(corrected.statusCode, corrected.body).toBe(201);
    const a2 = corrected.json();

    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const res = await t.call('GET', `/v1/rounds/${round.id}/units/${s.unit.id}/children`, {
      token: staff.token,
    });
    expect(res.statusCode, res.body).toBe(200);
    const roster = res.json();
    expect(roster).toMatchObject({
      roundId: round.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      enrolled: 3,
      assessed: 2,
      missing: 1,
      coverage: 0.6667,
    });
    expect(roster.children.map((c: { familyName: string }) => c.familyName)).toEqual([
      'Andersen',
      'Berg',
      'Clausen',
    ]);
    const [a, b, c] = roster.children;
    expect(a).toMatchObject({
      childId: anna.id,
      givenName: 'Anna',
      sex: 'female',
      status: 'corrected',
      assessment: { id: a2.id, lineageId: a1.id, version: 2, zone: 'yellow' },
      openFlags: 0,
    });
    expect(b).toMatchObject({
      childId: bo.id,
      status: 'assessed',
      assessment: { id: b1.id, version: 1, zone: 'red', assessedOn: '2026-11-10' },
    });
    expect(b.openFlags).toBeGreaterThanOrEqual(1);
    expect(b.openSteps).toBe(b1.recommendation.steps.length);
    expect(b.overdueSteps).toBeLessThanOrEqual(b.openSteps);
    expect(c).toMatchObject({
      childId: carl.id,
      status: 'missing',
      assessment: null,
      openFlags: 0,
      openSteps: 0,
      overdueSteps: 0,
    });

    // Acknowledging Bo's flags takes them off the roster's count.
    const flags = await t.call('GET', `/v1/flags?childId=${bo.id}`, { token: staff.token });
    for (const flag of flags.json().items) {
      const ack = await t.call('POST', `/v1/flags/${flag.id}/acknowledge`, {
        token: staff.token,
        body: { note: 'Talt med leder.' },
      });
      expect(ack.statusCode, ack.body).toBe(200);
    }
    const again = await t.call('GET', `/v1/rounds/${round.id}/units/${s.unit.id}/children`, {
      token: staff.token,
    });
    expect(again.json().children[1].openFlags).toBe(0);
  });

  it('is scoped to the key: other units 403, other municipalities and unknown ids 404', async () => {
    const s = await createScreeningTenant(t);
    const b = await createScreeningTenant(t);
    const round = await createRound(t, s.admin.token, s.topi, { name: 'R', ...WINDOW });
    const other = await createUnit(t, s.admin.token);
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const path = (roundId: string, unitId: string) =>
      `/v1/rounds/${roundId}/units/${unitId}/children`;
    expectProblem(await t.call('GET', path(round.id, other.id), { token: staff.token }), 403);
    expectProblem(await t.call('GET', path(round.id, s.unit.id), { token: b.admin.token }), 404);
    expectProblem(
      await t.call('GET', path(crypto.randomUUID(), s.unit.id), { token: staff.token }),
      404,
    );
    const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
    expectProblem(await t.call('GET', path(round.id, s.unit.id), { token: analyst.token }), 403);
    const empty = await t.call('GET', path(round.id, s.unit.id), { token: staff.token });
    expect(empty.json()).toMatchObject({ enrolled: 0, coverage: null, children: [] });
  });
});
