import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];

/**
 * 13 children in one kindergarten (district Nord), assessed in two rounds:
 *   round 1: 6 green, 5 yellow, 2 red;   round 2: 10 green, 2 yellow, 1 red.
 */
async function fixture(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const unit = await createUnit(t, s.admin.token, { kind: 'kindergarten', district: 'Nord' });
  const round = async (name: string, windowStart: string, windowEnd: string) =>
    (
      await t.call('POST', '/v1/rounds', {
        token: s.admin.token,
        body: { name, windowStart, windowEnd, rulerVersionId: s.topi },
      })
    ).json();
  const r1 = await round('Forår 2026', '2026-04-01', '2026-05-31');
  const r2 = await round('Efterår 2026', '2026-10-01', '2026-11-30');
  const first = [1, 1, 1, 1, 1, 1, 2, 2, 2, 2, 2, 3, 3];
  const second = [1, 1, 1, 1, 1, 2, 1, 1, 1, 1, 1, 2, 3];
  for (const [i, level] of first.entries()) {
    const child = await createChild(t, s.admin.token, {
      unitId: unit.id,
      enrolledFrom: '2025-08-01',
      birthDate: '2021-03-01',
      sex: i % 2 === 0 ? 'female' : 'male',
    });
    for (const [round, lvl, on] of [
      [r1, level, '2026-04-15'],
      [r2, second[i], '2026-11-02'],
    ] as const) {
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: {
          childId: child.id,
          unitId: unit.id,
          roundId: round.id,
          assessedOn: on,
          raters,
          rating: { overallLevel: lvl },
          parentsInformed: true,
        },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
  }
  const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
  return { ...s, unit, r1, r2, analyst };
}

const cell = (value: number | null) => ({ value, suppressed: value === null });

describeEngines('analytics', (t) => {
  it('zone distribution per round, with suppression and shares', async () => {
    const f = await fixture(t);
    const res = await t.call(
      'GET',
      `/v1/analytics/zone-distribution?roundIds=${f.r1.id},${f.r2.id}&unitIds=${f.unit.id}`,
      { token: f.analyst.token },
    );
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json();
    expect(body.groupBy).toEqual(['round']);
    expect(body.rows).toEqual([
      {
        group: { round: { id: f.r1.id, name: 'Forår 2026', windowStart: '2026-04-01' } },
        // red 2 is suppressed, and yellow with it: otherwise 13 − 6 − 0 would reveal red.
        counts: { green: cell(6), yellow: cell(null), red: cell(null), none: cell(0) },
        total: cell(13),
        shares: { green: 0.4615, yellow: null, red: null, none: 0 },
      },
      {
        group: { round: { id: f.r2.id, name: 'Efterår 2026', windowStart: '2026-10-01' } },
        counts: { green: cell(10), yellow: cell(null), red: cell(null), none: cell(0) },
        total: cell(13),
        shares: { green: 0.7692, yellow: null, red: null, none: 0 },
      },
    ]);
  });

  it('groups by district and sex in SQL', async () => {
    const f = await fixture(t);
    const res = await t.call(
      'GET',
      `/v1/analytics/zone-distribution?roundIds=${f.r1.id}&groupBy=district,sex&districts=Nord`,
      { token: f.admin.token },
    );
    expect(res.statusCode, res.body).toBe(200);
    // Round 1 by sex (even index = female): female 1,1,1,2,2,2,3 → green 3, yellow 3, red 1.
    expect(res.json().rows).toEqual([
      {
        group: { district: 'Nord', sex: 'female' },
        counts: { green: cell(null), yellow: cell(null), red: cell(null), none: cell(0) },
        total: cell(7),
        shares: { green: null, yellow: null, red: null, none: 0 },
      },
      {
        group: { district: 'Nord', sex: 'male' },
        counts: { green: cell(null), yellow: cell(null), red: cell(null), none: cell(0) },
        total: cell(6),
        shares: { green: null, yellow: null, red: null, none: 0 },
      },
    ]);
  });

  it('transitions between two rounds never publish a count of 1–4 or a derivable cell', async () => {
    const f = await fixture(t);
    const res = await t.call(
      'GET',
      `/v1/analytics/transitions?fromRoundId=${f.r1.id}&toRoundId=${f.r2.id}`,
      { token: f.analyst.token },
    );
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().groupBy).toEqual([]);
    expect(res.json().rows).toHaveLength(1);
    const body = { ...res.json(), ...res.json().rows[0] };
    expect(body.group).toEqual({});
    expect(body.zones).toEqual(['green', 'yellow', 'red', 'none']);
    expect(body.total).toEqual(cell(13));
    // The true matrix (from × to; green, yellow, red, none) with its row totals:
    //   green  5 1 0 0 (6)    yellow 5 0 0 0 (5)    red 0 1 1 0 (2)    none 0 0 0 0 (0)
    // and column totals 10, 2, 1, 0.
    // Published: no count of 1–4, and no cell derivable from a published total. Green → yellow
    // 1 hides with green → green 5 (6 − 5 would reveal it), and so yellow → green 5 in the same
    // column (10 − 5), and the yellow row's total with it; the red row (2 children) hides whole
    // but for red → none, a zero the whole matrix shares (nobody had no zone). Zeros of rows of
    // 5 or more are published: "none of the 5 went to red" is about no child in particular.
    const hidden = cell(null);
    expect(body.matrix).toEqual([
      [hidden, hidden, cell(0), cell(0)],
      [hidden, cell(0), cell(0), cell(0)],
      [hidden, hidden, hidden, cell(0)],
      [cell(0), cell(0), cell(0), cell(0)],
    ]);
    expect(body.fromTotals).toEqual([cell(6), hidden, hidden, cell(0)]);
    expect(body.toTotals).toEqual([cell(10), hidden, hidden, cell(0)]);
  });

  it('a period bound in year 0 is a 400 naming it (was a 500 on PostgreSQL)', async () => {
    const { municipality, admin } = await createScreeningTenant(t);
    const analyst = await createKey(t, municipality.id, 'analyst', { token: admin.token });
    for (const query of ['to=0000-01-01', 'from=0000-12-31']) {
      const res = await t.call('GET', `/v1/analytics/coverage?${query}`, { token: analyst.token });
      expect(res.statusCode, res.body).toBe(400);
      expect(res.body).toContain(`query.${query.split('=')[0]}`);
    }
  });

  it('sees only its own municipality, and only analysts and admins may ask', async () => {
    const f = await fixture(t);
    const other = await createScreeningTenant(t);
    const otherAnalyst = await createKey(t, other.municipality.id, 'analyst', {
      token: other.admin.token,
    });
    const res = await t.call('GET', `/v1/analytics/zone-distribution?roundIds=${f.r1.id}`, {
      token: otherAnalyst.token,
    });
    expect(res.json().rows).toEqual([]);
    expectProblem(
      await t.call('GET', `/v1/analytics/transitions?fromRoundId=${f.r1.id}&toRoundId=${f.r2.id}`, {
        token: otherAnalyst.token,
      }),
      404,
    );
    const staff = await createKey(t, f.municipality.id, 'unit_staff', {
      token: f.admin.token,
      unitIds: [f.unit.id],
    });
    expectProblem(
      await t.call('GET', '/v1/analytics/zone-distribution', { token: staff.token }),
      403,
    );
    expectProblem(
      await t.call('GET', '/v1/analytics/zone-distribution?groupBy=colour', {
        token: f.analyst.token,
      }),
      400,
    );
  });

  it('coverage per round and unit, and early detection by cohort and district', async () => {
    const f = await fixture(t);
    const coverage = (
      await t.call('GET', `/v1/analytics/coverage?roundIds=${f.r1.id}&unitIds=${f.unit.id}`, {
        token: f.analyst.token,
      })
    ).json();
    const round = { id: f.r1.id, name: 'Forår 2026', windowStart: '2026-04-01' };
    expect(coverage.groupBy).toEqual(['round', 'unit']);
    expect(coverage.rows).toEqual([
      {
        group: { round, unit: { id: f.unit.id, name: f.unit.name } },
        roundTotal: false,
        enrolled: cell(13),
        assessed: cell(13),
        missing: cell(0),
        coverage: 1,
      },
      {
        group: { round },
        roundTotal: true,
        enrolled: cell(13),
        assessed: cell(13),
        missing: cell(0),
        coverage: 1,
      },
    ]);
    // First yellow/red: seven children in round 1 (2026-04-15, 61 months old), one in round 2
    // (2026-11-02, 68 months): quartiles 61 / 61 / 61.
    const early = (
      await t.call('GET', `/v1/analytics/early-detection?districts=Nord`, {
        token: f.analyst.token,
      })
    ).json();
    expect(early.groupBy).toEqual(['cohort', 'district']);
    expect(early.rows).toEqual([
      {
        group: { cohort: 2021, district: 'Nord' },
        ageMonthsAtFirstConcern: { children: cell(8), q1: 61, median: 61, q3: 61 },
      },
    ]);
    expect(early.overall).toEqual({
      ageMonthsAtFirstConcern: { children: cell(8), q1: 61, median: 61, q3: 61 },
    });
  });

  it('follow-through and concern-report statistics', async () => {
    const s = await createScreeningTenant(t);
    const unit = await createUnit(t, s.admin.token, { kind: 'kindergarten', district: 'Syd' });
    for (let i = 0; i < 5; i++) {
      const child = await createChild(t, s.admin.token, {
        unitId: unit.id,
        birthDate: '2021-03-01',
      });
      const red = (
        await t.call('POST', '/v1/assessments', {
          token: s.admin.token,
          body: {
            childId: child.id,
            unitId: unit.id,
            rulerVersionId: s.topi,
            assessedOn: '2026-11-02',
            raters,
            rating: { overallLevel: 3 },
            parentsInformed: true,
          },
        })
      ).json();
      const first = red.recommendation.steps.find(
        (st: { stepKey: string }) => st.stepKey === 'involve_unit_leader',
      );
      await t.call('PATCH', `/v1/steps/${first.id}`, {
        token: s.admin.token,
        body: { status: 'done' },
      });
      const report = await t.call('POST', `/v1/children/${child.id}/concern-reports`, {
        token: s.admin.token,
        body: { reportedOn: '2026-11-04', reportedBy: { name: 'Leder', role: 'unit_leader' } },
      });
      expect(report.statusCode, report.body).toBe(201);
    }
    const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
    const follow = (
      await t.call('GET', `/v1/analytics/follow-through?unitIds=${unit.id}`, {
        token: analyst.token,
      })
    ).json();
    // Per child: involve_unit_leader done late (due 11-02), concern_report done via the report
    // (recorded 11-22, due 11-05), parents_meeting and interdisciplinary_meeting open, overdue.
    const measures = {
      stepsDue: cell(20),
      doneByDeadline: cell(0),
      shareDoneByDeadline: 0,
      open: cell(10),
      overdue: cell(10),
      // Each child's first assessment, recorded with the parents informed.
      parentsInformed: {
        due: cell(5),
        informedByDeadline: cell(5),
        shareInformedByDeadline: 1,
        open: cell(0),
        overdue: cell(0),
        notInformedRisk: cell(0),
      },
      daysFromRedToConcernReport: { children: cell(5), q1: 2, median: 2, q3: 2 },
    };
    expect(follow.groupBy).toEqual(['unit']);
    expect(follow.rows).toEqual([
      { group: { unit: { id: unit.id, name: unit.name } }, ...measures },
    ]);
    expect(follow.overall).toEqual(measures);
    const reports = (
      await t.call('GET', '/v1/analytics/concern-reports?from=2026-01-01', { token: analyst.token })
    ).json();
    // Five children, all reported: 1,000 per 1,000.
    const figures = {
      reports: cell(5),
      reportsAboutChildrenUnder8: cell(5),
      shareUnder8: 1,
      childrenReported: cell(5),
      childrenWithRepeatReports: cell(0),
      childrenAged0To17: cell(5),
      childrenReportedPer1000: 1000,
      reportsPer1000: 1000,
    };
    expect(reports).toEqual({ groupBy: [], rows: [{ group: {}, ...figures }], overall: figures });
  });

  it('a group of 1–4 children publishes no zeros (that would reveal their zone)', async () => {
    const s = await createScreeningTenant(t);
    const round = (
      await t.call('POST', '/v1/rounds', {
        token: s.admin.token,
        body: {
          name: 'Lille',
          windowStart: '2026-10-01',
          windowEnd: '2026-11-30',
          rulerVersionId: s.topi,
        },
      })
    ).json();
    for (let i = 0; i < 3; i++) {
      const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: {
          childId: child.id,
          unitId: s.unit.id,
          roundId: round.id,
          assessedOn: '2026-11-02',
          raters,
          rating: { overallLevel: 2 },
          parentsInformed: true,
        },
      });
      expect(res.statusCode, res.body).toBe(201);
    }
    const rows = (
      await t.call('GET', `/v1/analytics/zone-distribution?roundIds=${round.id}`, {
        token: s.admin.token,
      })
    ).json().rows;
    expect(rows).toHaveLength(1);
    // The number assessed is published (coverage publishes it too); no zone count is, not even
    // a zero: "nobody red" would be a finding about each of the three.
    expect(rows[0].total).toEqual(cell(3));
    expect(rows[0].counts).toEqual({
      green: cell(null),
      yellow: cell(null),
      red: cell(null),
      none: cell(null),
    });
    const coverage = (
      await t.call('GET', `/v1/analytics/coverage?roundIds=${round.id}`, { token: s.admin.token })
    ).json().rows;
    // Coverage is not a finding about a child: the 3 assessed of 3 are published.
    const counted = { enrolled: cell(3), assessed: cell(3), missing: cell(0) };
    const group = { round: { id: round.id, name: 'Lille', windowStart: '2026-10-01' } };
    expect(coverage).toEqual([
      {
        group: { ...group, unit: { id: s.unit.id, name: s.unit.name } },
        roundTotal: false,
        ...counted,
        coverage: 1,
      },
      { group, roundTotal: true, ...counted, coverage: 1 },
    ]);
  });
});
