import { expect, it } from 'vitest';
import { describeEngines } from '../support/engines.js';
import { createChild, createScreeningTenant, createUnit } from '../support/factories.js';

describeEngines('round coverage totals', (t) => {
  it('lists covered units with nobody enrolled, and counts a child in two units once', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const second = await createUnit(t, admin.token, { name: 'ZZ Tom børnehave' });
    const empty = await createUnit(t, admin.token, { name: 'ZZZ Ingen børn' });
    // Moves from `unit` to `second` in the middle of the window.
    const mover = await createChild(t, admin.token, {
      unitId: unit.id,
      enrolledFrom: '2025-08-01',
      enrolledTo: '2026-10-15',
    });
    const enrol = await t.call('POST', `/v1/children/${mover.id}/enrolments`, {
      token: admin.token,
      body: { unitId: second.id, startDate: '2026-10-16' },
    });
    expect(enrol.statusCode, enrol.body).toBe(201);
    const round = (
      await t.call('POST', '/v1/rounds', {
        token: admin.token,
        body: {
          name: 'Efterår',
          windowStart: '2026-10-01',
          windowEnd: '2026-11-30',
          rulerVersionId: topi,
          unitKinds: ['kindergarten'],
        },
      })
    ).json();
    const assessed = await t.call('POST', '/v1/assessments', {
      token: admin.token,
      body: {
        childId: mover.id,
        unitId: second.id,
        roundId: round.id,
        assessedOn: '2026-11-02',
        raters: [
          { name: 'A', role: 'unit_staff' },
          { name: 'B', role: 'unit_staff' },
        ],
        rating: { overallLevel: 1 },
        parentsInformed: true,
      },
    });
    expect(assessed.statusCode, assessed.body).toBe(201);

    const coverage = (
      await t.call('GET', `/v1/rounds/${round.id}/coverage`, { token: admin.token })
    ).json();
    const byUnit = Object.fromEntries(
      coverage.units.map(
        (u: { unitId: string; enrolled: number; assessed: number; coverage: number | null }) => [
          u.unitId,
          [u.enrolled, u.assessed, u.coverage],
        ],
      ),
    );
    expect(byUnit).toEqual({
      [unit.id]: [1, 0, 0],
      [second.id]: [1, 1, 1],
      [empty.id]: [0, 0, null],
    });
    expect(coverage.total).toEqual({ enrolled: 1, assessed: 1, missing: 0, coverage: 1 });
  });
});
