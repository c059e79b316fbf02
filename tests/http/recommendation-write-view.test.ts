import { expect, it } from 'vitest';
import type { AssessmentWithRecommendation } from '../../src/features/assessments/schemas.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createScreeningTenant } from '../support/factories.js';

// Issue 13: the recommendation is built from what was just written (RETURNING, the inserted
// values), never read back. It must still be exactly what a read returns.

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];

describeEngines('a recommendation as written equals the recommendation as read', (t) => {
  it('with steps, flags, parents informed, and a correction carrying a done step over', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const body = (assessedOn: string, level: number, parentsInformed: boolean) => ({
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      assessedOn,
      raters,
      rating: { overallLevel: level },
      parentsInformed,
      justification: 'Observed over two weeks.',
    });
    const written: AssessmentWithRecommendation[] = [];
    for (const [on, level, informed] of [
      ['2026-09-01', 1, false],
      ['2026-10-01', 2, true],
      ['2026-11-01', 3, true],
    ] as const) {
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: { childId: child.id, ...body(on, level, informed) },
      });
      expect(res.statusCode, res.body).toBe(201);
      written.push(res.json());
    }
    const correction = await t.call('POST', `/v1/assessments/${written[1]?.id}/corrections`, {
      token: s.admin.token,
      body: { reason: 'Typo in the date.', ...body('2026-10-02', 2, false) },
    });
    expect(correction.statusCode, correction.body).toBe(201);
    written.push(correction.json());

    // Not the corrected one: the correction superseded its steps since.
    const recommendations = [written[0], written[2], written[3]].map((w) => w?.recommendation);
    // The cases this is about: flags raised, a step done at once, a done step carried over.
    expect(recommendations.some((r) => (r?.flags.length ?? 0) > 0)).toBe(true);
    expect(recommendations[1]?.steps.some((step) => step.status === 'done')).toBe(true);
    expect(recommendations[2]?.steps.some((step) => step.status === 'done')).toBe(true);
    for (const recommendation of recommendations) {
      const read = await t.call('GET', `/v1/recommendations/${recommendation?.id}`, {
        token: s.admin.token,
      });
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json()).toEqual(recommendation);
    }
  });
});
