import { expect, it } from 'vitest';
import type { AssessmentWithRecommendation } from '../../src/features/assessments/schemas.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createScreeningTenant } from '../support/factories.js';

// Issue 13, point 6: a write builds its response from what it wrote, without reading the row
// back. The response must still be exactly what a read returns.

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];

describeEngines('an assessment as written equals the assessment as read', (t) => {
  it('for a first assessment, a zone change, and corrections (with a done step carried over)', async () => {
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
      ['2026-11-01', 3, false],
    ] as const) {
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: { childId: child.id, ...body(on, level, informed) },
      });
      expect(res.statusCode, res.body).toBe(201);
      written.push(res.json());
    }
    // Corrections: one keeping parentsInformed true (the done step stays done), one turning it.
    for (const [index, informed] of [
      [1, true],
      [2, true],
    ] as const) {
      const res = await t.call('POST', `/v1/assessments/${written[index]?.id}/corrections`, {
        token: s.admin.token,
        body: { reason: 'Typo in the date.', ...body(`2026-1${index - 1}-02`, 2, informed) },
      });
      expect(res.statusCode, res.body).toBe(201);
      written.push(res.json());
    }
    for (const w of [written[0], written[3], written[4]]) {
      const { recommendation, ...assessment } = w as AssessmentWithRecommendation;
      const read = await t.call('GET', `/v1/assessments/${assessment.id}`, {
        token: s.admin.token,
      });
      expect(read.statusCode, read.body).toBe(200);
      expect(read.json()).toEqual(assessment);
      expect(recommendation.assessmentId).toBe(assessment.id);
    }
  });
});
