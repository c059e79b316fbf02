import { expect, it } from 'vitest';
import type { StepTask } from '../../src/features/recommendations/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];

type Screening = Awaited<ReturnType<typeof createScreeningTenant>>;

async function assess(
  t: EngineContext,
  s: Screening,
  childId: string,
  unitId: string,
  assessedOn: string,
  level: number,
) {
  const res = await t.call('POST', '/v1/assessments', {
    token: s.admin.token,
    body: {
      childId,
      unitId,
      rulerVersionId: s.topi,
      assessedOn,
      raters,
      parentsInformed: true,
      rating: { overallLevel: level },
      justification: `Vurdering ${assessedOn}.`,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

const items = async (t: EngineContext, url: string, token: string) => {
  const res = await t.call('GET', url, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
};

describeEngines('visibility: duties outlive enrolments; social workers see their cases', (t) => {
  it('a unit keeps a child who left while its steps are open, and sees nothing recorded after', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2024-08-01',
    });
    const bystander = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const red = await assess(t, s, child.id, s.unit.id, '2026-11-20', 3);
    const staffA = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const leaderA = await createKey(t, s.municipality.id, 'unit_leader', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });

    // The family moves away the day after the red assessment; the new unit assesses the child.
    const unitB = await createUnit(t, s.admin.token, { kind: 'kindergarten' });
    const [enrolment] = await items(t, `/v1/children/${child.id}/enrolments`, s.admin.token);
    const ended = await t.call('PATCH', `/v1/children/${child.id}/enrolments/${enrolment.id}`, {
      token: s.admin.token,
      body: { endDate: '2026-11-21' },
    });
    expect(ended.statusCode, ended.body).toBe(200);
    const moved = await t.call('POST', `/v1/children/${child.id}/enrolments`, {
      token: s.admin.token,
      body: { unitId: unitB.id, startDate: '2026-11-22' },
    });
    expect(moved.statusCode, moved.body).toBe(201);
    const later = await assess(t, s, child.id, unitB.id, '2026-11-22', 2);
    const laterConsent = await t.call('POST', `/v1/children/${child.id}/consents`, {
      token: s.admin.token,
      body: {
        purpose: 'interdisciplinary_sharing',
        categories: ['assessments'],
        givenBy: { name: 'Mette Jensen', relation: 'parent' },
        givenOn: '2026-11-22',
        recipient: { unitId: unitB.id },
      },
    });
    expect(laterConsent.statusCode, laterConsent.body).toBe(201);

    const open = (red.recommendation.steps as StepTask[]).filter((st) => st.status === 'open');
    expect(open.map((st) => st.stepKey)).toEqual(
      expect.arrayContaining(['involve_unit_leader', 'concern_report']),
    );

    // What the old unit can read: the child, its own steps, its own assessment…
    for (const key of [staffA, leaderA]) {
      expect(
        (await t.call('GET', `/v1/children/${child.id}`, { token: key.token })).statusCode,
      ).toBe(200);
      const worklist = await items(t, '/v1/worklist?limit=200', key.token);
      expect(new Set(worklist.map((i: StepTask) => i.id))).toEqual(
        new Set(open.map((st) => st.id)),
      );
      const listed = await items(t, '/v1/children?limit=200', key.token);
      expect(listed.map((c: { id: string }) => c.id).sort()).toEqual(
        [child.id, bystander.id].sort(),
      );
    }
    const timeline = await t.call('GET', `/v1/children/${child.id}/timeline`, {
      token: staffA.token,
    });
    expect(timeline.statusCode, timeline.body).toBe(200);
    expect(timeline.json().items.map((a: { id: string }) => a.id)).toEqual([red.id]);
    // …but nothing recorded after the child left: not even a count of what is withheld.
    expect(timeline.json().withheld).toBeNull();
    expectProblem(await t.call('GET', `/v1/assessments/${later.id}`, { token: staffA.token }), 404);
    expectProblem(
      await t.call('GET', `/v1/assessments/${later.id}/recommendation`, { token: staffA.token }),
      404,
    );
    expect(await items(t, `/v1/children/${child.id}/consents`, staffA.token)).toEqual([]);
    expectProblem(
      await t.call('GET', `/v1/children/${child.id}/consents/${laterConsent.json().id}`, {
        token: staffA.token,
      }),
      404,
    );
    const enrolments = await items(t, `/v1/children/${child.id}/enrolments`, staffA.token);
    expect(enrolments.map((e: { unitId: string }) => e.unitId)).toEqual([s.unit.id]);

    // It may not change what is recorded about the child: re-enrolling it, recording a consent
    // or an assessment would give it back what it no longer may see.
    const as = (body: unknown) => ({ token: leaderA.token, body });
    expectProblem(await t.call('PATCH', `/v1/children/${child.id}`, as({ givenName: 'Ny' })), 404);
    expectProblem(
      await t.call(
        'POST',
        `/v1/children/${child.id}/enrolments`,
        as({ unitId: s.unit.id, startDate: '2026-11-23' }),
      ),
      404,
    );
    expectProblem(
      await t.call(
        'POST',
        `/v1/children/${child.id}/consents`,
        as({
          purpose: 'interdisciplinary_sharing',
          categories: ['assessments'],
          givenBy: { name: 'Mette Jensen', relation: 'parent' },
          givenOn: '2026-11-22',
          recipient: { unitId: s.unit.id },
        }),
      ),
      404,
    );
    expectProblem(
      await t.call(
        'POST',
        '/v1/assessments',
        as({
          childId: child.id,
          unitId: s.unit.id,
          rulerVersionId: s.topi,
          assessedOn: '2026-11-21',
          raters,
          parentsInformed: true,
          rating: { overallLevel: 2 },
        }),
      ),
      404,
    );
    expectProblem(
      await t.call('POST', `/v1/assessments/${red.id}/withdraw`, as({ reason: 'Fejl.' })),
      404,
    );

    // It completes its steps and records the concern report (a personal duty, § 133).
    const leaderStep = open.find((st) => st.stepKey === 'involve_unit_leader') as StepTask;
    const done = await t.call('PATCH', `/v1/steps/${leaderStep.id}`, {
      token: leaderA.token,
      body: { status: 'done' },
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(done.json()).toMatchObject({ id: leaderStep.id, status: 'done' });
    const report = await t.call('POST', `/v1/children/${child.id}/concern-reports`, {
      token: staffA.token,
      body: { reportedOn: '2026-11-22', reportedBy: { name: 'Anna', role: 'unit_staff' } },
    });
    expect(report.statusCode, report.body).toBe(201);
    expect(report.json().completedStepIds).toHaveLength(1);
    for (const st of open) {
      if (st.stepKey === 'involve_unit_leader' || st.purpose === 'concern_report') continue;
      const closed = await t.call('PATCH', `/v1/steps/${st.id}`, {
        token: staffA.token,
        body: { status: 'done' },
      });
      expect(closed.statusCode, closed.body).toBe(200);
    }

    // All closed: the child is gone from the old unit's view again.
    expect(await items(t, '/v1/worklist?limit=200', staffA.token)).toEqual([]);
    expectProblem(await t.call('GET', `/v1/children/${child.id}`, { token: staffA.token }), 404);
    expectProblem(
      await t.call('GET', `/v1/children/${child.id}/timeline`, { token: staffA.token }),
      404,
    );
    expectProblem(
      await t.call('PATCH', `/v1/steps/${leaderStep.id}`, {
        token: staffA.token,
        body: { status: 'open', reason: 'Fortryd.' },
      }),
      404,
    );
    const listed = await items(t, '/v1/children?limit=200', staffA.token);
    expect(listed.map((c: { id: string }) => c.id)).toEqual([bystander.id]);
  });

  it('a social worker sees a child once a step or concern report involves social work, not before', async () => {
    const s = await createScreeningTenant(t);
    const social = await createKey(t, s.municipality.id, 'social_worker', { token: s.admin.token });
    const green = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const yellow = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const reported = await createChild(t, s.admin.token, { unitId: s.unit.id });
    await assess(t, s, green.id, s.unit.id, '2026-11-20', 1);
    const before = (await assess(t, s, yellow.id, s.unit.id, '2026-11-19', 1)).recommendation;
    expect(before.zone).toBe('green');

    const ids = async () =>
      (await items(t, '/v1/children?limit=200', social.token)).map((c: { id: string }) => c.id);
    // Nobody has raised a concern: the social worker sees no child at all.
    expect(await ids()).toEqual([]);
    for (const c of [green, yellow, reported]) {
      expectProblem(await t.call('GET', `/v1/children/${c.id}`, { token: social.token }), 404);
      expectProblem(
        await t.call('GET', `/v1/children/${c.id}/timeline`, { token: social.token }),
        404,
      );
      expectProblem(
        await t.call('GET', `/v1/children/${c.id}/concern-reports`, { token: social.token }),
        404,
      );
    }

    // Yellow: the action guide suggests sparring with a school social worker.
    const concern = await assess(t, s, yellow.id, s.unit.id, '2026-11-21', 2);
    expect(
      (concern.recommendation.steps as StepTask[]).some(
        (st) =>
          st.responsible === 'school_social_worker' ||
          st.involve.includes('school_social_worker') ||
          st.involve.includes('child_services'),
      ),
    ).toBe(true);
    // A concern report recorded without a step (e.g. an acute report) involves child services.
    const report = await t.call('POST', `/v1/children/${reported.id}/concern-reports`, {
      token: s.admin.token,
      body: { reportedOn: '2026-11-21', reportedBy: { name: 'Bo', role: 'unit_leader' } },
    });
    expect(report.statusCode, report.body).toBe(201);

    expect((await ids()).sort()).toEqual([yellow.id, reported.id].sort());
    for (const c of [yellow, reported]) {
      expect(
        (await t.call('GET', `/v1/children/${c.id}`, { token: social.token })).statusCode,
      ).toBe(200);
      expect(
        (await t.call('GET', `/v1/children/${c.id}/timeline`, { token: social.token })).statusCode,
      ).toBe(200);
    }
    expect(
      await items(t, `/v1/children/${reported.id}/concern-reports`, social.token),
    ).toHaveLength(1);
    // The uninvolved child stays out of every read.
    const greenAssessment = (await items(t, `/v1/children/${green.id}/timeline`, s.admin.token))[0];
    expectProblem(
      await t.call('GET', `/v1/assessments/${greenAssessment.id}`, { token: social.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/children/${green.id}/enrolments`, { token: social.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/children/${green.id}/consents`, { token: social.token }),
      404,
    );
    const flags = await items(t, '/v1/flags?status=all&limit=200', social.token);
    expect(flags.every((f: { childId: string }) => f.childId !== green.id)).toBe(true);
    const worklist = await items(t, '/v1/worklist?limit=200', social.token);
    expect(worklist.every((i: StepTask) => i.childId === yellow.id)).toBe(true);
  });

  it('an administrator or the unit leader assigns a social worker explicitly (audited)', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const social = await createKey(t, s.municipality.id, 'social_worker', { token: s.admin.token });
    const other = await createKey(t, s.municipality.id, 'social_worker', { token: s.admin.token });
    const leader = await createKey(t, s.municipality.id, 'unit_leader', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const elsewhere = await createKey(t, s.municipality.id, 'unit_leader', {
      token: s.admin.token,
      unitIds: [(await createUnit(t, s.admin.token)).id],
    });
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    const url = `/v1/children/${child.id}/social-workers`;
    const assign = (token: string, principal: unknown) =>
      t.call('POST', url, { token, body: { principal } });
    const sees = async (token: string) =>
      (await t.call('GET', `/v1/children/${child.id}`, { token })).statusCode;

    expect(await sees(social.token)).toBe(404);
    // Who may not assign: staff and social workers (403), a leader of another unit (404).
    expectProblem(await assign(staff.token, { kind: 'api_key', id: social.id }), 403);
    expectProblem(await assign(social.token, { kind: 'api_key', id: social.id }), 403);
    expectProblem(await assign(elsewhere.token, { kind: 'api_key', id: social.id }), 404);
    // Only a social_worker key of the municipality can be assigned.
    const notSocial = expectProblem(
      await assign(s.admin.token, { kind: 'api_key', id: staff.id }),
      422,
    );
    expect(notSocial.errors?.[0]?.path).toBe('body.principal.id');
    expectProblem(await assign(s.admin.token, { kind: 'api_key', id: 'x' }), 422);

    const created = await assign(leader.token, { kind: 'api_key', id: social.id });
    expect(created.statusCode, created.body).toBe(201);
    const assignment = created.json();
    expect(assignment).toMatchObject({
      childId: child.id,
      principal: { kind: 'api_key', id: social.id },
      createdBy: leader.id,
    });
    expectProblem(await assign(s.admin.token, { kind: 'api_key', id: social.id }), 409);
    expect((await items(t, url, s.admin.token)).map((a: { id: string }) => a.id)).toEqual([
      assignment.id,
    ]);

    // The assigned social worker sees the child (list, timeline); another one does not.
    expect(await sees(social.token)).toBe(200);
    expect(
      (await items(t, '/v1/children?limit=200', social.token)).map((c: { id: string }) => c.id),
    ).toEqual([child.id]);
    expect(
      (await t.call('GET', `/v1/children/${child.id}/timeline`, { token: social.token }))
        .statusCode,
    ).toBe(200);
    expect(await sees(other.token)).toBe(404);

    const removed = await t.call('DELETE', `${url}/${assignment.id}`, { token: s.admin.token });
    expect(removed.statusCode, removed.body).toBe(204);
    expect(await sees(social.token)).toBe(404);
    expectProblem(await t.call('DELETE', `${url}/${assignment.id}`, { token: s.admin.token }), 404);

    // Both changes are in the audit log.
    const log = await t.call('GET', `/v1/audit-log?childId=${child.id}&limit=200`, {
      token: s.admin.token,
    });
    expect(log.statusCode, log.body).toBe(200);
    const entries = log
      .json()
      .items.filter(
        (e: { resourceType: string; outcome: string }) =>
          e.resourceType === 'social_worker_assignment' && e.outcome === 'success',
      );
    expect(entries.map((e: { action: string }) => e.action).sort()).toEqual([
      'create',
      'delete',
      'read',
    ]);

    // The child's dossier (access request) lists its assignments; erasure erases them.
    expect((await assign(s.admin.token, { kind: 'oidc', id: 'sw-user-1' })).statusCode).toBe(201);
    const dossier = await t.call('GET', `/v1/children/${child.id}/dossier`, {
      token: s.admin.token,
    });
    expect(dossier.statusCode, dossier.body).toBe(200);
    expect(dossier.json().socialWorkerAssignments).toMatchObject([
      { principalKind: 'oidc', principalId: 'sw-user-1' },
    ]);
    const erased = await t.call('DELETE', `/v1/children/${child.id}`, {
      token: s.admin.token,
      body: { reason: 'Test.' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    const left = await t.asOwner((db) =>
      db
        .selectFrom('social_worker_assignments')
        .select('id')
        .where('child_id', '=', child.id)
        .execute(),
    );
    expect(left).toEqual([]);
  });
});
