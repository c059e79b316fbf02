import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/**
 * The child's own voice (issue 18, point 3): a self-report of a child aged 10–16, recorded
 * apart from the professionals' assessment and seen only as far as the purpose stated to the
 * child allows. The test clock's today is 2026-11-22.
 */

const GOOD = {
  happy_at_school: 5,
  has_friends: 4,
  feels_safe: 4,
  adults_listen: 5,
  likes_myself: 4,
  good_at_home: 4,
};
const LOW = {
  happy_at_school: 2,
  has_friends: 3,
  feels_safe: 2,
  adults_listen: 3,
  likes_myself: 'na',
  good_at_home: 2,
};
const QUESTION_KEYS = Object.keys(GOOD);

type Report = Record<string, unknown> & { id: string; view: string; purpose: string };

async function setup(t: EngineContext) {
  t.clock.set('2026-11-22T09:00:00.000Z');
  const s = await createScreeningTenant(t);
  const m = s.municipality.id;
  const otherUnit = await createUnit(t, s.admin.token);
  const key = (role: 'unit_staff' | 'unit_leader', unitId: string) =>
    createKey(t, m, role, { unitIds: [unitId], token: s.admin.token });
  const staff = await key('unit_staff', s.unit.id);
  const leader = await key('unit_leader', s.unit.id);
  const otherStaff = await key('unit_staff', otherUnit.id);
  const social = await createKey(t, m, 'social_worker', { token: s.admin.token });
  const otherSocial = await createKey(t, m, 'social_worker', { token: s.admin.token });
  const analyst = await createKey(t, m, 'analyst', { token: s.admin.token });
  const integration = await createKey(t, m, 'integration', { token: s.admin.token });
  const foreign = await createTenant(t);
  // Twelve on the test clock's day, enrolled in the unit.
  const child = await createChild(t, s.admin.token, {
    birthDate: '2014-03-15',
    unitId: s.unit.id,
    enrolledFrom: '2024-08-01',
  });
  const assigned = await t.call('POST', `/v1/children/${child.id}/social-workers`, {
    token: s.admin.token,
    body: { principal: { kind: 'api_key', id: social.id } },
  });
  expect(assigned.statusCode, assigned.body).toBe(201);
  const report = (body: Record<string, unknown>, token = staff.token) =>
    t.call('POST', '/v1/self-reports', {
      token,
      body: {
        childId: child.id,
        unitId: s.unit.id,
        reportedOn: '2026-11-10',
        purpose: 'dialogue',
        answers: GOOD,
        presentAdult: { name: 'Anna Lærer', role: 'teacher' },
        ...body,
      },
    });
  const created = async (body: Record<string, unknown>, token = staff.token) => {
    const res = await report(body, token);
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Report;
  };
  const list = (token: string, childId = child.id) =>
    t.call('GET', `/v1/children/${childId}/self-reports`, { token });
  return {
    ...s,
    otherUnit,
    staff,
    leader,
    otherStaff,
    social,
    otherSocial,
    analyst,
    integration,
    foreign,
    child,
    report,
    created,
    list,
  };
}

describeEngines('self-reports', (t) => {
  it('records a self-report on the child ruler: zone, explanation, who was present', async () => {
    const s = await setup(t);
    const res = await s.report({ sharedWithParents: true });
    expect(res.statusCode, res.body).toBe(201);
    expect(res.headers.location).toBe(`/v1/self-reports/${res.json().id}`);
    expect(res.json()).toMatchObject({
      childId: s.child.id,
      unitId: s.unit.id,
      reportedOn: '2026-11-10',
      purpose: 'dialogue',
      rulerKey: 'self-report-10-16',
      rulerVersion: 1,
      view: 'full',
      answers: GOOD,
      zone: 'green',
      score: 4.33,
      sharedWithParents: true,
      presentAdult: { name: 'Anna Lærer', role: 'teacher' },
      createdBy: s.staff.id,
      explanation: { outcome: 'classified', answeredItems: 6, lowestAnswers: [], cappedFrom: null },
    });
    // One saddest face keeps it from green; skipped questions leave the denominator.
    const capped = await s.created({
      answers: { ...GOOD, has_friends: 5, feels_safe: 5, likes_myself: 5, good_at_home: 1 },
    });
    expect(capped).toMatchObject({
      zone: 'yellow',
      explanation: { cappedFrom: 'green', lowestAnswers: ['good_at_home'] },
    });
    const low = await s.created({ answers: LOW });
    expect(low).toMatchObject({ zone: 'red', score: 2.4, explanation: { skippedItems: 1 } });
    // Too few answered: no zone, never a falsely green one.
    const few = await s.created({
      answers: { happy_at_school: 5, has_friends: 5, feels_safe: 5, adults_listen: 'na' },
    });
    expect(few).toMatchObject({ zone: null, explanation: { outcome: 'insufficient_data' } });
    // The default shared-with-parents answer is no.
    expect((await s.created({})).sharedWithParents).toBe(false);

    // The rulers route shows the form: purposes first, questions and faces.
    const rulers = await t.call('GET', '/v1/self-report-rulers', { token: s.staff.token });
    expect(rulers.statusCode, rulers.body).toBe(200);
    expect(rulers.json().items[0]).toMatchObject({
      key: 'self-report-10-16',
      minAge: 10,
      maxAge: 16,
    });
    expect(rulers.json().items[0].questions.map((q: { key: string }) => q.key)).toEqual(
      QUESTION_KEYS,
    );
    expect(rulers.json().purposes.map((p: { purpose: string }) => p.purpose)).toEqual([
      'dialogue',
      'support',
      'statistics_only',
    ]);

    // Every write is audited.
    const audit = await t.call(
      'GET',
      `/v1/audit-log?resourceType=self_report&childId=${s.child.id}&action=create`,
      { token: s.admin.token },
    );
    expect(audit.statusCode, audit.body).toBe(200);
    expect(audit.json().items).toHaveLength(5);
  });

  it('refuses a child outside 10–16 on the day, at the exact birthdays', async () => {
    const s = await setup(t);
    const childBorn = (birthDate: string) =>
      createChild(t, s.admin.token, { birthDate, unitId: s.unit.id, enrolledFrom: '2024-08-01' });
    // Turns 10 on 2026-11-20.
    const young = await childBorn('2016-11-20');
    const nine = expectProblem(
      await s.report({ childId: young.id, reportedOn: '2026-11-19' }),
      422,
    );
    expect(nine.errors).toEqual([
      expect.objectContaining({ path: 'body.reportedOn', code: 'age' }),
    ]);
    expect((await s.report({ childId: young.id, reportedOn: '2026-11-20' })).statusCode).toBe(201);
    // Turns 17 on 2026-11-21.
    const old = await childBorn('2009-11-21');
    expect((await s.report({ childId: old.id, reportedOn: '2026-11-20' })).statusCode).toBe(201);
    expectProblem(await s.report({ childId: old.id, reportedOn: '2026-11-21' }), 422);
  });

  it('refuses bad answers, a future day, a unit the child is not in, and every defect at once', async () => {
    const s = await setup(t);
    const bad = expectProblem(
      await s.report(
        {
          unitId: s.otherUnit.id,
          reportedOn: '2026-11-23',
          answers: { ...GOOD, happy_at_school: 6, unknown_question: 3 },
        },
        s.integration.token,
      ),
      422,
    );
    expect(bad.errors?.map((e) => [e.path, e.code]).sort()).toEqual(
      [
        ['body.answers.happy_at_school', 'unknown_level'],
        ['body.answers.unknown_question', 'unknown_item'],
        ['body.reportedOn', 'future_date'],
        ['body.unitId', 'not_enrolled'],
      ].sort(),
    );
    // The administrator does not record self-reports (403); nothing was written.
    expectProblem(await s.report({}, s.admin.token), 403);
    expect((await s.list(s.leader.token)).json().items).toEqual([]);
    // Statistics only is seen by no one, parents included.
    const shared = expectProblem(
      await s.report({ purpose: 'statistics_only', sharedWithParents: true }),
      422,
    );
    expect(shared.errors?.[0]?.path).toBe('body.sharedWithParents');
    // Another unit's staff may not record for this child (the child is not theirs: 404).
    expectProblem(await s.report({}, s.otherStaff.token), 404);
    // Unknown purpose: 400.
    expectProblem(await s.report({ purpose: 'casework' }), 400);
    // A key limited to other units: 403 for the unit named.
    const elsewhere = await createKey(t, s.municipality.id, 'unit_staff', {
      unitIds: [s.otherUnit.id],
      token: s.admin.token,
    });
    expectProblem(
      await s.report(
        {
          childId: (
            await createChild(t, s.admin.token, { birthDate: '2014-01-01', unitId: s.otherUnit.id })
          ).id,
        },
        elsewhere.token,
      ),
      403,
    );
    // Another municipality's integration: 404.
    const foreign = await createKey(t, s.foreign.municipality.id, 'integration', {
      token: s.foreign.admin.token,
    });
    expectProblem(await s.report({}, foreign.token), 404);
  });

  it('shows each report only to the audiences its purpose covers (roles × purposes)', async () => {
    const s = await setup(t);
    const dialogue = await s.created({ purpose: 'dialogue', reportedOn: '2026-11-10' });
    const support = await s.created({ purpose: 'support', reportedOn: '2026-11-12' });
    const statistics = await s.created({ purpose: 'statistics_only', reportedOn: '2026-11-14' });
    // The recorder of a statistics-only report gets only its existence back.
    expect(statistics).toMatchObject({ view: 'existence', answers: null, zone: null, score: null });
    const byIntegration = await s.created({ purpose: 'dialogue' }, s.integration.token);
    expect(byIntegration).toMatchObject({ view: 'existence', answers: null, zone: null });

    const ids = { dialogue: dialogue.id, support: support.id, statistics: statistics.id };
    type Expected = Record<keyof typeof ids, 'full' | 'existence' | null> | number;
    const matrix: [string, string, Expected][] = [
      ['unit_staff', s.staff.token, { dialogue: 'full', support: 'full', statistics: null }],
      ['unit_leader', s.leader.token, { dialogue: 'full', support: 'full', statistics: null }],
      [
        'involved social worker',
        s.social.token,
        { dialogue: null, support: 'full', statistics: null },
      ],
      [
        'administrator',
        s.admin.token,
        { dialogue: 'existence', support: 'existence', statistics: null },
      ],
      ['other unit', s.otherStaff.token, 404],
      ['uninvolved social worker', s.otherSocial.token, 404],
      ['other municipality', s.foreign.admin.token, 404],
      ['analyst', s.analyst.token, 403],
      ['integration', s.integration.token, 403],
    ];
    for (const [who, token, expected] of matrix) {
      const res = await s.list(token);
      if (typeof expected === 'number') {
        expectProblem(res, expected);
        for (const id of Object.values(ids)) {
          const one = await t.call('GET', `/v1/self-reports/${id}`, { token });
          expect(one.statusCode, `${who} ${id}`).toBe(expected);
        }
        continue;
      }
      expect(res.statusCode, `${who}: ${res.body}`).toBe(200);
      const items = res.json().items as Report[];
      for (const [purpose, view] of Object.entries(expected)) {
        const id = ids[purpose as keyof typeof ids];
        const item = items.find((i) => i.id === id);
        const one = await t.call('GET', `/v1/self-reports/${id}`, { token });
        if (view === null) {
          expect(item, `${who} must not see ${purpose}`).toBeUndefined();
          expect(one.statusCode, `${who} ${purpose}`).toBe(404);
          continue;
        }
        expect(item?.view, `${who} ${purpose}`).toBe(view);
        expect(one.statusCode, `${who} ${purpose}`).toBe(200);
        expect(one.json().view).toBe(view);
        if (view === 'existence') {
          expect(one.json()).toMatchObject({
            answers: null,
            zone: null,
            score: null,
            explanation: null,
          });
        } else {
          expect(one.json()).toMatchObject({ answers: GOOD, zone: 'green' });
        }
      }
      // Nothing of a statistics-only report, not even its existence, reaches a case view.
      expect(res.body).not.toContain(statistics.id);
    }

    // Reads are audited, with what was shown.
    const audit = await t.call(
      'GET',
      `/v1/audit-log?resourceType=self_report&childId=${s.child.id}&action=read`,
      { token: s.admin.token },
    );
    expect(audit.json().items.length).toBeGreaterThan(0);
  });

  it("puts the child's own zone beside the assessment where the purpose allows", async () => {
    const s = await setup(t);
    const assessment = await createAssessment(t, s.admin.token, {
      childId: s.child.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      assessedOn: '2026-11-01',
    });
    // The submission is not changed: no self-report there.
    expect(assessment).not.toHaveProperty('selfReport');
    const view = async (token: string) => {
      const res = await t.call('GET', `/v1/assessments/${assessment.id}`, { token });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().selfReport;
    };
    expect(await view(s.staff.token)).toBeUndefined();
    // Nearest in date first: a statistics report nearest of all is never shown.
    const statistics = await s.created({ purpose: 'statistics_only', reportedOn: '2026-11-02' });
    const dialogue = await s.created({
      purpose: 'dialogue',
      reportedOn: '2026-11-05',
      answers: LOW,
    });
    const support = await s.created({ purpose: 'support', reportedOn: '2026-11-09' });
    // Too far away (more than 60 days): never beside this assessment.
    await s.created({ purpose: 'support', reportedOn: '2026-01-02', answers: LOW }, s.leader.token);

    expect(await view(s.staff.token)).toEqual({
      exists: true,
      id: dialogue.id,
      reportedOn: '2026-11-05',
      purpose: 'dialogue',
      zone: 'red',
      view: 'full',
    });
    expect(await view(s.social.token)).toMatchObject({
      id: support.id,
      zone: 'green',
      view: 'full',
    });
    expect(await view(s.admin.token)).toEqual({
      exists: true,
      id: dialogue.id,
      reportedOn: '2026-11-05',
      purpose: 'dialogue',
      zone: null,
      view: 'existence',
    });
    expect(await view(s.integration.token)).toBeUndefined();
    for (const token of [s.staff.token, s.social.token, s.admin.token, s.integration.token]) {
      const res = await t.call('GET', `/v1/assessments/${assessment.id}`, { token });
      expect(res.body).not.toContain(statistics.id);
    }
    // The timeline and the change list carry no self-reports.
    const timeline = await t.call('GET', `/v1/children/${s.child.id}/timeline`, {
      token: s.staff.token,
    });
    expect(timeline.body).not.toContain('selfReport');
    expect(timeline.body).not.toContain(dialogue.id);
  });

  it('keeps self-reports out of exports, events and the assessment aggregates', async () => {
    const s = await setup(t);
    await createAssessment(t, s.admin.token, {
      childId: s.child.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      assessedOn: '2026-11-01',
    });
    const events = async () => {
      const res = await t.call('GET', '/v1/events?limit=500', { token: s.admin.token });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items as { type: string; subjectId: string }[];
    };
    const before = await events();
    const reports = [
      await s.created({ purpose: 'dialogue' }),
      await s.created({ purpose: 'support' }),
      await s.created({ purpose: 'statistics_only' }),
    ];
    const after = await events();
    expect(after).toEqual(before);

    const detailed = await t.call('GET', '/v1/exports/detailed/assessments.ndjson', {
      token: s.admin.token,
    });
    expect(detailed.statusCode, detailed.body).toBe(200);
    expect(detailed.body.trim().split('\n')).toHaveLength(1);
    const answers = await t.call('GET', '/v1/exports/answers.ndjson', { token: s.analyst.token });
    expect(answers.statusCode, answers.body).toBe(200);
    for (const body of [detailed.body, answers.body]) {
      for (const key of QUESTION_KEYS) expect(body).not.toContain(key);
      for (const r of reports) expect(body).not.toContain(r.id);
      expect(body).not.toContain('self-report');
    }
  });

  it('counts only statistics-only reports in the anonymous aggregates, suppressed', async () => {
    const s = await setup(t);
    const children = [];
    for (let i = 0; i < 5; i++) {
      children.push(
        await createChild(t, s.admin.token, {
          birthDate: '2014-01-10',
          unitId: s.unit.id,
          enrolledFrom: '2024-08-01',
        }),
      );
    }
    for (const c of children) {
      await s.created({ childId: c.id, purpose: 'statistics_only' });
    }
    // A child counted once: its latest report in the period.
    await s.created({
      childId: children[0]?.id,
      purpose: 'statistics_only',
      reportedOn: '2026-11-01',
      answers: LOW,
    });
    // Reports for dialogue or support never count.
    for (const c of children) await s.created({ childId: c.id, purpose: 'dialogue', answers: LOW });
    await s.created({ purpose: 'support', answers: LOW });
    const stats = await t.call('GET', '/v1/self-reports/statistics?from=2026-10-01&to=2026-11-30', {
      token: s.analyst.token,
    });
    expect(stats.statusCode, stats.body).toBe(200);
    const body = stats.json();
    expect(body.purpose).toBe('statistics_only');
    expect(body.rows.find((r: { age: number }) => r.age === 12)).toEqual({
      age: 12,
      green: 5,
      yellow: 0,
      red: 0,
      noZone: 0,
      total: 5,
    });
    expect(body.totals).toMatchObject({ green: 5, red: 0, total: 5 });
    // Individual readers get no aggregates; an empty period is refused.
    expectProblem(
      await t.call('GET', '/v1/self-reports/statistics?from=2026-10-01&to=2026-11-30', {
        token: s.staff.token,
      }),
      403,
    );
    expectProblem(
      await t.call('GET', '/v1/self-reports/statistics?from=2026-11-30&to=2026-10-01', {
        token: s.analyst.token,
      }),
      422,
    );
    // Year 0000 is no date in PostgreSQL: refused as input, never a 500.
    expectProblem(
      await t.call('GET', '/v1/self-reports/statistics?from=0000-01-01&to=2026-11-30', {
        token: s.analyst.token,
      }),
      400,
    );
    // A single child is suppressed.
    await s.created({ purpose: 'statistics_only', answers: LOW });
    const one = await t.call('GET', '/v1/self-reports/statistics?from=2026-10-01&to=2026-11-30', {
      token: s.analyst.token,
    });
    const age12 = one.json().rows.find((r: { age: number }) => r.age === 12);
    expect(age12.red).toBeNull();
    expect(one.body).not.toContain(s.child.id);
  });

  it('is in the dossier whatever its purpose, and erased with the child', async () => {
    const s = await setup(t);
    await s.created({ purpose: 'dialogue' });
    await s.created({ purpose: 'support' });
    await s.created({ purpose: 'statistics_only' });
    const dossier = await t.call('GET', `/v1/children/${s.child.id}/dossier`, {
      token: s.admin.token,
    });
    expect(dossier.statusCode, dossier.body).toBe(200);
    const rows = dossier.json().selfReports as { purpose: string; zone: string }[];
    expect(rows.map((r) => r.purpose).sort()).toEqual(['dialogue', 'statistics_only', 'support']);
    expect(rows.every((r) => r.zone === 'green')).toBe(true);

    const erased = await t.call('DELETE', `/v1/children/${s.child.id}`, {
      token: s.admin.token,
      body: { reason: 'Anmodning om sletning' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    expect(erased.json().deleted).toMatchObject({ children: 1, self_reports: 3 });
    const left = await t.asOwner((db) =>
      db.selectFrom('self_reports').select('id').where('child_id', '=', s.child.id).execute(),
    );
    expect(left).toEqual([]);
  });
});
