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
    const body = res.json();
    expect(body.zones).toEqual(['green', 'yellow', 'red', 'none']);
    expect(body.total).toEqual(cell(13));
    // The true matrix (from × to): green→green 5, green→yellow 1, yellow→green 5,
    // red→yellow 1, red→red 1.
    const truth = [
      [5, 1, 0, 0],
      [5, 0, 0, 0],
      [0, 1, 1, 0],
      [0, 0, 0, 0],
    ];
    const published = body.matrix.flat() as { value: number | null; suppressed: boolean }[];
    for (const [i, c] of published.entries()) {
      const real = truth[Math.floor(i / 4)]?.[i % 4] as number;
      if (c.suppressed) expect(c.value).toBeNull();
      else expect(c.value).toBe(real);
      if (real >= 1 && real <= 4) expect(c.suppressed).toBe(true);
    }
    // No published total lets a single hidden cell be derived.
    for (const [i, row] of body.matrix.entries()) {
      const hidden = row.filter((c: { suppressed: boolean }) => c.suppressed).length;
      if (!body.fromTotals[i].suppressed) expect(hidden === 0 || hidden >= 2).toBe(true);
    }
    expect(body.matrix[3]).toEqual([cell(0), cell(0), cell(0), cell(0)]);
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
});
