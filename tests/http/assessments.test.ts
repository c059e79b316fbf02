import { expect, it } from 'vitest';
import type { Assessment } from '../../src/features/assessments/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  assessmentBody,
  createAssessment,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
  createUnit,
  presetVersionId,
  TEST_RATERS as raters,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

async function setup(t: EngineContext) {
  const tenant = await createScreeningTenant(t);
  const child = await createChild(t, tenant.admin.token, {
    unitId: tenant.unit.id,
    enrolledFrom: '2024-08-01',
  });
  // 2026-10-01 – 11-30.
  const round = await createRound(t, tenant.admin.token, tenant.topi, { name: 'Efterår 2026' });
  return { ...tenant, child, round };
}

function assess(t: EngineContext, token: string, body: Record<string, unknown>, headers = {}) {
  return t.call('POST', '/v1/assessments', { token, body, headers });
}

describeEngines('assessments', (t) => {
  it('records and classifies a topi-3 joint assessment, reproducibly', async () => {
    const s = await setup(t);
    const res = await assess(t, s.admin.token, {
      childId: s.child.id,
      unitId: s.unit.id,
      roundId: s.round.id,
      assessedOn: '2026-11-20',
      raters: [
        { ...raters[0], rating: { overallLevel: 1 } },
        { ...raters[1], rating: { overallLevel: 3 } },
      ],
      rating: { overallLevel: 2, answers: { social_skills: 2, self_esteem: 'na' } },
      justification: 'Trækker sig fra legen.',
      parentsInformed: true,
      childPerspective: 'Jeg vil gerne lege med Ida.',
    });
    expect(res.statusCode, res.body).toBe(201);
    const a = res.json() as Assessment;
    expect(res.headers.location).toBe(`/v1/assessments/${a.id}`);
    expect(a).toMatchObject({
      childId: s.child.id,
      unitId: s.unit.id,
      roundId: s.round.id,
      rulerVersionId: s.topi,
      rulerKey: 'topi-3',
      rulerVersion: 1,
      zone: 'yellow',
      level: 2,
      status: 'current',
      version: 1,
      lineageId: a.id,
      supersedesId: null,
      supersededById: null,
      parentsInformed: true,
      rating: { overallLevel: 2, answers: { social_skills: 2, self_esteem: 'na' } },
    });
    expect(a.explanation).toMatchObject({
      rule: 'assessor_position',
      outcome: 'classified',
      decisiveLevel: 2,
      answeredItems: 1,
      notApplicableItems: 1,
      disagreements: [{ subject: 'overall', levels: [1, 3] }],
    });
    expect(a.explanation.summary.length).toBeGreaterThan(10);
    const fetched = await t.call('GET', `/v1/assessments/${a.id}`, { token: s.admin.token });
    const { recommendation, ...assessment } = a as Assessment & { recommendation: unknown };
    expect(fetched.json()).toEqual(assessment);
    expect(recommendation).toMatchObject({ assessmentId: a.id, zone: 'yellow' });
  });

  it('red flags make the result red whatever the rating', async () => {
    const s = await setup(t);
    const res = await assess(
      t,
      s.admin.token,
      assessmentBody({
        childId: s.child.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-22',
        redFlags: ['violence'],
        parentsInformed: false,
      }),
    );
    expect(res.statusCode, res.body).toBe(201);
    expect(res.json()).toMatchObject({
      zone: 'red',
      redFlags: ['violence'],
      roundId: null,
      explanation: { outcome: 'red_flag', redFlags: ['violence'] },
    });
  });

  it('too few answered items gives no zone, never green', async () => {
    const s = await setup(t);
    const wellbeing = await presetVersionId(t, s.admin.token, 'wellbeing-1-5');
    const base = {
      childId: s.child.id,
      unitId: s.unit.id,
      rulerVersionId: wellbeing,
      assessedOn: '2026-11-01',
      raters: [raters[0]],
      parentsInformed: true,
    };
    const few = await assess(t, s.admin.token, {
      ...base,
      rating: { answers: { happy: 5, safe: 5, has_friends: 5, takes_part: 'na', curious: 'na' } },
    });
    expect(few.statusCode, few.body).toBe(201);
    expect(few.json()).toMatchObject({
      zone: null,
      level: null,
      explanation: { outcome: 'insufficient_data', answeredItems: 3, minAnsweredItems: 4 },
    });
    const enough = await assess(t, s.admin.token, {
      ...base,
      rating: { answers: { happy: 4, safe: 4, has_friends: 3, takes_part: 3, curious: 'na' } },
    });
    expect(enough.json()).toMatchObject({ zone: 'yellow', score: 3.5 });
  });

  it('422 naming every bad field, and nothing written', async () => {
    const s = await setup(t);
    const res = await assess(t, s.admin.token, {
      childId: s.child.id,
      unitId: s.unit.id,
      roundId: s.round.id,
      rulerVersionId: await presetVersionId(t, s.admin.token, 'boernelineal-5'),
      assessedOn: '2026-12-01',
      raters: [{ ...raters[0], rating: { overallLevel: 7 } }],
      rating: { overallLevel: 4, answers: { unknown_item: 1 } },
      redFlags: ['fire'],
      parentsInformed: true,
    });
    const problem = expectProblem(res, 422);
    const paths = problem.errors?.map((e) => `${e.path}:${e.code}`);
    expect(paths).toEqual(
      expect.arrayContaining([
        'body.assessedOn:future_date',
        'body.assessedOn:outside_round_window',
        'body.rulerVersionId:not_the_rounds_ruler',
        'body.raters:too_few_raters',
        'body.rating.overallLevel:unknown_level',
        'body.rating.answers.unknown_item:unknown_item',
        'body.redFlags.0:unknown_red_flag',
        'body.raters.0.rating.overallLevel:unknown_level',
      ]),
    );
    const timeline = await t.call('GET', `/v1/children/${s.child.id}/timeline`, {
      token: s.admin.token,
    });
    expect(timeline.json().items).toEqual([]);
  });

  it('422 outside the enrolment, N/A where not allowed, no ruler without a round', async () => {
    const s = await setup(t);
    const base = { childId: s.child.id, unitId: s.unit.id, raters, parentsInformed: true };
    const before = await assess(t, s.admin.token, {
      ...base,
      rulerVersionId: s.topi,
      assessedOn: '2024-07-31',
      rating: { overallLevel: 1 },
    });
    expect(expectProblem(before, 422).errors?.map((e) => e.code)).toEqual(['outside_enrolment']);
    const noRuler = await assess(t, s.admin.token, {
      ...base,
      assessedOn: '2026-11-01',
      rating: { overallLevel: 1 },
    });
    expect(expectProblem(noRuler, 422).errors?.map((e) => e.path)).toEqual(['body.rulerVersionId']);
    const sos = await presetVersionId(t, s.admin.token, 'signs-of-safety-0-10');
    const overall = await assess(t, s.admin.token, {
      ...base,
      rulerVersionId: sos,
      assessedOn: '2026-11-01',
      rating: { overallLevel: 11 },
    });
    expect(expectProblem(overall, 422).errors?.map((e) => e.path)).toEqual([
      'body.rating.overallLevel',
    ]);
  });

  it("404 for another municipality's child or unit, 403 for a unit outside the key's units", async () => {
    const s = await setup(t);
    const other = await setup(t);
    const body = (childId: string, unitId: string) =>
      assessmentBody({ childId, unitId, rulerVersionId: s.topi });
    expectProblem(await assess(t, s.admin.token, body(other.child.id, s.unit.id)), 404);
    expectProblem(await assess(t, s.admin.token, body(s.child.id, other.unit.id)), 404);
    const unitB = await createUnit(t, s.admin.token);
    const staffB = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [unitB.id],
    });
    // The child (in unit A) is invisible to unit B's staff.
    expectProblem(await assess(t, staffB.token, body(s.child.id, s.unit.id)), 404);
    const staffA = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    expectProblem(await assess(t, staffA.token, body(s.child.id, unitB.id)), 403);
    const ok = await assess(t, staffA.token, body(s.child.id, s.unit.id));
    expect(ok.statusCode, ok.body).toBe(201);
    const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
    expectProblem(
      await t.call('GET', `/v1/assessments/${ok.json().id}`, { token: analyst.token }),
      403,
    );
  });

  it('one current assessment per child, unit and round: a second one is 409', async () => {
    const s = await setup(t);
    const body = assessmentBody({ childId: s.child.id, unitId: s.unit.id, roundId: s.round.id });
    const first = await assess(t, s.admin.token, body);
    expect(first.statusCode).toBe(201);
    const second = await assess(t, s.admin.token, body);
    expect(expectProblem(second, 409).detail).toContain(first.json().id);
  });

  it('corrections create a new version that supersedes the old; history keeps both', async () => {
    const s = await setup(t);
    const body = {
      unitId: s.unit.id,
      roundId: s.round.id,
      assessedOn: '2026-11-01',
      raters,
      rating: { overallLevel: 1 },
      parentsInformed: true,
    };
    const v1 = (await assess(t, s.admin.token, { ...body, childId: s.child.id })).json();
    t.clock.advance(60_000);
    const res = await t.call('POST', `/v1/assessments/${v1.id}/corrections`, {
      token: s.admin.token,
      body: { ...body, rating: { overallLevel: 3 }, reason: 'Forkert niveau tastet.' },
    });
    expect(res.statusCode, res.body).toBe(201);
    const v2 = res.json();
    expect(v2).toMatchObject({
      version: 2,
      lineageId: v1.id,
      supersedesId: v1.id,
      correctionReason: 'Forkert niveau tastet.',
      zone: 'red',
      status: 'current',
    });
    const old = (await t.call('GET', `/v1/assessments/${v1.id}`, { token: s.admin.token })).json();
    expect(old).toMatchObject({
      status: 'superseded',
      supersededById: v2.id,
      zone: 'green',
      statusChangedAt: t.clock.now().toISOString(),
    });
    const history = (
      await t.call('GET', `/v1/assessments/${v2.id}/history`, { token: s.admin.token })
    ).json();
    expect(history.items.map((a: Assessment) => [a.version, a.status])).toEqual([
      [1, 'superseded'],
      [2, 'current'],
    ]);
    const again = await t.call('POST', `/v1/assessments/${v1.id}/corrections`, {
      token: s.admin.token,
      body: { ...body, reason: 'x' },
    });
    expectProblem(again, 409);
    const noReason = await t.call('POST', `/v1/assessments/${v2.id}/corrections`, {
      token: s.admin.token,
      body,
    });
    expectProblem(noReason, 400);
  });

  it('withdrawal keeps the row with its reason; the timeline hides it unless asked', async () => {
    const s = await setup(t);
    const base = { childId: s.child.id, unitId: s.unit.id, rulerVersionId: s.topi };
    const later = await createAssessment(t, s.admin.token, {
      ...base,
      assessedOn: '2026-06-01',
      rating: { overallLevel: 2 },
    });
    const earlier = await createAssessment(t, s.admin.token, {
      ...base,
      assessedOn: '2025-11-01',
      rating: { overallLevel: 1 },
    });
    const withdrawn = await t.call('POST', `/v1/assessments/${later.id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Registreret på forkert barn.' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json()).toMatchObject({
      status: 'withdrawn',
      withdrawalReason: 'Registreret på forkert barn.',
    });
    expectProblem(
      await t.call('POST', `/v1/assessments/${later.id}/withdraw`, {
        token: s.admin.token,
        body: { reason: 'again' },
      }),
      409,
    );
    const timeline = (
      await t.call('GET', `/v1/children/${s.child.id}/timeline`, { token: s.admin.token })
    ).json();
    expect(timeline.items.map((a: Assessment) => a.id)).toEqual([earlier.id]);
    const all = (
      await t.call('GET', `/v1/children/${s.child.id}/timeline?includeWithdrawn=true`, {
        token: s.admin.token,
      })
    ).json();
    expect(all.items.map((a: Assessment) => [a.assessedOn, a.status, a.zone])).toEqual([
      ['2025-11-01', 'current', 'green'],
      ['2026-06-01', 'withdrawn', 'yellow'],
    ]);
  });

  it("a unit-limited key's timeline shows only its own unit's assessments", async () => {
    const s = await setup(t);
    const school = await createUnit(t, s.admin.token, { kind: 'after_school' });
    await t.call('POST', `/v1/children/${s.child.id}/enrolments`, {
      token: s.admin.token,
      body: { unitId: school.id, startDate: '2026-01-01' },
    });
    const body = { childId: s.child.id, rulerVersionId: s.topi };
    await createAssessment(t, s.admin.token, {
      ...body,
      unitId: s.unit.id,
      assessedOn: '2026-03-01',
      rating: { overallLevel: 1 },
    });
    await createAssessment(t, s.admin.token, {
      ...body,
      unitId: school.id,
      assessedOn: '2026-04-01',
      rating: { overallLevel: 2 },
    });
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [school.id],
    });
    const own = (
      await t.call('GET', `/v1/children/${s.child.id}/timeline`, { token: staff.token })
    ).json();
    expect(own.items.map((a: Assessment) => a.unitId)).toEqual([school.id]);
    const admin = (
      await t.call('GET', `/v1/children/${s.child.id}/timeline`, { token: s.admin.token })
    ).json();
    expect(admin.items.map((a: Assessment) => a.assessedOn)).toEqual(['2026-03-01', '2026-04-01']);
  });

  it('a correction without roundId keeps the round; content is frozen in the database', async () => {
    const s = await setup(t);
    const body = {
      unitId: s.unit.id,
      assessedOn: '2026-11-01',
      raters,
      rating: { overallLevel: 1 },
      parentsInformed: true,
    };
    const v1 = (
      await assess(t, s.admin.token, { ...body, childId: s.child.id, roundId: s.round.id })
    ).json();
    const v2 = await t.call('POST', `/v1/assessments/${v1.id}/corrections`, {
      token: s.admin.token,
      body: { ...body, rating: { overallLevel: 2 }, reason: 'Niveau rettet.' },
    });
    expect(v2.statusCode, v2.body).toBe(201);
    expect(v2.json().roundId).toBe(s.round.id);
    const v3 = await t.call('POST', `/v1/assessments/${v2.json().id}/corrections`, {
      token: s.admin.token,
      body: { ...body, roundId: null, rulerVersionId: s.topi, reason: 'Ikke del af runden.' },
    });
    expect(v3.statusCode, v3.body).toBe(201);
    expect(v3.json().roundId).toBeNull();
    // Even the application's own database role cannot rewrite what was assessed.
    await expect(
      t.database.transaction({ kind: 'municipality', municipalityId: s.municipality.id }, (trx) =>
        trx.updateTable('assessments').set({ zone: 'red' }).where('id', '=', v1.id).execute(),
      ),
    ).rejects.toThrow(/immutable/);
  });

  it('a key that can no longer see the child cannot withdraw its assessments (404)', async () => {
    const s = await setup(t);
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const made = await createAssessment(t, staff.token, {
      childId: s.child.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
    });
    const enrolment = (
      await t.call('GET', `/v1/children/${s.child.id}/enrolments`, { token: s.admin.token })
    ).json().items[0];
    const ended = await t.call('PATCH', `/v1/children/${s.child.id}/enrolments/${enrolment.id}`, {
      token: s.admin.token,
      body: { endDate: '2026-11-10' },
    });
    expect(ended.statusCode, ended.body).toBe(200);
    expectProblem(await t.call('GET', `/v1/assessments/${made.id}`, { token: staff.token }), 404);
    expectProblem(
      await t.call('POST', `/v1/assessments/${made.id}/withdraw`, {
        token: staff.token,
        body: { reason: 'x' },
      }),
      404,
    );
    const still = await t.call('GET', `/v1/assessments/${made.id}`, { token: s.admin.token });
    expect(still.json().status).toBe('current');
  });
});
