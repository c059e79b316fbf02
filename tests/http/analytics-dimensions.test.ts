import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/**
 * Every aggregate filtered and grouped by the other dimensions, against a hand-computed fixture:
 *
 * Kindergarten K (district Nord): 20 children born Jan–Apr 2021 (child i in month 1 + i % 4),
 *   even i female. Round 1 (window 2026-04-01, assessed 04-15): i < 10 green, i ≥ 10 red.
 *   Round 2 (window 2026-10-01, assessed 11-02): i < 15 green, i ≥ 15 red.
 *   Concern reports on 2026-11-04 about i ≥ 10, and a second one on 2026-11-10 about i ≥ 15.
 * School S (district Syd): 6 children born 2018-06-01, even i female; green in both rounds
 *   except child 5, yellow in round 2. Concern reports on 2026-11-04 about i < 5.
 */
async function fixture(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const k = await createUnit(t, s.admin.token, { kind: 'kindergarten', district: 'Nord' });
  const school = await createUnit(t, s.admin.token, { kind: 'school', district: 'Syd' });
  const round = async (name: string, windowStart: string, windowEnd: string) =>
    (
      await t.call('POST', '/v1/rounds', {
        token: s.admin.token,
        body: { name, windowStart, windowEnd, rulerVersionId: s.topi },
      })
    ).json();
  const r1 = await round('Forår 2026', '2026-04-01', '2026-05-31');
  const r2 = await round('Efterår 2026', '2026-10-01', '2026-11-30');
  const assess = async (
    childId: string,
    unitId: string,
    roundId: string,
    on: string,
    l: number,
  ) => {
    const res = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId,
        unitId,
        roundId,
        assessedOn: on,
        raters: [
          { name: 'Anna', role: 'unit_staff' },
          { name: 'Bo', role: 'unit_leader' },
        ],
        rating: { overallLevel: l },
        parentsInformed: true,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  const report = async (childId: string, reportedOn: string) => {
    const res = await t.call('POST', `/v1/children/${childId}/concern-reports`, {
      token: s.admin.token,
      body: { reportedOn, reportedBy: { name: 'Leder', role: 'unit_leader' } },
    });
    expect(res.statusCode, res.body).toBe(201);
  };
  for (let i = 0; i < 20; i++) {
    const child = await createChild(t, s.admin.token, {
      unitId: k.id,
      enrolledFrom: '2024-08-01',
      birthDate: `2021-0${1 + (i % 4)}-01`,
      sex: i % 2 === 0 ? 'female' : 'male',
    });
    await assess(child.id, k.id, r1.id, '2026-04-15', i < 10 ? 1 : 3);
    await assess(child.id, k.id, r2.id, '2026-11-02', i < 15 ? 1 : 3);
    if (i >= 10) await report(child.id, '2026-11-04');
    if (i >= 15) await report(child.id, '2026-11-10');
  }
  for (let i = 0; i < 6; i++) {
    const child = await createChild(t, s.admin.token, {
      unitId: school.id,
      enrolledFrom: '2024-08-01',
      birthDate: '2018-06-01',
      sex: i % 2 === 0 ? 'female' : 'male',
    });
    await assess(child.id, school.id, r1.id, '2026-04-15', 1);
    await assess(child.id, school.id, r2.id, '2026-11-02', i === 5 ? 2 : 1);
    if (i < 5) await report(child.id, '2026-11-04');
  }
  const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
  const get = async (path: string) => {
    const res = await t.call('GET', path, { token: analyst.token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  return { ...s, k, school, r1, r2, analyst, get };
}

const cell = (value: number | null) => ({ value, suppressed: value === null });
const hiddenCell = cell(null);

describeEngines('analytics by every dimension', (t) => {
  it('filters and groups every aggregate by unit kind, age band, sex, district and cohort', async () => {
    const f = await fixture(t);
    const r1 = { id: f.r1.id, name: 'Forår 2026', windowStart: '2026-04-01' };

    // Zone distribution by birth cohort in round 1.
    const zones = await f.get(`/v1/analytics/zone-distribution?roundIds=${f.r1.id}&groupBy=cohort`);
    expect(
      zones.rows.map((r: { group: unknown; counts: unknown; total: unknown }) => [
        r.group,
        r.counts,
        r.total,
      ]),
    ).toEqual([
      [{ cohort: 2018 }, { green: cell(6), yellow: cell(0), red: cell(0), none: cell(0) }, cell(6)],
      [
        { cohort: 2021 },
        { green: cell(10), yellow: cell(0), red: cell(10), none: cell(0) },
        cell(20),
      ],
    ]);

    // Coverage of round 1 by unit kind: everybody assessed.
    const byKind = await f.get(`/v1/analytics/coverage?roundIds=${f.r1.id}&groupBy=unitKind`);
    expect(byKind.groupBy).toEqual(['round', 'unitKind']);
    const coverageRow = (group: object, n: number, roundTotal = false) => ({
      group: { round: r1, ...group },
      roundTotal,
      enrolled: cell(n),
      assessed: cell(n),
      missing: cell(0),
      coverage: 1,
    });
    expect(byKind.rows).toEqual([
      coverageRow({ unitKind: 'kindergarten' }, 20),
      coverageRow({ unitKind: 'school' }, 6),
      coverageRow({}, 26, true),
    ]);
    // Girls only, by age band: 10 aged 3–5 and 3 aged 6–9, all assessed. Coverage is about the
    // staff's work, not a finding about a child: published as it is, also the 3.
    const girls = await f.get(
      `/v1/analytics/coverage?roundIds=${f.r1.id}&groupBy=ageBand&sex=female`,
    );
    expect(girls.rows).toEqual([
      coverageRow({ ageBand: '3-5' }, 10),
      coverageRow({ ageBand: '6-9' }, 3),
      coverageRow({}, 13, true),
    ]);

    // Early detection. First concern: K children 10–19 red at 2026-04-15, aged 61, 60, 63, 62,
    // 61, 60, 63, 62, 61, 60 months; school child 5 yellow at 2026-11-02, aged 101 months.
    const kindergarten = await f.get('/v1/analytics/early-detection?ageBands=3-5');
    expect(kindergarten.rows).toEqual([
      {
        group: { cohort: 2021, district: 'Nord' },
        ageMonthsAtFirstConcern: { children: cell(10), q1: 60.3, median: 61, q3: 62 },
      },
    ]);
    const early = await f.get('/v1/analytics/early-detection?groupBy=unitKind');
    // The school's one child is hidden, so the kindergarten's 10 is hidden as its complement
    // (11 − 10 = 1) and so are its quartiles; the overall figures stand.
    expect(early.rows).toEqual([
      {
        group: { unitKind: 'kindergarten' },
        ageMonthsAtFirstConcern: { children: hiddenCell, q1: null, median: null, q3: null },
      },
      {
        group: { unitKind: 'school' },
        ageMonthsAtFirstConcern: { children: hiddenCell, q1: null, median: null, q3: null },
      },
    ]);
    expect(early.overall).toEqual({
      ageMonthsAtFirstConcern: { children: cell(11), q1: 60.5, median: 61, q3: 62.5 },
    });

    // Transitions by unit kind. The school's six: five green → green and child 5 green →
    // yellow; the 1 hides, with the 5 beside it (the green row's total 6 would reveal it) and
    // the school's green and yellow columns. The kindergarten's counts are all ≥ 5 or 0, but
    // the municipality's matrix is published too (green → green 15 = kindergarten 10 + school
    // 5): either the kindergarten's 10 or the municipality's 15 hides, which one depends on the
    // complements' tie-breaks (unit ids here are random), never both published.
    const moves = await f.get(
      `/v1/analytics/transitions?fromRoundId=${f.r1.id}&toRoundId=${f.r2.id}&groupBy=unitKind`,
    );
    const whole = await f.get(
      `/v1/analytics/transitions?fromRoundId=${f.r1.id}&toRoundId=${f.r2.id}`,
    );
    const cells = (values: (number | null)[]) => values.map((v) => cell(v));
    const [kgMoves, schoolMoves] = moves.rows;
    expect(kgMoves.group).toEqual({ unitKind: 'kindergarten' });
    expect(schoolMoves).toEqual({
      group: { unitKind: 'school' },
      matrix: [
        cells([null, null, 0, 0]),
        cells([0, 0, 0, 0]),
        cells([0, 0, 0, 0]),
        cells([0, 0, 0, 0]),
      ],
      fromTotals: cells([6, 0, 0, 0]),
      toTotals: cells([null, null, 0, 0]),
      total: cell(6),
    });
    // The kindergarten's true matrix: green → green 10, red → green 5, red → red 5.
    const truth = [
      [10, 0, 0, 0],
      [0, 0, 0, 0],
      [5, 0, 5, 0],
      [0, 0, 0, 0],
    ];
    kgMoves.matrix.forEach((line: { value: number | null }[], i: number) => {
      line.forEach((c, j) => {
        if (c.value !== null) expect(c.value).toBe(truth[i]?.[j]);
      });
    });
    expect(kgMoves.total).toEqual(cell(20));
    const published = (c: { suppressed: boolean }) => !c.suppressed;
    expect(published(kgMoves.matrix[0][0]) && published(whole.rows[0].matrix[0][0])).toBe(false);
  });

  it('days from red to concern report count each child once, from its first red assessment', async () => {
    const f = await fixture(t);
    // Children 10–19: first red 2026-04-15, first report 2026-11-04: 203 days each. (Counting
    // every red assessment would add 2 days for children 15–19, red again on 11-02.)
    const follow = await f.get('/v1/analytics/follow-through?groupBy=district');
    expect(follow.groupBy).toEqual(['district']);
    const byDistrict = Object.fromEntries(
      follow.rows.map((r: { group: { district: string } }) => [r.group.district, r]),
    );
    expect(byDistrict.Nord.daysFromRedToConcernReport).toEqual({
      children: cell(10),
      q1: 203,
      median: 203,
      q3: 203,
    });
    expect(byDistrict.Syd.daysFromRedToConcernReport.children).toEqual(cell(0));
    expect(follow.overall.daysFromRedToConcernReport).toEqual({
      children: cell(10),
      q1: 203,
      median: 203,
      q3: 203,
    });
    // Every cell of both districts and the overall figures. Per district the step counts other
    // than open are hidden in both (a hidden group count never stands alone under a published
    // total, which would reveal it by subtraction); open stands (45 and 5, summing to 50).
    // Each child's first assessment and zone changes, all recorded with the parents informed.
    const parentsInformed = (n: number) => ({
      due: cell(n),
      informedByDeadline: cell(n),
      shareInformedByDeadline: 1,
      open: cell(0),
      overdue: cell(0),
      notInformedRisk: cell(0),
    });
    const hiddenSteps = {
      stepsDue: hiddenCell,
      doneByDeadline: hiddenCell,
      shareDoneByDeadline: null,
      overdue: hiddenCell,
    };
    expect(follow.rows).toEqual([
      {
        group: { district: 'Nord' },
        ...hiddenSteps,
        open: cell(45),
        parentsInformed: parentsInformed(25),
        daysFromRedToConcernReport: { children: cell(10), q1: 203, median: 203, q3: 203 },
      },
      {
        group: { district: 'Syd' },
        ...hiddenSteps,
        open: cell(5),
        parentsInformed: parentsInformed(7),
        daysFromRedToConcernReport: { children: cell(0), q1: null, median: null, q3: null },
      },
    ]);
    expect(follow.overall).toEqual({
      stepsDue: cell(68),
      doneByDeadline: cell(0),
      shareDoneByDeadline: 0,
      open: cell(50),
      overdue: cell(47),
      parentsInformed: parentsInformed(32),
      daysFromRedToConcernReport: { children: cell(10), q1: 203, median: 203, q3: 203 },
    });
    // Every assessment here says the parents were informed, so its inform-parents step (round
    // 2's red of children 15–19 and the school's yellow) is done, not open.
    expect([byDistrict.Nord.open, byDistrict.Syd.open, follow.overall.open]).toEqual([
      cell(45),
      cell(5),
      cell(50),
    ]);
    // Only round 2's steps: the red assessments of children 15–19 (and the school's yellow).
    const r2 = await f.get(`/v1/analytics/follow-through?roundIds=${f.r2.id}&groupBy=district`);
    const r1 = await f.get(`/v1/analytics/follow-through?roundIds=${f.r1.id}&groupBy=district`);
    const all = follow.overall.open.value;
    expect(r1.overall.open.value + r2.overall.open.value).toBe(all);
    expect(r2.overall.daysFromRedToConcernReport.children).toEqual(cell(0));
  });

  it('concern reports per unit kind, with repeat reports and rates per 1,000 children', async () => {
    const f = await fixture(t);
    const res = await f.get('/v1/analytics/concern-reports?from=2026-01-01&groupBy=unitKind');
    expect(res.rows).toEqual([
      {
        group: { unitKind: 'kindergarten' },
        reports: cell(15),
        reportsAboutChildrenUnder8: cell(15),
        shareUnder8: 1,
        childrenReported: cell(10),
        childrenWithRepeatReports: cell(5),
        childrenAged0To17: cell(20),
        childrenReportedPer1000: 500,
        reportsPer1000: 750,
      },
      {
        group: { unitKind: 'school' },
        reports: cell(5),
        reportsAboutChildrenUnder8: cell(0),
        shareUnder8: 0,
        childrenReported: cell(5),
        childrenWithRepeatReports: cell(0),
        childrenAged0To17: cell(6),
        childrenReportedPer1000: 833.3,
        reportsPer1000: 833.3,
      },
    ]);
    expect(res.overall).toEqual({
      reports: cell(20),
      reportsAboutChildrenUnder8: cell(15),
      shareUnder8: 0.75,
      childrenReported: cell(15),
      childrenWithRepeatReports: cell(5),
      childrenAged0To17: cell(26),
      childrenReportedPer1000: 576.9,
      reportsPer1000: 769.2,
    });
    // The period and a district filter: only the kindergarten's first reports (11-04).
    const nord = await f.get('/v1/analytics/concern-reports?to=2026-11-05&districts=Nord');
    const nordFigures = {
      reports: cell(10),
      reportsAboutChildrenUnder8: cell(10),
      shareUnder8: 1,
      childrenReported: cell(10),
      childrenWithRepeatReports: cell(0),
      childrenAged0To17: cell(20),
      childrenReportedPer1000: 500,
      reportsPer1000: 500,
    };
    expect(nord).toEqual({
      groupBy: [],
      rows: [{ group: {}, ...nordFigures }],
      overall: nordFigures,
    });
  });

  it('refuses a dimension an aggregate cannot be grouped by', async () => {
    const f = await fixture(t);
    for (const path of [
      '/v1/analytics/concern-reports?groupBy=round',
      `/v1/analytics/transitions?fromRoundId=${f.r1.id}&toRoundId=${f.r2.id}&groupBy=round`,
      '/v1/analytics/coverage?groupBy=colour',
      '/v1/analytics/early-detection?ageBands=18-99',
    ]) {
      expectProblem(await t.call('GET', path, { token: f.analyst.token }), 400);
    }
  });
});
