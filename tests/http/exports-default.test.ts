import { expect, it } from 'vitest';
import { exportColumns } from '../../src/features/exports/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna Rasmussen', role: 'unit_staff' },
  { name: 'Bo Nielsen', role: 'unit_leader' },
];

/**
 * A round in two units: 14 children in a kindergarten in Nord (10 green girls and boys aged
 * 3–5, 4 red), 3 in a school in Syd (2 green, 1 yellow), and one assessment outside the round.
 */
async function fixture(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const kindergarten = await createUnit(t, s.admin.token, {
    kind: 'kindergarten',
    district: 'Nord',
  });
  const school = await createUnit(t, s.admin.token, { kind: 'school', district: 'Syd' });
  const res = await t.call('POST', '/v1/rounds', {
    token: s.admin.token,
    body: {
      name: 'Efterår 2026',
      windowStart: '2026-10-01',
      windowEnd: '2026-11-30',
      rulerVersionId: s.topi,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  const round = res.json() as { id: string };
  const assess = async (
    unitId: string,
    birthDate: string,
    sex: 'female' | 'male',
    level: number,
    inRound = true,
  ) => {
    const child = await createChild(t, s.admin.token, {
      unitId,
      birthDate,
      sex,
      enrolledFrom: '2025-08-01',
    });
    const created = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId: child.id,
        unitId,
        ...(inRound ? { roundId: round.id } : { rulerVersionId: s.topi }),
        assessedOn: '2026-11-02',
        raters,
        rating: { overallLevel: level },
        parentsInformed: true,
      },
    });
    expect(created.statusCode, created.body).toBe(201);
  };
  for (let i = 0; i < 14; i++) {
    await assess(kindergarten.id, '2022-03-01', i % 2 === 0 ? 'female' : 'male', i < 10 ? 1 : 3);
  }
  for (let i = 0; i < 3; i++) await assess(school.id, '2017-05-01', 'female', i < 2 ? 1 : 2);
  await assess(school.id, '2017-05-01', 'male', 3, false);
  const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
  return { ...s, round, kindergarten, school, analyst };
}

const parse = (body: string) => {
  const [header, ...lines] = body.trim().split('\r\n');
  const columns = (header ?? '').split(',');
  return lines.map((line) => {
    const fields = line.split(',');
    return Object.fromEntries(columns.map((c, i) => [c, fields[i]])) as Record<string, string>;
  });
};

describeEngines('default export', (t) => {
  it('is coarse and k-anonymous, and counts what it generalised and left out', async () => {
    const f = await fixture(t);
    const res = await t.call('GET', '/v1/exports/assessments.csv', { token: f.analyst.token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.body.split('\r\n')[0]).toBe(exportColumns.join(','));
    const rows = parse(res.body);
    // No pseudonym, unit, date or age in months; the assessment outside the round is not there.
    expect(Object.keys(rows[0] ?? {})).not.toContain('child_pseudonym');
    expect(res.body).not.toContain(f.kindergarten.id);
    expect(res.body).not.toContain('2026-11-02');
    expect(rows.every((r) => r.round_id === f.round.id)).toBe(true);

    // Every combination of quasi-identifiers and zone occurs at least 5 times.
    const classes = new Map<string, number>();
    for (const r of rows) {
      const key = [r.round_id, r.district, r.unit_kind, r.age_band, r.sex, r.zone].join('|');
      classes.set(key, (classes.get(key) ?? 0) + 1);
    }
    expect([...classes.values()].every((n) => n >= 5)).toBe(true);

    // The zone distributions hide the kindergarten's red 4 (and so its green 10 beside it: the
    // number assessed there is published), in every grouping that tells the kindergarten apart;
    // the school's yellow 1 likewise. So the green rows are released at the round's level only,
    // where green 12 is published, and the red 4 and yellow 1 are left out.
    const summary = (r: Record<string, string>) =>
      [r.district, r.unit_kind, r.age_band, r.sex, r.zone].join(' ');
    const counted = new Map<string, number>();
    for (const r of rows) counted.set(summary(r), (counted.get(summary(r)) ?? 0) + 1);
    expect(Object.fromEntries(counted)).toEqual({ '* * * * green': 12 });
    expect(Number(res.headers['lineal-export-rows'])).toBe(rows.length);
    expect(Number(res.headers['lineal-export-generalised'])).toBe(
      rows.filter((r) => Object.values(r).includes('*')).length,
    );
    expect(
      Number(res.headers['lineal-export-rows']) + Number(res.headers['lineal-export-suppressed']),
    ).toBe(17);

    // The same rows as NDJSON.
    const nd = await t.call('GET', '/v1/exports/assessments.ndjson', { token: f.analyst.token });
    expect(nd.body.trim().split('\n')).toHaveLength(rows.length);
  });

  it('is the analysts’; the detailed export is the administrator’s alone', async () => {
    const f = await fixture(t);
    for (const format of ['csv', 'ndjson']) {
      expectProblem(
        await t.call('GET', `/v1/exports/detailed/assessments.${format}`, {
          token: f.analyst.token,
        }),
        403,
      );
      const detailed = await t.call('GET', `/v1/exports/detailed/assessments.${format}`, {
        token: f.admin.token,
      });
      expect(detailed.statusCode).toBe(200);
      expect(detailed.body).toContain('child_pseudonym');
      expect(detailed.headers['lineal-export-rows']).toBeUndefined();
    }
  });
});
