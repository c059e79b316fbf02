import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import type { Assessment } from '../../src/features/assessments/schemas.js';
import type { Consent } from '../../src/features/consents/schemas.js';
import type { Handover } from '../../src/features/handover/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];
const JUSTIFICATION = 'Trækker sig fra legen i perioder.';
const CHILD_VIEW = 'Jeg kan bedst lide at lege alene.';
const ACK_NOTE = 'Talt med mor om søvn og madpakker.';
const FREE_TEXT = [JUSTIFICATION, CHILD_VIEW, ACK_NOTE];

interface Timeline {
  childId: string;
  items: Assessment[];
  withheld: {
    count: number;
    reason: string;
    fromUnits: { unitId: string; unitKind: string; count: number }[];
  } | null;
}

/**
 * A child assessed twice in kindergarten K (green, then yellow with free text, a deterioration
 * flag acknowledged with a note), whose K enrolment ended on 2026-07-31 and who started school
 * S on 2026-08-01. Keys: S's staff and leader, staff of an unrelated kindergarten.
 */
async function transition(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const kindergarten = s.unit;
  const school = await createUnit(t, s.admin.token, { kind: 'school' });
  const unrelated = await createUnit(t, s.admin.token, { kind: 'kindergarten' });
  const child = await createChild(t, s.admin.token, {
    unitId: kindergarten.id,
    enrolledFrom: '2024-08-01',
    birthDate: '2020-03-01',
  });
  const assess = async (unitId: string, assessedOn: string, extra: Record<string, unknown>) => {
    const res = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId: child.id,
        unitId,
        rulerVersionId: s.topi,
        assessedOn,
        raters,
        parentsInformed: true,
        ...extra,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as Assessment;
  };
  const green = await assess(kindergarten.id, '2026-03-01', {
    rating: { overallLevel: 1, answers: { social_skills: 1, self_esteem: 1 } },
  });
  const yellow = await assess(kindergarten.id, '2026-05-01', {
    rating: {
      overallLevel: 2,
      answers: { social_skills: 2, self_esteem: 1, safety_and_care: 1, participation: 'na' },
    },
    justification: JUSTIFICATION,
    childPerspective: CHILD_VIEW,
  });
  const flags = (
    await t.call('GET', `/v1/flags?childId=${child.id}`, { token: s.admin.token })
  ).json().items as { id: string; kind: string }[];
  const deterioration = flags.find((f) => f.kind === 'deterioration');
  expect(deterioration).toBeDefined();
  const ack = await t.call('POST', `/v1/flags/${deterioration?.id}/acknowledge`, {
    token: s.admin.token,
    body: { note: ACK_NOTE },
  });
  expect(ack.statusCode, ack.body).toBe(200);

  const enrolment = (
    await t.call('GET', `/v1/children/${child.id}/enrolments`, { token: s.admin.token })
  ).json().items[0];
  const ended = await t.call('PATCH', `/v1/children/${child.id}/enrolments/${enrolment.id}`, {
    token: s.admin.token,
    body: { endDate: '2026-07-31' },
  });
  expect(ended.statusCode, ended.body).toBe(200);
  const started = await t.call('POST', `/v1/children/${child.id}/enrolments`, {
    token: s.admin.token,
    body: { unitId: school.id, startDate: '2026-08-01' },
  });
  expect(started.statusCode, started.body).toBe(201);

  const key = (role: 'unit_staff' | 'unit_leader', unitId: string) =>
    createKey(t, s.municipality.id, role, { token: s.admin.token, unitIds: [unitId] });
  return {
    ...s,
    kindergarten,
    school,
    unrelated,
    child,
    green,
    yellow,
    deteriorationId: deterioration?.id as string,
    staff: await key('unit_staff', school.id),
    leader: await key('unit_leader', school.id),
    otherStaff: await key('unit_staff', unrelated.id),
    assess,
  };
}
type Fixture = Awaited<ReturnType<typeof transition>>;

const consentBody = (extra: Record<string, unknown>) => ({
  purpose: 'transition_handover',
  categories: ['assessments'],
  givenBy: { name: 'Mette Jensen', relation: 'parent' },
  givenOn: '2026-06-15',
  ...extra,
});

async function giveConsent(
  t: EngineContext,
  f: Fixture,
  extra: Record<string, unknown>,
  token = f.admin.token,
): Promise<Consent> {
  const res = await t.call('POST', `/v1/children/${f.child.id}/consents`, {
    token,
    body: consentBody(extra),
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

async function timeline(t: EngineContext, f: Fixture, token: string): Promise<Timeline> {
  const res = await t.call('GET', `/v1/children/${f.child.id}/timeline`, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

async function handover(t: EngineContext, f: Fixture, token: string): Promise<Handover> {
  const res = await t.call('GET', `/v1/children/${f.child.id}/handover`, { token });
  expect(res.statusCode, res.body).toBe(200);
  for (const text of FREE_TEXT) expect(res.body).not.toContain(text);
  return res.json();
}

const ids = (tl: Timeline) => tl.items.map((a) => a.id);

async function auditOf(t: EngineContext, childId: string) {
  return t.asOwner((db) =>
    db
      .selectFrom('audit_log')
      .select(['action', 'resource_type', 'resource_id', 'child_id', 'outcome', 'principal_id'])
      .where('child_id', '=', childId)
      .orderBy('id')
      .execute(),
  ) as Promise<
    {
      action: string;
      resource_type: string;
      resource_id: string | null;
      child_id: string;
      outcome: string;
      principal_id: string;
    }[]
  >;
}

describeEngines('transitions and consent', (t) => {
  it('without a basis the receiving unit sees none of the earlier unit’s assessments, and is told why', async () => {
    const f = await transition(t);
    const res = await t.call('GET', `/v1/children/${f.child.id}/timeline`, {
      token: f.staff.token,
    });
    expect(res.statusCode, res.body).toBe(200);
    for (const text of FREE_TEXT) expect(res.body).not.toContain(text);
    expect(res.json()).toEqual({
      childId: f.child.id,
      items: [],
      withheld: {
        count: 2,
        reason: 'no_consent_or_guideline',
        fromUnits: [{ unitId: f.kindergarten.id, unitKind: 'kindergarten', count: 2 }],
      },
    });

    // One assessment: 403 with the reason (the child is visible; the assessment is not shared).
    for (const path of [
      `/v1/assessments/${f.yellow.id}`,
      `/v1/assessments/${f.yellow.id}/history`,
    ]) {
      const denied = expectProblem(await t.call('GET', path, { token: f.staff.token }), 403);
      expect(denied.type).toBe('urn:lineal:problem:no-sharing-basis');
      expect(denied.detail).toContain('no_consent_or_guideline');
      expect(JSON.stringify(denied)).not.toContain(JUSTIFICATION);
    }
    // Staff of an unrelated unit do not see the child at all: 404.
    expectProblem(
      await t.call('GET', `/v1/assessments/${f.yellow.id}`, { token: f.otherStaff.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/timeline`, { token: f.otherStaff.token }),
      404,
    );

    // The receiving unit's own assessments are always visible, in full.
    const own = await f.assess(f.school.id, '2026-10-01', {
      rating: { overallLevel: 1 },
      justification: 'Godt i gang i 0. klasse.',
    });
    const withOwn = await timeline(t, f, f.staff.token);
    expect(ids(withOwn)).toEqual([own.id]);
    expect(withOwn.items[0]?.justification).toBe('Godt i gang i 0. klasse.');
    expect(withOwn.items[0]?.sharing).toBeUndefined();
    expect(withOwn.withheld?.count).toBe(2);

    // Keys not limited to units are not affected.
    const admin = await timeline(t, f, f.admin.token);
    expect(ids(admin)).toEqual([f.green.id, f.yellow.id, own.id]);
    expect(admin.withheld).toBeNull();
    expect(admin.items[1]?.justification).toBe(JUSTIFICATION);
  });

  it('a consent for the receiving unit shares the assessments until it is revoked', async () => {
    const f = await transition(t);
    const consent = await giveConsent(t, f, { recipient: { unitId: f.school.id } });
    expect(consent).toMatchObject({
      childId: f.child.id,
      purpose: 'transition_handover',
      recipient: { unitId: f.school.id, role: null },
      categories: ['assessments'],
      givenBy: { name: 'Mette Jensen', relation: 'parent' },
      givenOn: '2026-06-15',
      validUntil: null,
      status: 'active',
      revocation: null,
      createdBy: f.admin.id,
    });

    const shared = await timeline(t, f, f.staff.token);
    expect(ids(shared)).toEqual([f.green.id, f.yellow.id]);
    expect(shared.withheld).toBeNull();
    const yellow = shared.items[1] as Assessment;
    expect(yellow).toMatchObject({ zone: 'yellow', level: 2, unitId: f.kindergarten.id });
    // Without a consent covering notes, the free text stays behind.
    expect(yellow.justification).toBeNull();
    expect(yellow.childPerspective).toBeNull();
    expect(yellow.sharing).toEqual({
      bases: [
        {
          kind: 'consent',
          consentId: consent.id,
          purpose: 'transition_handover',
          validUntil: null,
        },
      ],
      notes: [],
    });
    const one = await t.call('GET', `/v1/assessments/${f.yellow.id}`, { token: f.staff.token });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toMatchObject({ id: f.yellow.id, zone: 'yellow', justification: null });
    const history = await t.call('GET', `/v1/assessments/${f.yellow.id}/history`, {
      token: f.staff.token,
    });
    expect(history.json().items.map((a: Assessment) => a.id)).toEqual([f.yellow.id]);
    // Shared for reading, not for changing: the school cannot withdraw the kindergarten's work.
    expectProblem(
      await t.call('POST', `/v1/assessments/${f.yellow.id}/withdraw`, {
        token: f.staff.token,
        body: { reason: 'x' },
      }),
      404,
    );

    // Revoking takes effect at once.
    const revoked = await t.call(
      'POST',
      `/v1/children/${f.child.id}/consents/${consent.id}/revoke`,
      {
        token: f.staff.token,
        body: {
          revokedBy: { name: 'Mette Jensen', relation: 'parent' },
          reason: 'Ønsker det ikke.',
        },
      },
    );
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json()).toMatchObject({
      status: 'revoked',
      revocation: {
        revokedAt: '2026-11-22T09:00:00.000Z',
        revokedBy: { name: 'Mette Jensen', relation: 'parent' },
        reason: 'Ønsker det ikke.',
        recordedBy: f.staff.id,
      },
    });
    const after = await timeline(t, f, f.staff.token);
    expect(after.items).toEqual([]);
    expect(after.withheld?.count).toBe(2);
    expectProblem(
      await t.call('GET', `/v1/assessments/${f.yellow.id}`, { token: f.staff.token }),
      403,
    );
    // Once.
    expectProblem(
      await t.call('POST', `/v1/children/${f.child.id}/consents/${consent.id}/revoke`, {
        token: f.admin.token,
        body: { revokedBy: { name: 'Mette Jensen', relation: 'parent' }, reason: 'igen' },
      }),
      409,
    );
    // What was consented to is a record: not even the application's role can rewrite it.
    await expect(
      t.database.transaction(municipalityScope(f.municipality.id), (trx) =>
        trx
          .updateTable('consents')
          .set({ categories: ['notes'] })
          .where('id', '=', consent.id)
          .execute(),
      ),
    ).rejects.toThrow(/immutable|stays revoked/);
    await expect(
      t.database.transaction(municipalityScope(f.municipality.id), (trx) =>
        trx.deleteFrom('consents').where('id', '=', consent.id).execute(),
      ),
    ).rejects.toThrow(/permission denied/);
  });

  it('expired consents, consents for other units and consents for another role are no basis', async () => {
    const f = await transition(t);
    const expired = await giveConsent(t, f, {
      recipient: { unitId: f.school.id },
      givenOn: '2026-01-10',
      validUntil: '2026-11-21',
    });
    expect(expired.status).toBe('expired');
    await giveConsent(t, f, { recipient: { unitId: f.unrelated.id } });
    // The leaders of the receiving unit, not its staff.
    const forLeaders = await giveConsent(t, f, {
      purpose: 'interdisciplinary_sharing',
      recipient: { role: 'unit_leader' },
    });
    // A role in another unit is not this unit.
    await giveConsent(t, f, { recipient: { unitId: f.unrelated.id, role: 'unit_staff' } });

    const staff = await timeline(t, f, f.staff.token);
    expect(staff.items).toEqual([]);
    expect(staff.withheld?.count).toBe(2);
    const leader = await timeline(t, f, f.leader.token);
    expect(ids(leader)).toEqual([f.green.id, f.yellow.id]);
    expect(leader.items[0]?.sharing?.bases).toEqual([
      {
        kind: 'consent',
        consentId: forLeaders.id,
        purpose: 'interdisciplinary_sharing',
        validUntil: null,
      },
    ]);

    // Valid through its last day (inclusive).
    await giveConsent(t, f, {
      recipient: { unitId: f.school.id, role: 'unit_staff' },
      givenOn: '2026-11-22',
      validUntil: '2026-11-22',
    });
    expect(ids(await timeline(t, f, f.staff.token))).toEqual([f.green.id, f.yellow.id]);

    const list = await t.call('GET', `/v1/children/${f.child.id}/consents`, {
      token: f.staff.token,
    });
    expect(list.statusCode, list.body).toBe(200);
    expect(list.json().items.map((c: Consent) => c.status)).toEqual([
      'expired',
      'active',
      'active',
      'active',
      'active',
    ]);
  });

  it('a transition_handover consent covers what was recorded before the child started', async () => {
    const f = await transition(t);
    // A leisure club the child attends next to school; its staff get a handover consent.
    const club = await createUnit(t, f.admin.token, { kind: 'club' });
    await t.call('POST', `/v1/children/${f.child.id}/enrolments`, {
      token: f.admin.token,
      body: { unitId: club.id, startDate: '2026-04-01' },
    });
    const clubStaff = await createKey(t, f.municipality.id, 'unit_staff', {
      token: f.admin.token,
      unitIds: [club.id],
    });
    await giveConsent(t, f, { recipient: { unitId: club.id } });
    // Only the kindergarten's assessment from before 2026-04-01.
    const tl = await timeline(t, f, clubStaff.token);
    expect(ids(tl)).toEqual([f.green.id]);
    expect(tl.withheld).toMatchObject({ count: 1 });
    // Interdisciplinary sharing covers all of it.
    await giveConsent(t, f, {
      purpose: 'interdisciplinary_sharing',
      recipient: { unitId: club.id },
    });
    expect(ids(await timeline(t, f, clubStaff.token))).toEqual([f.green.id, f.yellow.id]);
  });

  it('a municipal transition guideline shares without consent while switched on', async () => {
    const f = await transition(t);
    const path = '/v1/transition-guidelines/kindergarten/school';
    const social = await createKey(t, f.municipality.id, 'social_worker', { token: f.admin.token });
    for (const token of [f.staff.token, f.leader.token, social.token]) {
      expectProblem(await t.call('PUT', path, { token, body: { enabled: true } }), 403);
    }
    expectProblem(
      await t.call('PUT', '/v1/transition-guidelines/kindergarten/university', {
        token: f.admin.token,
        body: { enabled: true },
      }),
      400,
    );

    // A guideline for another transition does nothing here.
    const nursery = await t.call('PUT', '/v1/transition-guidelines/nursery/school', {
      token: f.admin.token,
      body: { enabled: true },
    });
    expect(nursery.statusCode, nursery.body).toBe(200);
    expect((await timeline(t, f, f.staff.token)).items).toEqual([]);

    const on = await t.call('PUT', path, {
      token: f.admin.token,
      body: { enabled: true, reference: 'Byrådet 2026-03-12, sag 17' },
    });
    expect(on.statusCode, on.body).toBe(200);
    const guideline = on.json();
    expect(guideline).toMatchObject({
      fromUnitKind: 'kindergarten',
      toUnitKind: 'school',
      enabled: true,
      categories: ['assessments', 'recommendations'],
      reference: 'Byrådet 2026-03-12, sag 17',
      updatedBy: f.admin.id,
    });
    const shared = await timeline(t, f, f.staff.token);
    expect(ids(shared)).toEqual([f.green.id, f.yellow.id]);
    expect(shared.items[1]?.justification).toBeNull();
    expect(shared.items[1]?.sharing).toEqual({
      bases: [
        {
          kind: 'guideline',
          guidelineId: guideline.id,
          fromUnitKind: 'kindergarten',
          toUnitKind: 'school',
        },
      ],
      notes: [],
    });
    const list = await t.call('GET', '/v1/transition-guidelines', { token: f.staff.token });
    expect(
      list.json().items.map((g: { toUnitKind: string; fromUnitKind: string }) => g.fromUnitKind),
    ).toEqual(['kindergarten', 'nursery']);

    // Only recommendations: assessments are withheld again.
    const stepsOnly = await t.call('PUT', path, {
      token: f.admin.token,
      body: { enabled: true, categories: ['recommendations'] },
    });
    expect(stepsOnly.json()).toMatchObject({ id: guideline.id, categories: ['recommendations'] });
    expect((await timeline(t, f, f.staff.token)).items).toEqual([]);
    expect((await handover(t, f, f.staff.token)).openSteps.length).toBeGreaterThan(0);

    // Switched off: withheld at once.
    await t.call('PUT', path, { token: f.admin.token, body: { enabled: true } });
    expect((await timeline(t, f, f.staff.token)).items).toHaveLength(2);
    const off = await t.call('PUT', path, { token: f.admin.token, body: { enabled: false } });
    expect(off.json()).toMatchObject({ id: guideline.id, enabled: false });
    const after = await timeline(t, f, f.staff.token);
    expect(after.items).toEqual([]);
    expect(after.withheld?.count).toBe(2);

    // Guidelines never carry free text: notes is not a category they can have.
    expectProblem(
      await t.call('PUT', path, {
        token: f.admin.token,
        body: { enabled: true, categories: ['notes'] },
      }),
      400,
    );
  });

  it('handover summary: latest zone and level per domain, open steps and flags, on a basis', async () => {
    const f = await transition(t);
    const analyst = await createKey(t, f.municipality.id, 'analyst', { token: f.admin.token });
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/handover`, { token: analyst.token }),
      403,
    );
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/handover`, { token: f.otherStaff.token }),
      404,
    );

    // No basis: nothing from the kindergarten, and why.
    const none = await handover(t, f, f.staff.token);
    expect(none).toMatchObject({
      childId: f.child.id,
      receivingUnits: [{ unitId: f.school.id, unitKind: 'school', startDate: '2026-08-01' }],
      latest: null,
      domains: [],
      openSteps: [],
      flags: [],
      basis: { assessments: [], recommendations: [], notes: [] },
      withheld: { assessments: 2, reason: 'no_consent_or_guideline' },
    });
    expect(none.withheld?.steps).toBeGreaterThan(0);
    expect(none.withheld?.flags).toBe(1);
    expect(none.withheld?.fromUnits).toEqual([
      {
        unitId: f.kindergarten.id,
        unitKind: 'kindergarten',
        count: 2 + (none.withheld?.steps ?? 0) + 1,
      },
    ]);
    expect(none.basis.explanation).toMatch(/Withheld from other units/);

    // Consent to assessments and recommendations, not notes.
    const consent = await giveConsent(t, f, {
      recipient: { unitId: f.school.id },
      categories: ['assessments', 'recommendations'],
    });
    const basis = {
      kind: 'consent',
      consentId: consent.id,
      purpose: 'transition_handover',
      validUntil: null,
    };
    const summary = await handover(t, f, f.staff.token);
    expect(summary.withheld).toBeNull();
    expect(summary.basis).toMatchObject({
      assessments: [basis],
      recommendations: [basis],
      notes: [],
    });
    expect(summary.basis.explanation).toContain(consent.id);
    expect(summary.latest).toEqual({
      assessmentId: f.yellow.id,
      unitId: f.kindergarten.id,
      source: 'other_unit',
      assessedOn: '2026-05-01',
      rulerKey: 'topi-3',
      zone: 'yellow',
      level: 2,
    });
    expect(summary.domains.map((d) => [d.domain, d.zone, d.level, d.assessedOn, d.source])).toEqual(
      [
        ['safety_and_care', 'green', 1, '2026-05-01', 'other_unit'],
        ['self_esteem', 'green', 1, '2026-05-01', 'other_unit'],
        ['social_skills', 'yellow', 2, '2026-05-01', 'other_unit'],
      ],
    );
    expect(summary.domains[0]?.label).toEqual({
      da: 'tryghed og omsorg fra voksne',
      en: 'safety and care from adults',
    });
    expect(summary.openSteps.map((s) => s.stepKey)).toEqual(
      expect.arrayContaining(['parents_dialogue', 'focus_plan', 'reassess']),
    );
    expect(summary.openSteps.every((s) => s.unitId === f.kindergarten.id)).toBe(true);
    expect(summary.openSteps.every((s) => !('statusReason' in s))).toBe(true);
    expect(summary.flags).toEqual([
      expect.objectContaining({
        id: f.deteriorationId,
        kind: 'deterioration',
        status: 'acknowledged',
        source: 'other_unit',
      }),
    ]);
    expect('acknowledgementNote' in (summary.flags[0] ?? {})).toBe(false);

    // Notes covered: the free text comes along.
    await giveConsent(t, f, { recipient: { unitId: f.school.id }, categories: ['notes'] });
    const withNotes = await t.call('GET', `/v1/children/${f.child.id}/handover`, {
      token: f.staff.token,
    });
    const full = withNotes.json() as Handover;
    expect(full.latest).toMatchObject({
      justification: JUSTIFICATION,
      childPerspective: CHILD_VIEW,
    });
    expect(full.flags[0]?.acknowledgementNote).toBe(ACK_NOTE);
    expect(full.basis.notes).toHaveLength(1);
    const tl = await timeline(t, f, f.staff.token);
    expect(tl.items[1]?.justification).toBe(JUSTIFICATION);
    expect(tl.items[1]?.sharing?.notes).toHaveLength(1);

    // The receiving unit's own, later assessment becomes the latest.
    const own = await f.assess(f.school.id, '2026-10-01', {
      rating: { overallLevel: 1, answers: { social_skills: 1 } },
    });
    const later = await handover(t, f, f.admin.token);
    expect(later.latest).toMatchObject({
      assessmentId: own.id,
      zone: 'green',
      source: 'other_unit',
    });
    expect(later.basis.assessments).toEqual([{ kind: 'role' }]);
    expect(later.basis.notes).toEqual([]);
    expect(later.domains.find((d) => d.domain === 'social_skills')).toMatchObject({
      zone: 'green',
      assessmentId: own.id,
    });
    const mine = (
      await t.call('GET', `/v1/children/${f.child.id}/handover`, { token: f.staff.token })
    ).json() as Handover;
    expect(mine.latest).toMatchObject({ assessmentId: own.id, source: 'own_unit' });
    expect(mine.basis.assessments).toEqual([{ kind: 'own_unit' }, basis]);
  });

  it('follow-up of the earlier unit (recommendation, steps, flags) is withheld without a basis', async () => {
    const f = await transition(t);
    const recommendation = (id: string) =>
      t.call('GET', `/v1/assessments/${id}/recommendation`, { token: f.staff.token });
    expectProblem(await recommendation(f.yellow.id), 403);
    const worklist = (await t.call('GET', '/v1/worklist', { token: f.staff.token })).json();
    expect(worklist.items).toEqual([]);
    const flags = await t.call('GET', `/v1/flags?childId=${f.child.id}&status=all`, {
      token: f.staff.token,
    });
    expect(flags.json().items).toEqual([]);
    expect(flags.body).not.toContain(ACK_NOTE);
    const adminView = (
      await t.call('GET', `/v1/assessments/${f.yellow.id}/recommendation`, { token: f.admin.token })
    ).json();
    const openStep = adminView.steps.find((st: { status: string }) => st.status === 'open');
    expectProblem(
      await t.call('PATCH', `/v1/steps/${openStep.id}`, {
        token: f.staff.token,
        body: { status: 'done' },
      }),
      404,
    );
    // With a consent covering recommendations, the recommendation is shared.
    await giveConsent(t, f, {
      recipient: { unitId: f.school.id },
      categories: ['assessments', 'recommendations'],
    });
    expect((await recommendation(f.yellow.id)).statusCode).toBe(200);
  });

  it('every consent create, read and revocation and every handover read is audited once', async () => {
    const f = await transition(t);
    const before = await auditOf(t, f.child.id);
    const created = await t.call('POST', `/v1/children/${f.child.id}/consents`, {
      token: f.staff.token,
      headers: { 'idempotency-key': 'consent-1' },
      body: consentBody({ recipient: { unitId: f.school.id } }),
    });
    expect(created.statusCode, created.body).toBe(201);
    const id = created.json().id;
    expect(created.headers.location).toBe(`/v1/children/${f.child.id}/consents/${id}`);
    // A replay writes nothing but hands the consent out again: audited as a read.
    const replay = await t.call('POST', `/v1/children/${f.child.id}/consents`, {
      token: f.staff.token,
      headers: { 'idempotency-key': 'consent-1' },
      body: consentBody({ recipient: { unitId: f.school.id } }),
    });
    expect(replay.headers['idempotency-replayed']).toBe('true');
    expect(replay.json().id).toBe(id);
    const calls: [string, string, unknown?][] = [
      ['GET', `/v1/children/${f.child.id}/consents`],
      ['GET', `/v1/children/${f.child.id}/consents/${id}`],
      [
        'POST',
        `/v1/children/${f.child.id}/consents/${id}/revoke`,
        { revokedBy: { name: 'Mette Jensen', relation: 'parent' }, reason: 'Fortrudt.' },
      ],
      ['GET', `/v1/children/${f.child.id}/handover`],
    ];
    for (const [method, url, body] of calls) {
      const res = await t.call(method as 'GET' | 'POST', url, { token: f.staff.token, body });
      expect(res.statusCode, res.body).toBe(200);
    }
    const entries = (await auditOf(t, f.child.id)).slice(before.length);
    expect(entries.map((e) => [e.action, e.resource_type, e.resource_id, e.outcome])).toEqual([
      ['create', 'consent', id, 'success'],
      ['read', 'consent', id, 'success'],
      ['read', 'consent', null, 'success'],
      ['read', 'consent', id, 'success'],
      ['withdraw', 'consent', id, 'success'],
      ['read', 'handover', f.child.id, 'success'],
    ]);
    expect(entries.every((e) => e.child_id === f.child.id && e.principal_id === f.staff.id)).toBe(
      true,
    );
  });

  it('validation: 400 with field paths for bad input, 422 for broken rules, 404 across municipalities', async () => {
    const f = await transition(t);
    const post = (body: unknown, token = f.admin.token, childId = f.child.id) =>
      t.call('POST', `/v1/children/${childId}/consents`, { token, body });
    const paths = async (body: unknown) =>
      (expectProblem(await post(body), 400).errors ?? []).map((e) => e.path);
    const recipient = { unitId: f.school.id };

    expect(await paths(consentBody({ recipient, purpose: 'marketing' }))).toEqual(['body.purpose']);
    expect(await paths(consentBody({ recipient, categories: [] }))).toEqual(['body.categories']);
    expect(await paths(consentBody({ recipient, categories: ['diagnoses'] }))).toEqual([
      'body.categories.0',
    ]);
    expect(await paths(consentBody({ recipient, categories: ['notes', 'notes'] }))).toEqual([
      'body.categories',
    ]);
    expect(await paths(consentBody({ recipient, givenOn: '2026-02-30' }))).toEqual([
      'body.givenOn',
    ]);
    expect(await paths(consentBody({ recipient, validUntil: '2026-06-14' }))).toEqual([
      'body.validUntil',
    ]);
    expect(await paths(consentBody({ recipient: {} }))).toEqual(['body.recipient']);
    expect(await paths(consentBody({ recipient: { role: 'analyst' } }))).toEqual([
      'body.recipient.role',
    ]);
    expect(
      await paths(consentBody({ recipient, givenBy: { name: '', relation: 'neighbour' } })),
    ).toEqual(expect.arrayContaining(['body.givenBy.name', 'body.givenBy.relation']));

    const rules = expectProblem(
      await post(
        consentBody({ recipient: { unitId: crypto.randomUUID() }, givenOn: '2026-11-23' }),
      ),
      422,
    );
    expect(rules.errors?.map((e) => e.path)).toEqual(['body.givenOn', 'body.recipient.unitId']);

    const other = await createTenant(t);
    const otherKey = await createKey(t, other.municipality.id, 'unit_staff', {
      token: other.admin.token,
    });
    expectProblem(await post(consentBody({ recipient }), other.admin.token), 404);
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/consents`, { token: otherKey.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/handover`, { token: other.admin.token }),
      404,
    );
    // Staff of a unit the child is not in cannot record or read its consents.
    expectProblem(await post(consentBody({ recipient }), f.otherStaff.token), 404);
    // Analysts neither read nor write consents.
    const analyst = await createKey(t, f.municipality.id, 'analyst', { token: f.admin.token });
    expectProblem(await post(consentBody({ recipient }), analyst.token), 403);
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/consents/${crypto.randomUUID()}`, {
        token: f.admin.token,
      }),
      404,
    );
  });

  it('a receiving unit cannot grant itself access: a relative gives consent, a leader confirms it', async () => {
    // issue 12, point 9: a child has just moved in; the receiving unit's staff try to open the
    // earlier unit's assessment, free text included, on a consent they record themselves.
    const f = await transition(t);
    const url = `/v1/children/${f.child.id}/consents`;
    const post = (body: unknown, token: string) => t.call('POST', url, { token, body });
    const confirm = (id: string, token: string) =>
      t.call('POST', `${url}/${id}/confirm`, { token });
    const readYellow = (token: string) =>
      t.call('GET', `/v1/assessments/${f.yellow.id}`, { token });
    const everything = {
      recipient: { unitId: f.school.id },
      categories: ['assessments', 'recommendations', 'notes'],
    };

    // Relation "other" gives no consent; nor does a child under 15 (this one is 6).
    for (const givenBy of [
      { name: 'Anna Pædagog', relation: 'other' },
      { name: 'Liv Jensen', relation: 'child' },
    ]) {
      const refused = expectProblem(
        await post(consentBody({ ...everything, givenBy }), f.staff.token),
        422,
      );
      expect(refused.errors?.map((e) => e.path)).toEqual(['body.givenBy.relation']);
    }
    expectProblem(await readYellow(f.staff.token), 403);
    expect((await t.call('GET', url, { token: f.admin.token })).json().items).toEqual([]);

    // A guardian's consent, recorded by the receiving unit's staff for their own unit, waits.
    const guardian = { name: 'Mette Jensen', relation: 'guardian' };
    const recorded = await post(consentBody({ ...everything, givenBy: guardian }), f.staff.token);
    expect(recorded.statusCode, recorded.body).toBe(201);
    const pending = recorded.json() as Consent;
    expect(pending).toMatchObject({
      status: 'pending_confirmation',
      confirmation: { required: true, confirmedAt: null, confirmedBy: null },
      createdBy: f.staff.id,
    });
    expectProblem(await readYellow(f.staff.token), 403);
    const before = await timeline(t, f, f.staff.token);
    expect(ids(before)).toEqual([]);
    expect(before.withheld?.count).toBe(2);
    expect((await handover(t, f, f.staff.token)).basis.notes).toEqual([]);

    // Staff cannot confirm; a leader of the receiving unit can, once.
    expectProblem(await confirm(pending.id, f.staff.token), 403);
    const confirmed = await confirm(pending.id, f.leader.token);
    expect(confirmed.statusCode, confirmed.body).toBe(200);
    expect(confirmed.json()).toMatchObject({
      id: pending.id,
      status: 'active',
      confirmation: { required: true, confirmedBy: f.leader.id },
    });
    expect(confirmed.json().confirmation.confirmedAt).toEqual(expect.any(String));
    expect(expectProblem(await confirm(pending.id, f.leader.token), 409).type).toBe(
      'urn:lineal:problem:consent-not-pending',
    );
    const shared = await readYellow(f.staff.token);
    expect(shared.statusCode, shared.body).toBe(200);
    expect(shared.json().justification).toBe(JUSTIFICATION);

    // Whoever recorded a consent cannot confirm it: a leader's own needs another leader or an
    // administrator.
    const byLeader = await post(
      consentBody({ recipient: { unitId: f.school.id }, givenBy: guardian }),
      f.leader.token,
    );
    expect(byLeader.json().status).toBe('pending_confirmation');
    const own = expectProblem(await confirm(byLeader.json().id, f.leader.token), 403);
    expect(own.type).toBe('urn:lineal:problem:own-consent');
    const byAdmin = await confirm(byLeader.json().id, f.admin.token);
    expect(byAdmin.statusCode, byAdmin.body).toBe(200);
    expect(byAdmin.json().status).toBe('active');

    // Recorded by an administrator (or by staff for another unit), a consent is in force at once.
    const direct = await post(
      consentBody({ recipient: { unitId: f.unrelated.id }, givenBy: guardian }),
      f.admin.token,
    );
    expect(direct.json()).toMatchObject({ status: 'active', confirmation: { required: false } });

    const audited = (await auditOf(t, f.child.id)).filter(
      (e) => e.resource_type === 'consent' && e.action === 'update',
    );
    expect(audited.map((e) => [e.resource_id, e.outcome, e.principal_id])).toEqual([
      [pending.id, 'denied', f.staff.id],
      [pending.id, 'success', f.leader.id],
      [pending.id, 'conflict', f.leader.id],
      [byLeader.json().id, 'denied', f.leader.id],
      [byLeader.json().id, 'success', f.admin.id],
    ]);
  });

  it('erasing the child deletes its consents with it', async () => {
    const f = await transition(t);
    const consent = await giveConsent(t, f, { recipient: { unitId: f.school.id } });
    await t.database.transaction(municipalityScope(f.municipality.id), (trx) =>
      sql`SELECT lineal_erase_child(${f.child.id}::uuid, 'tomb-1')`.execute(trx),
    );
    const left = await t.asOwner((db) =>
      db.selectFrom('consents').select('id').where('id', '=', consent.id).execute(),
    );
    expect(left).toEqual([]);
  });
});
