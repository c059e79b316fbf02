import { expect, it } from 'vitest';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  assessmentBody,
  createChild,
  createKey,
  createScreeningTenant,
  createTenant,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/**
 * Parent information as a tracked duty (issue 18, point 1): a child's first assessment and every
 * zone change create a notice due by the guide's deadline (topi-3: 7 days), closed by recording
 * how and when the parents were informed — or, under a violence or abuse flag, by a leader's
 * decision not to inform them. The test clock's today is 2026-11-22.
 */

type Notice = Record<string, unknown> & { id: string; status: string; assessmentId: string };

async function setup(t: EngineContext) {
  t.clock.set('2026-11-22T09:00:00.000Z');
  const s = await createScreeningTenant(t);
  const staff = await createKey(t, s.municipality.id, 'unit_staff', { unitIds: [s.unit.id] });
  const leader = await createKey(t, s.municipality.id, 'unit_leader', { unitIds: [s.unit.id] });
  const child = await createChild(t, s.admin.token, {
    unitId: s.unit.id,
    enrolledFrom: '2024-01-01',
  });
  const assess = async (fields: Record<string, unknown>, token = s.admin.token) => {
    const res = await t.call('POST', '/v1/assessments', {
      token,
      body: assessmentBody({
        childId: child.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        parentsInformed: false,
        ...fields,
      }),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; recommendation: { steps: { stepKey: string }[] } };
  };
  const notices = async (query = 'status=all', token = s.admin.token) => {
    const res = await t.call('GET', `/v1/parent-notices?childId=${child.id}&${query}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items as Notice[];
  };
  const informed = (id: string, body: Record<string, unknown>, token = s.admin.token) =>
    t.call('POST', `/v1/parent-notices/${id}/informed`, {
      token,
      body: {
        informedOn: '2026-11-21',
        method: 'meeting',
        informedBy: { name: 'Anna Pædagog', role: 'unit_staff' },
        ...body,
      },
    });
  const notInformed = (id: string, token = s.admin.token) =>
    t.call('POST', `/v1/parent-notices/${id}/not-informed`, {
      token,
      body: { reason: 'Politiet er inddraget; forældrene må ikke orienteres endnu.' },
    });
  return { ...s, staff, leader, child, assess, notices, informed, notInformed };
}

describeEngines('parent notices', (t) => {
  it('a first assessment and every zone change are due to the parents by the deadline', async () => {
    const s = await setup(t);
    const first = await s.assess({ assessedOn: '2026-11-20', rating: { overallLevel: 1 } });
    let list = await s.notices();
    expect(list).toEqual([
      expect.objectContaining({
        assessmentId: first.id,
        reason: 'first_assessment',
        zone: 'green',
        previousZone: null,
        assessedOn: '2026-11-20',
        dueOn: '2026-11-27',
        overdue: false,
        riskCategories: [],
        status: 'open',
        informedOn: null,
      }),
    ]);
    // The same zone again: nothing new to tell.
    await s.assess({ assessedOn: '2026-11-21', rating: { overallLevel: 1 } });
    expect(await s.notices()).toHaveLength(1);
    // Yellow: a zone change, due a week later.
    const yellow = await s.assess({ assessedOn: '2026-11-22', rating: { overallLevel: 2 } });
    list = await s.notices();
    expect(list.map((n) => [n.reason, n.previousZone, n.zone, n.dueOn])).toEqual([
      ['first_assessment', null, 'green', '2026-11-27'],
      ['zone_change', 'green', 'yellow', '2026-11-29'],
    ]);
    // Overdue after the deadline; the unit's staff see them; the filter finds them.
    t.clock.set('2026-11-28T10:00:00Z');
    const overdue = await s.notices('overdue=true', s.staff.token);
    expect(overdue.map((n) => [n.reason, n.overdue])).toEqual([['first_assessment', true]]);
    expect((await s.notices('overdue=false')).map((n) => n.reason)).toEqual(['zone_change']);

    // Recording the information closes it and the inform-parents step of the same assessment.
    const notice = list[1] as Notice;
    const res = await s.informed(notice.id, { informedOn: '2026-11-24' }, s.staff.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'informed',
      informedOn: '2026-11-24',
      method: 'meeting',
      informedBy: { name: 'Anna Pædagog', role: 'unit_staff' },
      overdue: false,
    });
    const recommendation = await t.call('GET', `/v1/assessments/${yellow.id}/recommendation`, {
      token: s.admin.token,
    });
    const step = recommendation
      .json()
      .steps.find((x: { stepKey: string }) => x.stepKey === 'inform_parents');
    expect(step).toMatchObject({ status: 'done' });
    // Once only.
    expectProblem(await s.informed(notice.id, {}), 409);
    // The events say so.
    const events = await t.call('GET', '/v1/events?limit=200', { token: s.admin.token });
    const types = events
      .json()
      .items.filter((e: { subject: { type: string } }) => e.subject.type === 'parent_notice')
      .map((e: { type: string; data: { status: string } }) => [e.type, e.data.status]);
    expect(types).toEqual([
      ['parent_notice.created', 'open'],
      ['parent_notice.created', 'open'],
      ['parent_notice.closed', 'informed'],
    ]);
  });

  it('refuses an information dated in the future or before the assessment', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-20' });
    const [notice] = await s.notices();
    expectProblem(await s.informed(notice?.id as string, { informedOn: '2026-11-23' }), 409);
    expectProblem(await s.informed(notice?.id as string, { informedOn: '2026-11-19' }), 409);
    expectProblem(await s.informed(notice?.id as string, { method: 'carrier_pigeon' }), 400);
    expect((await s.informed(notice?.id as string, { informedOn: '2026-11-20' })).statusCode).toBe(
      200,
    );
  });

  it('recorded with parentsInformed, it is closed at once', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-20', parentsInformed: true });
    expect(await s.notices()).toEqual([
      expect.objectContaining({ status: 'informed', informedOn: '2026-11-20', method: null }),
    ]);
    expect(await s.notices('status=open')).toEqual([]);
    // The parents' access request (the dossier) shows it.
    const dossier = await t.call('GET', `/v1/children/${s.child.id}/dossier`, {
      token: s.admin.token,
    });
    expect(dossier.statusCode, dossier.body).toBe(200);
    expect(dossier.json().parentNotices).toEqual([
      expect.objectContaining({ status: 'informed', informedOn: '2026-11-20' }),
    ]);
  });

  it('under a violence flag only a leader decides whether the parents are informed', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-20', rating: { overallLevel: 1 } });
    await s.assess({ assessedOn: '2026-11-21', redFlags: ['violence'] });
    const [plain, risky] = await s.notices();
    expect(risky).toMatchObject({ zone: 'red', riskCategories: ['violence'], status: 'open' });

    // Not informing is only for such a flag.
    expectProblem(await s.notInformed(plain?.id as string, s.leader.token), 409);
    // Staff may neither inform nor decide not to.
    expectProblem(await s.informed(risky?.id as string, {}, s.staff.token), 403);
    expectProblem(await s.notInformed(risky?.id as string, s.staff.token), 403);
    const res = await s.notInformed(risky?.id as string, s.leader.token);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({
      status: 'not_informed_risk',
      note: 'Politiet er inddraget; forældrene må ikke orienteres endnu.',
      informedOn: null,
    });
    expectProblem(await s.informed(risky?.id as string, {}, s.leader.token), 409);
  });

  it('a later violence flag reaches an older open notice: a leader decides, and no letter', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-19', rating: { overallLevel: 2 } });
    // Red again (no zone change, so no notice of its own) but with a violence flag.
    await s.assess({ assessedOn: '2026-11-20', rating: { overallLevel: 2 } });
    await s.assess({
      assessedOn: '2026-11-21',
      rating: { overallLevel: 2 },
      redFlags: ['violence'],
    });
    const [older] = await s.notices();
    expect(older).toMatchObject({ riskCategories: [], status: 'open', assessedOn: '2026-11-19' });
    const letter = await t.call('GET', `/v1/parent-notices/${older?.id}/letter?format=text`, {
      token: s.staff.token,
    });
    expectProblem(letter, 409);
    expectProblem(await s.informed(older?.id as string, {}, s.staff.token), 403);
    // The leader decides that the parents may be told now, on a date after the flag.
    const told = await s.informed(
      older?.id as string,
      { informedOn: '2026-11-22' },
      s.leader.token,
    );
    expect(told.statusCode, told.body).toBe(200);
    // A leader's recording after the flag lifts it: the letter may go now.
    const after = await t.call('GET', `/v1/parent-notices/${older?.id}/letter?format=text`, {
      token: s.staff.token,
    });
    expect(after.statusCode, after.body).toBe(200);
  });

  it('under a violence flag, "parents informed" with the assessment counts only from a leader', async () => {
    const s = await setup(t);
    await s.assess(
      { assessedOn: '2026-11-21', redFlags: ['violence'], parentsInformed: true },
      s.staff.token,
    );
    expect(await s.notices()).toEqual([
      expect.objectContaining({ riskCategories: ['violence'], status: 'open' }),
    ]);
    const other = await setup(t);
    await other.assess(
      { assessedOn: '2026-11-21', redFlags: ['violence'], parentsInformed: true },
      other.leader.token,
    );
    expect(await other.notices()).toEqual([
      expect.objectContaining({ riskCategories: ['violence'], status: 'informed' }),
    ]);
  });

  it('writes no letter and counts nothing for a withdrawn assessment', async () => {
    const s = await setup(t);
    const a = await s.assess({ assessedOn: '2026-11-20', parentsInformed: true });
    const [notice] = await s.notices();
    expect(notice).toMatchObject({ status: 'informed' });
    const withdrawn = await t.call('POST', `/v1/assessments/${a.id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Registreret på det forkerte barn' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expectProblem(
      await t.call('GET', `/v1/parent-notices/${notice?.id}/letter`, { token: s.admin.token }),
      409,
    );
    const follow = await t.call('GET', `/v1/analytics/follow-through?unitIds=${s.unit.id}`, {
      token: s.admin.token,
    });
    expect(follow.json().overall.parentsInformed.due).toEqual({ value: 0, suppressed: false });
  });

  it('a correction supersedes an open duty and keeps a recorded one; a withdrawal too', async () => {
    const s = await setup(t);
    const a = await s.assess({ assessedOn: '2026-11-20', rating: { overallLevel: 2 } });
    const correct = (id: string, body: Record<string, unknown>) => {
      // A correction names no child: the corrected assessment's.
      const { childId: _, ...fields } = assessmentBody({
        childId: s.child.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        reason: 'Forkert niveau',
        parentsInformed: false,
        assessedOn: '2026-11-20',
        ...body,
      });
      return t.call('POST', `/v1/assessments/${id}/corrections`, {
        token: s.admin.token,
        body: fields,
      });
    };
    let res = await correct(a.id, { rating: { overallLevel: 3 } });
    expect(res.statusCode, res.body).toBe(201);
    const b = res.json();
    // Due on the same day: in no particular order.
    const both = (await s.notices()).map((n) => [n.assessmentId, n.zone, n.status]);
    expect(both).toHaveLength(2);
    expect(both).toEqual(
      expect.arrayContaining([
        [a.id, 'yellow', 'superseded'],
        [b.id, 'red', 'open'],
      ]),
    );
    const open = (await s.notices('status=open'))[0] as Notice;
    expect((await s.informed(open.id, { informedOn: '2026-11-21' })).statusCode).toBe(200);
    // The same duty after another correction (same zone): what was recorded stands.
    res = await correct(b.id, { rating: { overallLevel: 3 }, assessedOn: '2026-11-21' });
    expect(res.statusCode, res.body).toBe(201);
    const c = res.json();
    const mine = (await s.notices()).find((n) => n.assessmentId === c.id);
    expect(mine).toMatchObject({ status: 'informed', informedOn: '2026-11-21', method: 'meeting' });
    // A withdrawn assessment's open duty is superseded.
    const d = await s.assess({ assessedOn: '2026-11-22', rating: { overallLevel: 1 } });
    const withdrawn = await t.call('POST', `/v1/assessments/${d.id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Registreret på det forkerte barn' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect((await s.notices()).find((n) => n.assessmentId === d.id)).toMatchObject({
      status: 'superseded',
    });
  });

  it('follow-through counts the parents informed by the deadline and the duties overdue', async () => {
    const s = await setup(t);
    const ids: string[] = [];
    for (let i = 0; i < 10; i++) {
      const child = await createChild(t, s.admin.token, {
        unitId: s.unit.id,
        enrolledFrom: '2024-01-01',
      });
      const res = await t.call('POST', '/v1/assessments', {
        token: s.admin.token,
        body: assessmentBody({
          childId: child.id,
          unitId: s.unit.id,
          rulerVersionId: s.topi,
          parentsInformed: false,
          assessedOn: '2026-11-10',
        }),
      });
      expect(res.statusCode, res.body).toBe(201);
      ids.push(child.id);
    }
    for (const childId of ids.slice(0, 5)) {
      const res = await t.call('GET', `/v1/parent-notices?childId=${childId}`, {
        token: s.admin.token,
      });
      const [notice] = res.json().items as Notice[];
      const informed = await s.informed(notice?.id as string, { informedOn: '2026-11-17' });
      expect(informed.statusCode, informed.body).toBe(200);
    }
    const res = await t.call('GET', '/v1/analytics/follow-through', { token: s.admin.token });
    expect(res.statusCode, res.body).toBe(200);
    const cell = (value: number) => ({ value, suppressed: false });
    expect(res.json().overall.parentsInformed).toEqual({
      due: cell(10),
      informedByDeadline: cell(5),
      shareInformedByDeadline: 0.5,
      open: cell(5),
      overdue: cell(5),
      notInformedRisk: cell(0),
    });
  });

  it('writes the letter to the parents as HTML, text and PDF, in Danish or English', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-20', rating: { overallLevel: 1 } });
    await s.assess({ assessedOn: '2026-11-21', rating: { overallLevel: 2 } });
    const notice = (await s.notices()).find((n) => n.reason === 'zone_change') as Notice;
    const letter = (query: string, token = s.staff.token) =>
      t.call('GET', `/v1/parent-notices/${notice.id}/letter?${query}`, { token });
    const html = await letter('');
    expect(html.statusCode, html.body).toBe(200);
    expect(html.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(html.body).toContain('<html lang="da">');
    expect(html.body).toContain('Vurderingen er nu gul; sidst var den grøn.');
    // What happens next: the yellow steps that involve the parents, with their deadlines.
    expect(html.body).toMatch(/<li>[^<]+\(senest \d+\. (november|december) 2026\)<\/li>/);
    expect(html.body).toContain('slettes 5 år efter');
    expect(html.body).toContain('Datatilsynet');
    const text = await letter('format=text&language=en');
    expect(text.statusCode, text.body).toBe(200);
    expect(text.headers['content-type']).toBe('text/plain; charset=utf-8');
    expect(text.headers['content-language']).toBe('en');
    expect(text.body).toContain('The assessment is now yellow; last time it was green.');
    const pdf = await letter('format=pdf');
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');
    expect(pdf.rawPayload.length).toBeGreaterThan(1500);
    expectProblem(await letter('format=docx'), 400);
    expectProblem(await letter('language=xx'), 400);
    // Another unit's key: not found, like the notice.
    const otherUnit = await createKey(t, s.municipality.id, 'unit_staff');
    expectProblem(await letter('', otherUnit.token), 404);
  });

  it('offers letters in the languages the municipality enables, Ukrainian included', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-20', rating: { overallLevel: 1 } });
    await s.assess({ assessedOn: '2026-11-21', rating: { overallLevel: 2 } });
    const notice = (await s.notices()).find((n) => n.reason === 'zone_change') as Notice;
    const letter = (query: string) =>
      t.call('GET', `/v1/parent-notices/${notice.id}/letter?${query}`, { token: s.staff.token });
    const languages = (token: string) => t.call('GET', '/v1/parent-letter-languages', { token });
    expect((await languages(s.staff.token)).json()).toEqual({
      languages: ['da', 'en'],
      available: ['da', 'en', 'uk'],
    });
    // Not enabled yet: a 422 naming the languages on offer.
    const refused = expectProblem(await letter('language=uk&format=text'), 422);
    expect(JSON.stringify(refused)).toContain('da, en');
    // Only the administrator chooses; a language is listed once.
    const set = (body: unknown, token = s.admin.token) =>
      t.call('PUT', '/v1/parent-letter-languages', { token, body });
    expectProblem(await set({ languages: ['uk'] }, s.staff.token), 403);
    expectProblem(await set({ languages: ['uk', 'uk'] }), 400);
    expectProblem(await set({ languages: ['da'] }), 400);
    const chosen = await set({ languages: ['uk'] });
    expect(chosen.statusCode, chosen.body).toBe(200);
    expect(chosen.json().languages).toEqual(['da', 'uk']);
    expectProblem(await letter('language=en'), 422);

    const text = await letter('language=uk&format=text');
    expect(text.statusCode, text.body).toBe(200);
    expect(text.headers['content-language']).toBe('uk');
    expect(text.body).toContain('Тепер оцінка жовта; минулого разу вона була зелена.');
    expect(text.body).toContain('через 5 років');
    expect(text.body).toContain('Datatilsynet');
    // The guide's step titles exist in Danish and English: English in other languages.
    expect(text.body).toMatch(/\(до \d+ (листопада|грудня) 2026 р\.\)/);
    const html = await letter('language=uk');
    expect(html.body).toContain('<html lang="uk">');
    // The PDF embeds a font with Cyrillic (pdfkit's standard fonts have none).
    const pdf = await letter('language=uk&format=pdf');
    expect(pdf.statusCode).toBe(200);
    expect(pdf.rawPayload.toString('latin1')).toMatch(/FontFile2/);
    expect(pdf.rawPayload.toString('latin1')).toContain('DejaVuSans');
    // Another municipality's choice is its own.
    const other = await setup(t);
    expect((await languages(other.admin.token)).json().languages).toEqual(['da', 'en']);
  });

  it('writes no letter under a violence flag until a leader records the parents informed', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-21', redFlags: ['violence'] });
    const [risky] = await s.notices();
    const letter = (token: string) =>
      t.call('GET', `/v1/parent-notices/${risky?.id}/letter`, { token });
    expectProblem(await letter(s.staff.token), 409);
    expectProblem(await letter(s.leader.token), 409);
    const informed = await s.informed(risky?.id as string, {}, s.leader.token);
    expect(informed.statusCode, informed.body).toBe(200);
    expect((await letter(s.staff.token)).statusCode).toBe(200);
  });

  it('stays with the unit after the child left, until it is recorded', async () => {
    const s = await setup(t);
    // Green: no step stays open, so only the parents' information keeps the child visible.
    await s.assess({ assessedOn: '2026-11-10', rating: { overallLevel: 1 } });
    const enrolment = (
      await t.call('GET', `/v1/children/${s.child.id}/enrolments`, { token: s.admin.token })
    ).json().items[0];
    const ended = await t.call('PATCH', `/v1/children/${s.child.id}/enrolments/${enrolment.id}`, {
      token: s.admin.token,
      body: { endDate: '2026-11-15' },
    });
    expect(ended.statusCode, ended.body).toBe(200);
    const [notice] = await s.notices('status=open', s.staff.token);
    expect(notice).toMatchObject({ overdue: true });
    const recorded = await s.informed(notice?.id as string, {}, s.staff.token);
    expect(recorded.statusCode, recorded.body).toBe(200);
    // Recorded: the child has left and nothing more is owed, so the unit no longer sees it.
    expect(await s.notices('status=all', s.staff.token)).toEqual([]);
    expectProblem(await t.call('GET', `/v1/children/${s.child.id}`, { token: s.staff.token }), 404);
  });

  it('is seen by its unit and municipality only, and not by analysts or social workers', async () => {
    const s = await setup(t);
    await s.assess({ assessedOn: '2026-11-20' });
    const [notice] = await s.notices();
    const id = notice?.id as string;
    const otherUnit = await createKey(t, s.municipality.id, 'unit_staff');
    const analyst = await createKey(t, s.municipality.id, 'analyst');
    const socialWorker = await createKey(t, s.municipality.id, 'social_worker');
    const other = await createTenant(t);
    expect(await s.notices('status=all', otherUnit.token)).toEqual([]);
    for (const token of [otherUnit.token, other.admin.token]) {
      expectProblem(await t.call('GET', `/v1/parent-notices/${id}`, { token }), 404);
      expectProblem(await s.informed(id, {}, token), 404);
    }
    for (const token of [analyst.token, socialWorker.token]) {
      expectProblem(await t.call('GET', `/v1/parent-notices/${id}`, { token }), 403);
      expectProblem(await t.call('GET', '/v1/parent-notices', { token }), 403);
    }
    const own = await t.call('GET', `/v1/parent-notices/${id}`, { token: s.staff.token });
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json()).toEqual(notice);
  });
});
