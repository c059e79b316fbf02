import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];

/**
 * Two kindergartens in one district, one round (2026-10-01 – 11-30):
 * - A (the leader's): 8 children, 6 assessed on 2026-11-02 (3 green, 1 yellow, 2 red), 2 not;
 *   both red children's "involve the unit leader" step done that day (on time), and one
 *   concern report on 2026-11-04;
 * - B (another leader's): 6 children, all assessed red, every "involve the unit leader" step
 *   done late, no report.
 * Today is 2026-11-22.
 */
async function fixture(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const unitA = await createUnit(t, s.admin.token, { name: 'Solsikken', district: 'Øst' });
  const unitB = await createUnit(t, s.admin.token, { name: 'Mælkebøtten', district: 'Øst' });
  const round = (
    await t.call('POST', '/v1/rounds', {
      token: s.admin.token,
      body: {
        name: 'Efterår 2026',
        windowStart: '2026-10-01',
        windowEnd: '2026-11-30',
        rulerVersionId: s.topi,
      },
    })
  ).json();
  const populate = async (unitId: string, levels: (number | null)[]) => {
    const red: string[] = [];
    for (const level of levels) {
      const child = await createChild(t, s.admin.token, {
        unitId,
        enrolledFrom: '2025-08-01',
        birthDate: '2021-03-01',
      });
      if (level === null) continue;
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: {
          childId: child.id,
          unitId,
          roundId: round.id,
          assessedOn: '2026-11-02',
          raters,
          rating: { overallLevel: level },
          parentsInformed: true,
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      if (level === 3) red.push(child.id);
      const step = res
        .json()
        .recommendation.steps.find(
          (st: { stepKey: string }) => st.stepKey === 'involve_unit_leader',
        );
      if (step) {
        const done = await t.call('PATCH', `/v1/steps/${step.id}`, {
          token: s.admin.token,
          body: { status: 'done' },
        });
        expect(done.statusCode, done.body).toBe(200);
      }
    }
    return red;
  };
  t.clock.set('2026-11-02T10:00:00.000Z');
  const redA = await populate(unitA.id, [1, 1, 1, 2, 3, 3, null, null]);
  t.clock.set('2026-11-04T10:00:00.000Z');
  const report = await t.call('POST', `/v1/children/${redA[0]}/concern-reports`, {
    token: s.admin.token,
    body: { reportedOn: '2026-11-04', reportedBy: { name: 'Leder', role: 'unit_leader' } },
  });
  expect(report.statusCode, report.body).toBe(201);
  t.clock.set('2026-11-20T10:00:00.000Z');
  await populate(unitB.id, [3, 3, 3, 3, 3, 3]);
  t.clock.set('2026-11-22T09:00:00.000Z');
  const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
  const leader = await createKey(t, s.municipality.id, 'unit_leader', {
    token: s.admin.token,
    unitIds: [unitA.id],
  });
  return { ...s, unitA, unitB, round, analyst, leader };
}

const cell = (value: number | null) => ({ value, suppressed: value === null });

/** Every published count of a response: none may be 1–4. */
function publishedCounts(body: unknown): number[] {
  if (Array.isArray(body)) return body.flatMap(publishedCounts);
  if (body === null || typeof body !== 'object') return [];
  const o = body as Record<string, unknown>;
  if ('suppressed' in o && 'value' in o) return o.value === null ? [] : [o.value as number];
  return Object.values(o).flatMap(publishedCounts);
}
const suppressedCells = (body: unknown): number =>
  JSON.stringify(body).split('"suppressed":true').length - 1;

describeEngines('analytics for unit leaders', (t) => {
  it('a unit leader reads coverage and follow-through of its own units only', async () => {
    const f = await fixture(t);
    const get = (path: string, token: string) => t.call('GET', path, { token });

    const coverage = await get(`/v1/analytics/coverage`, f.leader.token);
    expect(coverage.statusCode, coverage.body).toBe(200);
    const round = { id: f.round.id, name: 'Efterår 2026', windowStart: '2026-10-01' };
    // 8 enrolled, 6 assessed, 2 missing: coverage is not a finding about a child, so it is
    // published as it is.
    const figures = {
      enrolled: cell(8),
      assessed: cell(6),
      missing: cell(2),
      coverage: 0.75,
    };
    expect(coverage.json()).toEqual({
      groupBy: ['round', 'unit'],
      rows: [
        {
          group: { round, unit: { id: f.unitA.id, name: 'Solsikken' } },
          roundTotal: false,
          ...figures,
        },
        // The round's total is the leader's units' total, not the municipality's (14).
        { group: { round }, roundTotal: true, ...figures },
      ],
    });
    // The same figures an analyst gets for the unit.
    const analystCoverage = await get(
      `/v1/analytics/coverage?unitIds=${f.unitA.id}`,
      f.analyst.token,
    );
    expect(coverage.json()).toEqual(analystCoverage.json());
    // Grouped by district (shared with unit B): still only unit A's children.
    const byDistrict = (
      await get(`/v1/analytics/coverage?groupBy=district`, f.leader.token)
    ).json();
    const districtRows = (enrolled: number) => {
      // Unit A's 2 missing; unit B's 6 all assessed.
      const counts = { enrolled: cell(enrolled), assessed: cell(enrolled - 2), missing: cell(2) };
      const coverage = Math.round(((enrolled - 2) / enrolled) * 10_000) / 10_000;
      return [
        { group: { round, district: 'Øst' }, roundTotal: false, ...counts, coverage },
        { group: { round }, roundTotal: true, ...counts, coverage },
      ];
    };
    expect(byDistrict).toEqual({ groupBy: ['round', 'district'], rows: districtRows(8) });
    const analystDistrict = (
      await get(`/v1/analytics/coverage?groupBy=district`, f.analyst.token)
    ).json();
    expect(analystDistrict).toEqual({ groupBy: ['round', 'district'], rows: districtRows(14) });

    const follow = await get(`/v1/analytics/follow-through`, f.leader.token);
    expect(follow.statusCode, follow.body).toBe(200);
    const body = follow.json();
    expect(body.rows.map((r: { group: { unit: { id: string } } }) => r.group.unit.id)).toEqual([
      f.unitA.id,
    ]);
    expect(body).toEqual(
      (await get(`/v1/analytics/follow-through?unitIds=${f.unitA.id}`, f.analyst.token)).json(),
    );
    // Asking for its own unit by id is the same.
    expect(
      (await get(`/v1/analytics/follow-through?unitIds=${f.unitA.id}`, f.leader.token)).json(),
    ).toEqual(body);
    // Every figure: unit A's two red children's steps (10 due, 10 open, 7 overdue); done by the
    // deadline (2) and the one red child reported are hidden.
    const hiddenDays = { children: cell(null), q1: null, median: null, q3: null };
    // Parent information: every first assessment and zone change here was recorded with the
    // parents informed.
    const followFigures = (stepsDue: number, open: number, overdue: number, informed: number) => ({
      stepsDue: cell(stepsDue),
      doneByDeadline: cell(null),
      shareDoneByDeadline: null,
      open: cell(open),
      overdue: cell(overdue),
      parentsInformed: {
        due: cell(informed),
        informedByDeadline: cell(informed),
        shareInformedByDeadline: 1,
        open: cell(0),
        overdue: cell(0),
        notInformedRisk: cell(0),
      },
      daysFromRedToConcernReport: hiddenDays,
    });
    expect(body).toEqual({
      groupBy: ['unit'],
      rows: [
        { group: { unit: { id: f.unitA.id, name: 'Solsikken' } }, ...followFigures(10, 10, 7, 6) },
      ],
      overall: followFigures(10, 10, 7, 6),
    });
    // The municipality's figures include unit B's six red children; the leader's do not.
    const all = (await get(`/v1/analytics/follow-through?groupBy=`, f.analyst.token)).json();
    expect(all).toEqual({
      groupBy: [],
      rows: [{ group: {}, ...followFigures(34, 28, 25, 12) }],
      overall: followFigures(34, 28, 25, 12),
    });
    expect(body.overall.doneByDeadline).toEqual(cell(null));
    expect(body.overall.daysFromRedToConcernReport).toEqual({
      children: cell(null),
      q1: null,
      median: null,
      q3: null,
    });
  });

  it('suppresses small cells for a leader as for an analyst', async () => {
    const f = await fixture(t);
    // (Coverage is not suppressed at all: the same figures, below.)
    for (const groupBy of ['unit', 'district', 'sex', 'ageBand']) {
      const path = '/v1/analytics/coverage';
      const res = await t.call('GET', `${path}?groupBy=${groupBy}`, { token: f.leader.token });
      expect(suppressedCells(res.json())).toBe(0);
      const analyst = await t.call('GET', `${path}?groupBy=${groupBy}&unitIds=${f.unitA.id}`, {
        token: f.analyst.token,
      });
      expect(res.json()).toEqual(analyst.json());
    }
    for (const path of ['/v1/analytics/follow-through']) {
      for (const groupBy of ['unit', 'district', 'sex', 'ageBand']) {
        const res = await t.call('GET', `${path}?groupBy=${groupBy}`, { token: f.leader.token });
        expect(res.statusCode, res.body).toBe(200);
        const counts = publishedCounts(res.json());
        expect(
          counts.filter((n) => n > 0 && n < 5),
          `${path} ${groupBy}`,
        ).toEqual([]);
        expect(suppressedCells(res.json())).toBeGreaterThan(0);
        const analyst = await t.call('GET', `${path}?groupBy=${groupBy}&unitIds=${f.unitA.id}`, {
          token: f.analyst.token,
        });
        expect(res.json()).toEqual(analyst.json());
      }
    }
  });

  it("refuses another unit's figures, other aggregates and unit staff", async () => {
    const f = await fixture(t);
    const other = await createScreeningTenant(t);
    for (const path of ['/v1/analytics/coverage', '/v1/analytics/follow-through']) {
      // Another unit of the municipality: 403, as for every other use of a unit not the key's.
      expectProblem(
        await t.call('GET', `${path}?unitIds=${f.unitB.id}`, { token: f.leader.token }),
        403,
      );
      expectProblem(
        await t.call('GET', `${path}?unitIds=${f.unitA.id},${f.unitB.id}`, {
          token: f.leader.token,
        }),
        403,
      );
      // A unit of another municipality: 404, never 403.
      expectProblem(
        await t.call('GET', `${path}?unitIds=${other.unit.id}`, { token: f.leader.token }),
        404,
      );
      const staff = await createKey(t, f.municipality.id, 'unit_staff', {
        token: f.admin.token,
        unitIds: [f.unitA.id],
      });
      expectProblem(await t.call('GET', path, { token: staff.token }), 403);
    }
    for (const path of [
      '/v1/analytics/zone-distribution',
      '/v1/analytics/early-detection',
      '/v1/analytics/concern-reports',
    ]) {
      expectProblem(await t.call('GET', path, { token: f.leader.token }), 403);
    }
  });

  it('audits the reads of leaders and analysts, and the refused ones', async () => {
    const f = await fixture(t);
    await t.call('GET', '/v1/analytics/coverage?groupBy=district', { token: f.leader.token });
    await t.call('GET', `/v1/analytics/follow-through?unitIds=${f.unitA.id}`, {
      token: f.analyst.token,
    });
    await t.call('GET', `/v1/analytics/follow-through?unitIds=${f.unitB.id}`, {
      token: f.leader.token,
    });
    const page = await t.call('GET', '/v1/audit-log?resourceType=analytics&limit=10', {
      token: f.admin.token,
    });
    expect(page.statusCode, page.body).toBe(200);
    const entries = page
      .json()
      .items.map(
        (e: {
          principal: { role: string };
          action: string;
          outcome: string;
          statusCode: number | null;
          childId: string | null;
          criteria: Record<string, unknown> | null;
        }) => ({
          role: e.principal.role,
          action: e.action,
          outcome: e.outcome,
          statusCode: e.statusCode,
          childId: e.childId,
          criteria: e.criteria,
        }),
      );
    expect(entries).toEqual(
      expect.arrayContaining([
        {
          role: 'unit_leader',
          action: 'read',
          outcome: 'success',
          statusCode: null,
          childId: null,
          criteria: { aggregate: 'coverage', groupBy: ['district'], unitIds: [f.unitA.id] },
        },
        {
          role: 'analyst',
          action: 'read',
          outcome: 'success',
          statusCode: null,
          childId: null,
          criteria: { aggregate: 'follow-through', groupBy: ['unit'], unitIds: [f.unitA.id] },
        },
        {
          role: 'unit_leader',
          action: 'read',
          outcome: 'denied',
          statusCode: 403,
          childId: null,
          criteria: null,
        },
      ]),
    );
    expect(entries).toHaveLength(3);
  });
});
