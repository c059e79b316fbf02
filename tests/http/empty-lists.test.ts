import { expect, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import type { StepTask } from '../../src/features/recommendations/schemas.js';
import { describeEngines } from '../support/engines.js';
import {
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
} from '../support/factories.js';

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];

describeEngines('empty arrays where the schema allows them', (t) => {
  it('a concern report with "stepIds": [] is recorded and completes no step', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const child = await createChild(t, admin.token, { unitId: unit.id });
    const red = await t.call('POST', '/v1/assessments', {
      token: admin.token,
      body: {
        childId: child.id,
        unitId: unit.id,
        rulerVersionId: topi,
        assessedOn: '2026-11-20',
        raters,
        parentsInformed: true,
        rating: { overallLevel: 3 },
      },
    });
    expect(red.statusCode, red.body).toBe(201);
    const res = await t.call('POST', `/v1/children/${child.id}/concern-reports`, {
      token: admin.token,
      body: {
        reportedOn: '2026-11-20',
        reportedBy: { name: 'Bo', role: 'unit_leader' },
        stepIds: [],
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json().completedStepIds).toEqual([]);
    const steps = red.json().recommendation.steps as StepTask[];
    const concern = steps.find((s) => s.stepKey === 'concern_report');
    expect(concern?.status).toBe('open');
    const after = await t.call('GET', `/v1/recommendations/${red.json().recommendation.id}`, {
      token: admin.token,
    });
    expect(
      (after.json().steps as StepTask[]).find((s) => s.stepKey === 'concern_report')?.status,
    ).toBe('open');
    const reports = await t.call('GET', `/v1/children/${child.id}/concern-reports`, {
      token: admin.token,
    });
    expect(reports.json().items).toHaveLength(1);
  });

  it('every query builder IN list may be empty: IN () matches nothing, NOT IN () everything', async () => {
    const { municipality, admin } = await createTenant(t);
    const unit = await t.call('POST', '/v1/units', {
      token: admin.token,
      body: { name: 'Only', kind: 'nursery' },
    });
    const none: string[] = [];
    const rows = await t.database.transaction(municipalityScope(municipality.id), async (trx) => ({
      in: await trx.selectFrom('units').select('id').where('id', 'in', none).execute(),
      notIn: await trx.selectFrom('units').select('id').where('id', 'not in', none).execute(),
      // Inside a subquery, and as a selected value.
      nested: await trx
        .selectFrom('units')
        .select((eb) => ['id', eb('kind', 'in', none).as('listed')])
        .where((eb) =>
          eb.not(eb.exists(eb.selectFrom('units as u').select('u.id').where('u.id', 'in', none))),
        )
        .execute(),
    }));
    expect(rows).toEqual({
      in: [],
      notIn: [{ id: unit.json().id }],
      nested: [{ id: unit.json().id, listed: false }],
    });
  });

  it('other empty lists in bodies and queries are accepted', async () => {
    const { municipality, admin, unit, topi } = await createScreeningTenant(t);
    const child = await createChild(t, admin.token, { unitId: unit.id });
    const round = await t.call('POST', '/v1/rounds', {
      token: admin.token,
      body: {
        name: 'Alle',
        windowStart: '2026-11-01',
        windowEnd: '2026-11-30',
        rulerVersionId: topi,
        unitIds: [],
        unitKinds: [],
      },
    });
    expect(round.statusCode, round.body).toBe(201);
    const coverage = await t.call('GET', `/v1/rounds/${round.json().id}/coverage`, {
      token: admin.token,
    });
    expect(coverage.statusCode, coverage.body).toBe(200);
    const assessed = await t.call('POST', '/v1/assessments', {
      token: admin.token,
      body: {
        childId: child.id,
        unitId: unit.id,
        roundId: round.json().id,
        assessedOn: '2026-11-20',
        raters,
        parentsInformed: true,
        rating: { overallLevel: 1, answers: {} },
        redFlags: [],
      },
    });
    expect(assessed.statusCode, assessed.body).toBe(201);
    const analyst = await createKey(t, municipality.id, 'analyst', { unitIds: [] });
    expect(analyst.unitIds).toEqual([]);
    const empty = 'roundIds=&unitIds=&districts=&unitKinds=&ageBands=&sex=';
    for (const url of [
      `/v1/analytics/coverage?${empty}&groupBy=`,
      `/v1/analytics/zone-distribution?${empty}`,
      `/v1/analytics/follow-through?${empty}`,
      `/v1/analytics/concern-reports?unitIds=&districts=`,
      `/v1/exports/assessments.ndjson?${empty}`,
    ]) {
      const res = await t.call('GET', url, { token: analyst.token });
      expect(res.statusCode, `${url}: ${res.body}`).toBe(200);
    }
  });
});
