import { expect, it } from 'vitest';
import type { AssessmentWithRecommendation } from '../../src/features/assessments/schemas.js';
import type { Flag } from '../../src/features/flags/schemas.js';
import type { RecommendationView, StepTask } from '../../src/features/recommendations/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const TODAY = '2026-11-22T09:00:00.000Z';

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];

type Tenant = Awaited<ReturnType<typeof createScreeningTenant>>;
type WorklistItem = StepTask & {
  child: { id: string; externalRef: string; givenName: string | null; familyName: string | null };
};
interface FeedEvent {
  id: number;
  type: string;
  occurredAt: string;
  childId: string | null;
  subject: { type: string; id: string };
  data: Record<string, unknown>;
}
interface EventPage {
  items: FeedEvent[];
  nextCursor: string | null;
  hasMore: boolean;
}

const YELLOW_KEYS = [
  'parents_dialogue',
  'inform_unit_leader',
  'focus_plan',
  'consider_sparring',
  'reassess',
];
const RED_KEYS = [
  'involve_unit_leader',
  'parents_meeting',
  'interdisciplinary_meeting',
  'concern_report',
];

/** A tenant with a kindergarten, the topi-3 version and one child enrolled since 2024-08-01. */
async function setup(t: EngineContext) {
  const tenant = await createScreeningTenant(t);
  const child = await createChild(t, tenant.admin.token, {
    unitId: tenant.unit.id,
    enrolledFrom: '2024-08-01',
  });
  return { ...tenant, child };
}

async function createRound(
  t: EngineContext,
  s: Tenant,
  name: string,
  windowStart: string,
  windowEnd: string,
  extra: Record<string, unknown> = {},
): Promise<{ id: string; name: string }> {
  const res = await t.call('POST', '/v1/rounds', {
    token: s.admin.token,
    body: { name, windowStart, windowEnd, rulerVersionId: s.topi, ...extra },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

/** A topi-3 joint assessment (201 expected), in a round or on the ruler directly. */
async function assess(
  t: EngineContext,
  s: Tenant,
  o: {
    childId: string;
    assessedOn: string;
    level: 1 | 2 | 3;
    unitId?: string;
    roundId?: string;
    redFlags?: string[];
    token?: string;
  },
): Promise<AssessmentWithRecommendation> {
  const res = await t.call('POST', '/v1/assessments', {
    token: o.token ?? s.admin.token,
    body: {
      childId: o.childId,
      unitId: o.unitId ?? s.unit.id,
      ...(o.roundId ? { roundId: o.roundId } : { rulerVersionId: s.topi }),
      assessedOn: o.assessedOn,
      raters,
      rating: { overallLevel: o.level },
      ...(o.redFlags ? { redFlags: o.redFlags } : {}),
      parentsInformed: true,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

function stepOf(rec: RecommendationView, key: string): StepTask {
  const step = rec.steps.find((s) => s.stepKey === key);
  if (!step) throw new Error(`no step ${key} in ${rec.steps.map((s) => s.stepKey).join(', ')}`);
  return step;
}

const byFirst = (x: unknown[], y: unknown[]) => String(x[0]).localeCompare(String(y[0]));

const keys = (steps: readonly { stepKey: string }[]) => steps.map((s) => s.stepKey);

async function getRecommendation(t: EngineContext, token: string, id: string) {
  const res = await t.call('GET', `/v1/recommendations/${id}`, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as RecommendationView;
}

function patchStep(t: EngineContext, token: string, stepId: string, body: unknown) {
  return t.call('PATCH', `/v1/steps/${stepId}`, { token, body });
}

async function worklist(t: EngineContext, token: string, query = '') {
  const res = await t.call('GET', `/v1/worklist?limit=200${query}`, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: WorklistItem[]; nextCursor: string | null };
}

async function listFlags(t: EngineContext, token: string, query = '') {
  const limit = query.includes('limit=') ? '' : 'limit=200';
  const res = await t.call('GET', `/v1/flags?${limit}${query}`, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as { items: Flag[]; nextCursor: string | null };
}

async function readEvents(t: EngineContext, token: string, query: string): Promise<EventPage> {
  const res = await t.call('GET', `/v1/events?${query}`, { token });
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/**
 * Follows the feed from `after` until `count` events arrived. Events of transactions older than
 * one still running (e.g. another test file's, on a shared PostgreSQL cluster) show up only once
 * that transaction ends, so an empty page is retried for a while.
 */
async function follow(
  t: EngineContext,
  token: string,
  count: number,
  limit: number,
  after?: string,
): Promise<{ events: FeedEvent[]; pages: number; cursor: string | null }> {
  const events: FeedEvent[] = [];
  let cursor: string | null = after ?? null;
  let pages = 0;
  const deadline = Date.now() + 10_000;
  while (events.length < count && Date.now() < deadline) {
    const page = await readEvents(
      t,
      token,
      `limit=${limit}${cursor ? `&after=${encodeURIComponent(cursor)}` : ''}`,
    );
    pages += 1;
    expect(page.items.length).toBeLessThanOrEqual(limit);
    events.push(...page.items);
    if (page.items.length > 0) expect(page.nextCursor).not.toBeNull();
    cursor = page.nextCursor;
    if (page.items.length === 0) await new Promise((r) => setTimeout(r, 25));
  }
  return { events, pages, cursor };
}

describeEngines('recommendations and follow-up', (t) => {
  it('an assessment returns its recommendation, and both GET routes return the same', async () => {
    const s = await setup(t);
    const guides = await t.call('GET', '/v1/action-guides', { token: s.admin.token });
    expect(guides.statusCode, guides.body).toBe(200);
    const topiGuide = guides
      .json()
      .items.find((g: { rulerKey: string }) => g.rulerKey === 'topi-3');
    expect(topiGuide?.latestVersion.id).toMatch(/^[0-9a-f-]{36}$/);

    const a = await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-20', level: 3 });
    expect(a.zone).toBe('red');
    const rec = a.recommendation;
    expect(rec).toMatchObject({
      assessmentId: a.id,
      childId: s.child.id,
      unitId: s.unit.id,
      guideVersionId: topiGuide.latestVersion.id,
      zone: 'red',
      previousZone: null,
      zoneChanged: false,
      flags: [],
      summary: 'Red: 4 steps, 2 mandatory; no flags.',
    });
    const common = {
      recommendationId: rec.id,
      childId: s.child.id,
      unitId: s.unit.id,
      zone: 'red',
      source: 'zone',
      status: 'open',
      statusReason: null,
      statusChangedAt: null,
      statusChangedBy: null,
    };
    expect(rec.steps).toEqual([
      expect.objectContaining({
        ...common,
        position: 0,
        stepKey: 'involve_unit_leader',
        dueOn: '2026-11-20', // same day
        overdue: true, // today is 2026-11-22
        responsible: 'unit_staff',
        involve: ['unit_leader'],
        mandatory: true,
        legalReference: null,
        purpose: 'other',
        title: { da: 'Inddrag lederen samme dag', en: 'Involve the unit leader the same day' },
      }),
      expect.objectContaining({
        ...common,
        position: 1,
        stepKey: 'parents_meeting',
        dueOn: '2026-11-27', // + 7
        overdue: false,
        responsible: 'unit_leader',
        involve: ['parents', 'unit_leader', 'unit_staff'],
        mandatory: false,
        legalReference: null,
        purpose: 'other',
      }),
      expect.objectContaining({
        ...common,
        position: 2,
        stepKey: 'interdisciplinary_meeting',
        dueOn: '2026-12-04', // + 14
        overdue: false,
        responsible: 'unit_leader',
        involve: ['interdisciplinary_team', 'ppr', 'health_visitor', 'school_social_worker'],
        mandatory: false,
        legalReference: null,
        purpose: 'other',
      }),
      expect.objectContaining({
        ...common,
        position: 3,
        stepKey: 'concern_report',
        dueOn: '2026-11-23', // + 3
        overdue: false,
        responsible: 'unit_leader',
        involve: ['child_services'],
        mandatory: true,
        legalReference: 'Barnets Lov § 133',
        purpose: 'concern_report',
      }),
    ]);
    expect(new Set(rec.steps.map((step) => step.id)).size).toBe(4);

    expect(await getRecommendation(t, s.admin.token, rec.id)).toEqual(rec);
    const byAssessment = await t.call('GET', `/v1/assessments/${a.id}/recommendation`, {
      token: s.admin.token,
    });
    expect(byAssessment.statusCode, byAssessment.body).toBe(200);
    expect(byAssessment.json()).toEqual(rec);

    // A yellow one: deadlines across the month and the year end.
    const child2 = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const yellow = (await assess(t, s, { childId: child2.id, assessedOn: '2026-11-20', level: 2 }))
      .recommendation;
    expect(yellow.steps.map((st) => [st.stepKey, st.dueOn, st.responsible, st.mandatory])).toEqual([
      ['parents_dialogue', '2026-12-04', 'unit_staff', false],
      ['inform_unit_leader', '2026-11-27', 'unit_staff', false],
      ['focus_plan', '2026-12-20', 'unit_leader', false],
      ['consider_sparring', '2026-12-20', 'unit_leader', false],
      ['reassess', '2027-02-18', 'unit_staff', false],
    ]);

    // Another municipality sees neither; unknown ids are 404.
    const other = await setup(t);
    expectProblem(
      await t.call('GET', `/v1/recommendations/${rec.id}`, { token: other.admin.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/assessments/${a.id}/recommendation`, { token: other.admin.token }),
      404,
    );
    expectProblem(
      await t.call('GET', `/v1/recommendations/${crypto.randomUUID()}`, { token: s.admin.token }),
      404,
    );
  });

  it('green → yellow → yellow → red over four rounds: zone change, persistence, escalation, concern report', async () => {
    const s = await setup(t);
    const rounds = [
      await createRound(t, s, 'Forår 2025', '2025-04-01', '2025-05-31'),
      await createRound(t, s, 'Efterår 2025', '2025-10-01', '2025-11-30'),
      await createRound(t, s, 'Forår 2026', '2026-04-01', '2026-05-31'),
      await createRound(t, s, 'Efterår 2026', '2026-10-01', '2026-11-30'),
    ];
    const plan = [
      { assessedOn: '2025-04-15', level: 1 },
      { assessedOn: '2025-10-15', level: 2 },
      { assessedOn: '2026-04-15', level: 2 },
      { assessedOn: '2026-11-02', level: 3 },
    ] as const;
    const recs: RecommendationView[] = [];
    for (const [i, p] of plan.entries()) {
      const a = await assess(t, s, { childId: s.child.id, roundId: rounds[i]?.id, ...p });
      recs.push(a.recommendation);
    }
    const [r1, r2, r3, r4] = recs as [
      RecommendationView,
      RecommendationView,
      RecommendationView,
      RecommendationView,
    ];

    // 1st: green, nothing to do.
    expect(r1).toMatchObject({ zone: 'green', previousZone: null, zoneChanged: false, flags: [] });
    expect(r1.steps).toEqual([]);

    // 2nd: yellow, the zone changed: parents must be informed; it got worse.
    expect(r2).toMatchObject({ zone: 'yellow', previousZone: 'green', zoneChanged: true });
    expect(keys(r2.steps)).toEqual([...YELLOW_KEYS, 'inform_parents']);
    expect(r2.steps.slice(0, 5).every((st) => st.source === 'zone')).toBe(true);
    expect(stepOf(r2, 'inform_parents')).toMatchObject({
      source: 'zone_change',
      purpose: 'inform_parents',
      involve: ['parents'],
      responsible: 'unit_staff',
      dueOn: '2025-10-22',
      // Recorded with parentsInformed: true, so the step that records it is done.
      status: 'done',
    });
    expect(r2.flags.map((f) => f.kind)).toEqual(['deterioration']);
    expect(r2.flags[0]?.reason).toContain('from green to yellow');

    // 3rd: yellow again, a round later: persistent, escalated to red's steps.
    expect(r3).toMatchObject({ zone: 'yellow', previousZone: 'yellow', zoneChanged: false });
    expect(r3.flags.map((f) => f.kind)).toEqual(['persistent']);
    expect(r3.flags[0]?.reason).toContain(rounds[1]?.id);
    expect(r3.flags[0]?.reason).toContain(rounds[2]?.id);
    expect(keys(r3.steps)).toEqual([...YELLOW_KEYS, ...RED_KEYS]);
    expect(r3.steps.map((st) => st.source)).toEqual([
      ...YELLOW_KEYS.map(() => 'zone'),
      ...RED_KEYS.map(() => 'escalation'),
    ]);
    expect(keys(r3.steps)).not.toContain('inform_parents');
    expect(stepOf(r3, 'involve_unit_leader')).toMatchObject({
      dueOn: '2026-04-15',
      mandatory: true,
    });
    expect(stepOf(r3, 'concern_report')).toMatchObject({
      source: 'escalation',
      purpose: 'concern_report',
      mandatory: true,
      dueOn: '2026-04-18',
    });

    // 4th: red: a mandatory concern report, parents informed of the change, deterioration.
    expect(r4).toMatchObject({ zone: 'red', previousZone: 'yellow', zoneChanged: true });
    expect(keys(r4.steps)).toEqual([...RED_KEYS, 'inform_parents']);
    expect(stepOf(r4, 'concern_report')).toMatchObject({
      source: 'zone',
      purpose: 'concern_report',
      mandatory: true,
      legalReference: 'Barnets Lov § 133',
      responsible: 'unit_leader',
      involve: ['child_services'],
      dueOn: '2026-11-05',
      status: 'open',
    });
    expect(stepOf(r4, 'inform_parents')).toMatchObject({
      source: 'zone_change',
      dueOn: '2026-11-09',
    });
    expect(r4.flags.map((f) => f.kind)).toEqual(['deterioration']);
    expect(r4.flags[0]?.reason).toContain('from yellow to red');

    // The flags are raised for the child, in order.
    const flags = await listFlags(t, s.admin.token, `&childId=${s.child.id}`);
    // (raised in the same minute: compare regardless of their order)
    const byRound = (f: Flag) => plan.findIndex((_, i) => rounds[i]?.id === f.roundId);
    expect(
      flags.items
        .map((f) => [byRound(f), f.kind, f.status])
        .sort((x, y) => Number(x[0]) - Number(y[0])),
    ).toEqual([
      [1, 'deterioration', 'raised'],
      [2, 'persistent', 'raised'],
      [3, 'deterioration', 'raised'],
    ]);
  });

  it('a violence red flag: concern report immediately, and the parents are not informed first', async () => {
    const s = await setup(t);
    await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-01', level: 2 });
    const a = await assess(t, s, {
      childId: s.child.id,
      assessedOn: '2026-11-20',
      level: 1,
      redFlags: ['violence'],
    });
    expect(a.zone).toBe('red');
    const rec = a.recommendation;
    expect(rec).toMatchObject({ zone: 'red', previousZone: 'yellow', zoneChanged: true });
    expect(keys(rec.steps)).toEqual([
      'involve_unit_leader',
      'interdisciplinary_meeting',
      'concern_report_immediate',
      'police_if_acute',
    ]);
    for (const forbidden of [
      'parents_meeting',
      'inform_parents',
      'parents_dialogue',
      'concern_report',
    ]) {
      expect(keys(rec.steps)).not.toContain(forbidden);
    }
    expect(rec.steps.some((st) => st.involve.includes('parents'))).toBe(false);
    expect(stepOf(rec, 'concern_report_immediate')).toMatchObject({
      dueOn: '2026-11-20',
      mandatory: true,
      purpose: 'concern_report',
      legalReference: 'Barnets Lov § 133',
      involve: ['child_services'],
      responsible: 'unit_leader',
      status: 'open',
    });
    expect(stepOf(rec, 'police_if_acute')).toMatchObject({
      dueOn: '2026-11-20',
      mandatory: false,
      involve: ['police'],
    });
    expect(rec.flags.map((f) => f.kind)).toEqual(['deterioration', 'red_flag']);
    expect(rec.flags[1]?.reason).toContain('violence');
    expect(await getRecommendation(t, s.admin.token, rec.id)).toEqual(rec);
  });

  it('worklist: open steps, overdue by the clock, filters, pagination and who sees what', async () => {
    const s = await setup(t);
    const unitB = await createUnit(t, s.admin.token);
    const unitC = await createUnit(t, s.admin.token);
    const childB = await createChild(t, s.admin.token, { unitId: unitB.id });
    const red = (await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-22', level: 3 }))
      .recommendation;
    const yellow = (
      await assess(t, s, {
        childId: childB.id,
        unitId: unitB.id,
        assessedOn: '2026-11-22',
        level: 2,
      })
    ).recommendation;
    const allIds = new Set([...red.steps, ...yellow.steps].map((st) => st.id));
    expect(allIds.size).toBe(9);

    const all = await worklist(t, s.admin.token);
    expect(all.nextCursor).toBeNull();
    expect(new Set(all.items.map((i) => i.id))).toEqual(allIds);
    expect(all.items.map((i) => i.dueOn)).toEqual([
      '2026-11-22',
      '2026-11-25',
      '2026-11-29',
      '2026-11-29',
      '2026-12-06',
      '2026-12-06',
      '2026-12-22',
      '2026-12-22',
      '2027-02-20',
    ]);
    const sorted = [...all.items].sort((x, y) =>
      x.dueOn === y.dueOn ? (x.id < y.id ? -1 : 1) : x.dueOn < y.dueOn ? -1 : 1,
    );
    expect(all.items.map((i) => i.id)).toEqual(sorted.map((i) => i.id));
    expect(all.items.every((i) => i.status === 'open' && i.overdue === false)).toBe(true);
    const first = all.items[0] as WorklistItem;
    expect(first).toMatchObject({
      stepKey: 'involve_unit_leader',
      childId: s.child.id,
      unitId: s.unit.id,
      child: { id: s.child.id, externalRef: s.child.externalRef },
    });
    expect((await worklist(t, s.admin.token, '&overdue=true')).items).toEqual([]);

    // Four days later two red steps are past their due date.
    try {
      t.clock.set('2026-11-26T09:00:00.000Z');
      const later = await worklist(t, s.admin.token);
      expect(later.items.filter((i) => i.overdue).map((i) => i.stepKey)).toEqual([
        'involve_unit_leader',
        'concern_report',
      ]);
      const overdue = await worklist(t, s.admin.token, '&overdue=true');
      expect(overdue.items.map((i) => [i.stepKey, i.dueOn, i.overdue])).toEqual([
        ['involve_unit_leader', '2026-11-22', true],
        ['concern_report', '2026-11-25', true],
      ]);
      const notYet = await worklist(t, s.admin.token, '&overdue=false');
      expect(notYet.items).toHaveLength(7);
      expect(notYet.items.every((i) => !i.overdue && i.dueOn >= '2026-11-26')).toBe(true);
      // "Today" is the Danish date: 23:59:59 on the 25th in Copenhagen (UTC+1) is not yet late
      // for a step due on the 25th; one second later it is.
      t.clock.set('2026-11-25T22:59:59.000Z');
      expect(
        (await worklist(t, s.admin.token, '&overdue=true')).items.map((i) => i.stepKey),
      ).toEqual(['involve_unit_leader']);
      t.clock.set('2026-11-25T23:00:00.000Z');
      expect(
        (await worklist(t, s.admin.token, '&overdue=true')).items.map((i) => i.stepKey),
      ).toEqual(['involve_unit_leader', 'concern_report']);
    } finally {
      t.clock.set(TODAY);
    }

    // Filters.
    const byUnit = await worklist(t, s.admin.token, `&unitId=${unitB.id}`);
    expect(new Set(keys(byUnit.items))).toEqual(new Set(YELLOW_KEYS));
    expect(byUnit.items.every((i) => i.unitId === unitB.id && i.childId === childB.id)).toBe(true);
    const byResponsible = await worklist(t, s.admin.token, '&responsible=unit_staff');
    expect(keys(byResponsible.items).sort()).toEqual(
      ['involve_unit_leader', 'inform_unit_leader', 'parents_dialogue', 'reassess'].sort(),
    );
    const byZone = await worklist(t, s.admin.token, '&zone=red');
    expect(new Set(byZone.items.map((i) => i.id))).toEqual(new Set(red.steps.map((st) => st.id)));
    const combined = await worklist(t, s.admin.token, '&zone=yellow&responsible=unit_leader');
    expect(keys(combined.items).sort()).toEqual(['consider_sparring', 'focus_plan']);
    const dueBefore = await worklist(t, s.admin.token, '&dueBefore=2026-11-29');
    expect(dueBefore.items.map((i) => i.dueOn)).toEqual([
      '2026-11-22',
      '2026-11-25',
      '2026-11-29',
      '2026-11-29',
    ]);

    // Cursor pagination: each step exactly once, in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await t.call(
        'GET',
        `/v1/worklist?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
        { token: s.admin.token },
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: WorklistItem[]; nextCursor: string | null };
      expect(page.items.length).toBeLessThanOrEqual(2);
      paged.push(...page.items.map((i) => i.id));
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 20);
    expect(pages).toBe(5);
    expect(paged).toEqual(all.items.map((i) => i.id));

    // Unit-limited keys see their units only.
    const staffC = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [unitC.id],
    });
    expect((await worklist(t, staffC.token)).items).toEqual([]);
    const staffA = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    expect(new Set((await worklist(t, staffA.token)).items.map((i) => i.id))).toEqual(
      new Set(red.steps.map((st) => st.id)),
    );

    // Social workers: steps for child services and school social workers.
    const social = await createKey(t, s.municipality.id, 'social_worker', { token: s.admin.token });
    const sw = await worklist(t, social.token);
    expect(keys(sw.items)).toEqual([
      'concern_report',
      'interdisciplinary_meeting',
      'consider_sparring',
    ]);
    const socialRoles = ['child_services', 'school_social_worker'];
    expect(
      sw.items.every(
        (i) =>
          socialRoles.includes(i.responsible) || i.involve.some((r) => socialRoles.includes(r)),
      ),
    ).toBe(true);

    const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
    expectProblem(await t.call('GET', '/v1/worklist', { token: analyst.token }), 403);

    // A step that is done leaves the worklist.
    const meeting = stepOf(red, 'parents_meeting');
    expect((await patchStep(t, s.admin.token, meeting.id, { status: 'done' })).statusCode).toBe(
      200,
    );
    const after = await worklist(t, s.admin.token);
    expect(after.items).toHaveLength(8);
    expect(after.items.map((i) => i.id)).not.toContain(meeting.id);
  });

  it('step transitions, corrections and withdrawals', async () => {
    const s = await setup(t);
    const a = await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-22', level: 3 });
    const rec = a.recommendation;
    const meeting = stepOf(rec, 'parents_meeting');
    const tværs = stepOf(rec, 'interdisciplinary_meeting');
    const leader = stepOf(rec, 'involve_unit_leader');
    const concern = stepOf(rec, 'concern_report');

    // open → done
    t.clock.set('2026-11-22T10:15:00.000Z');
    try {
      const done = await patchStep(t, s.admin.token, meeting.id, { status: 'done' });
      expect(done.statusCode, done.body).toBe(200);
      expect(done.json()).toMatchObject({
        id: meeting.id,
        stepKey: 'parents_meeting',
        status: 'done',
        statusReason: null,
        statusChangedBy: s.admin.id,
        statusChangedAt: '2026-11-22T10:15:00.000Z',
        overdue: false,
      });
    } finally {
      t.clock.set(TODAY);
    }
    // The same status twice.
    const twice = expectProblem(
      await patchStep(t, s.admin.token, meeting.id, { status: 'done' }),
      409,
    );
    expect(twice.type).toBe('urn:lineal:problem:step-unchanged');
    // done → open needs a reason.
    const noReason = expectProblem(
      await patchStep(t, s.admin.token, meeting.id, { status: 'open' }),
      422,
    );
    expect(noReason.errors?.map((e) => e.path)).toEqual(['body.reason']);
    const reopened = await patchStep(t, s.admin.token, meeting.id, {
      status: 'open',
      reason: 'Forældrene udeblev; nyt møde aftales.',
    });
    expect(reopened.statusCode, reopened.body).toBe(200);
    expect(reopened.json()).toMatchObject({
      status: 'open',
      statusReason: 'Forældrene udeblev; nyt møde aftales.',
      statusChangedBy: s.admin.id,
    });
    // open → not_applicable needs a reason.
    const naNoReason = expectProblem(
      await patchStep(t, s.admin.token, tværs.id, { status: 'not_applicable' }),
      422,
    );
    expect(naNoReason.errors?.map((e) => e.path)).toEqual(['body.reason']);
    // a mandatory step is never not applicable.
    const mandatory = expectProblem(
      await patchStep(t, s.admin.token, leader.id, {
        status: 'not_applicable',
        reason: 'Ikke nødvendigt',
      }),
      422,
    );
    expect(mandatory.errors?.map((e) => `${e.path}:${e.code}`)).toEqual(['body.status:mandatory']);
    // a concern-report step is done by recording the report.
    const concernDone = expectProblem(
      await patchStep(t, s.admin.token, concern.id, { status: 'done' }),
      422,
    );
    expect(concernDone.errors?.map((e) => `${e.path}:${e.code}`)).toEqual([
      'body.status:record_concern_report',
    ]);
    // Nothing of that changed the steps.
    const unchanged = await getRecommendation(t, s.admin.token, rec.id);
    expect(unchanged.steps.map((st) => [st.stepKey, st.status])).toEqual([
      ['involve_unit_leader', 'open'],
      ['parents_meeting', 'open'],
      ['interdisciplinary_meeting', 'open'],
      ['concern_report', 'open'],
    ]);
    // Another municipality's step is not found.
    const other = await setup(t);
    const foreign = expectProblem(
      await patchStep(t, other.admin.token, meeting.id, { status: 'done' }),
      404,
    );
    expect(foreign.type).toBe('urn:lineal:problem:not-found');
    expect((await getRecommendation(t, s.admin.token, rec.id)).steps[1]?.status).toBe('open');

    // Mark the meeting done again, then correct the assessment to yellow.
    expect((await patchStep(t, s.admin.token, meeting.id, { status: 'done' })).statusCode).toBe(
      200,
    );
    const corrected = await t.call('POST', `/v1/assessments/${a.id}/corrections`, {
      token: s.admin.token,
      body: {
        reason: 'Forkert niveau registreret.',
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-22',
        raters,
        rating: { overallLevel: 2 },
        parentsInformed: true,
      },
    });
    expect(corrected.statusCode, corrected.body).toBe(201);
    const correction = corrected.json() as AssessmentWithRecommendation;
    expect(correction).toMatchObject({ zone: 'yellow', supersedesId: a.id, version: 2 });
    const fresh = correction.recommendation;
    expect(fresh.assessmentId).toBe(correction.id);
    expect(fresh.id).not.toBe(rec.id);
    expect(keys(fresh.steps)).toEqual(YELLOW_KEYS);
    expect(fresh.steps.every((st) => st.status === 'open' && st.statusChangedAt === null)).toBe(
      true,
    );
    expect(fresh.steps.some((st) => rec.steps.some((old) => old.id === st.id))).toBe(false);

    const old = await getRecommendation(t, s.admin.token, rec.id);
    expect(old.steps.map((st) => [st.stepKey, st.status, st.statusReason])).toEqual([
      ['involve_unit_leader', 'superseded', 'corrected'],
      ['parents_meeting', 'done', null],
      ['interdisciplinary_meeting', 'superseded', 'corrected'],
      ['concern_report', 'superseded', 'corrected'],
    ]);
    expect(stepOf(old, 'involve_unit_leader').statusChangedBy).toBe(s.admin.id);
    const superseded = expectProblem(
      await patchStep(t, s.admin.token, tværs.id, { status: 'done' }),
      409,
    );
    expect(superseded.type).toBe('urn:lineal:problem:step-superseded');

    // The worklist holds only the fresh steps.
    expect(new Set((await worklist(t, s.admin.token)).items.map((i) => i.id))).toEqual(
      new Set(fresh.steps.map((st) => st.id)),
    );

    // Withdrawing the corrected assessment supersedes its open steps; done ones stay done.
    const informLeader = stepOf(fresh, 'inform_unit_leader');
    expect(
      (await patchStep(t, s.admin.token, informLeader.id, { status: 'done' })).statusCode,
    ).toBe(200);
    const withdrawn = await t.call('POST', `/v1/assessments/${correction.id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Registreret på det forkerte barn.' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json().status).toBe('withdrawn');
    const afterWithdrawal = await getRecommendation(t, s.admin.token, fresh.id);
    expect(afterWithdrawal.steps.map((st) => [st.stepKey, st.status, st.statusReason])).toEqual([
      ['parents_dialogue', 'superseded', 'withdrawn'],
      ['inform_unit_leader', 'done', null],
      ['focus_plan', 'superseded', 'withdrawn'],
      ['consider_sparring', 'superseded', 'withdrawn'],
      ['reassess', 'superseded', 'withdrawn'],
    ]);
    expect((await worklist(t, s.admin.token)).items).toEqual([]);
    expectProblem(
      await patchStep(t, s.admin.token, stepOf(fresh, 'reassess').id, { status: 'done' }),
      409,
    );
  });

  it('concern reports complete the open concern-report steps', async () => {
    const s = await setup(t);
    const first = (await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-20', level: 3 }))
      .recommendation;
    const second = (await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-22', level: 3 }))
      .recommendation;
    const c1 = stepOf(first, 'concern_report');
    const c2 = stepOf(second, 'concern_report');
    const url = `/v1/children/${s.child.id}/concern-reports`;
    const reportedBy = { name: 'Bo Leder', role: 'unit_leader' };

    const future = expectProblem(
      await t.call('POST', url, {
        token: s.admin.token,
        body: { reportedOn: '2026-11-23', reportedBy, reference: 'FA-1' },
      }),
      422,
    );
    expect(future.errors?.map((e) => `${e.path}:${e.code}`)).toEqual([
      'body.reportedOn:future_date',
    ]);
    const notConcern = expectProblem(
      await t.call('POST', url, {
        token: s.admin.token,
        body: {
          reportedOn: '2026-11-21',
          reportedBy,
          stepIds: [c1.id, stepOf(first, 'parents_meeting').id],
        },
      }),
      422,
    );
    expect(notConcern.errors?.map((e) => e.path)).toEqual(['body.stepIds.1']);
    const empty = await t.call('GET', url, { token: s.admin.token });
    expect(empty.statusCode, empty.body).toBe(200);
    expect(empty.json()).toEqual({ items: [] });
    expect(
      (await getRecommendation(t, s.admin.token, first.id)).steps.map((st) => st.status),
    ).toEqual(['open', 'open', 'open', 'open']);

    // A report naming one step completes that one only.
    const named = await t.call('POST', url, {
      token: s.admin.token,
      body: { reportedOn: '2026-11-20', reportedBy, reference: 'FA-2026-0041', stepIds: [c1.id] },
    });
    expect(named.statusCode, named.body).toBe(201);
    const r1 = named.json();
    expect(named.headers.location).toBe(url);
    expect(r1).toMatchObject({
      childId: s.child.id,
      reportedOn: '2026-11-20',
      reportedBy,
      reference: 'FA-2026-0041',
      completedStepIds: [c1.id],
      createdBy: s.admin.id,
    });
    // Without stepIds: every open concern-report step of the child (here the other one).
    const all = await t.call('POST', url, {
      token: s.admin.token,
      body: { reportedOn: '2026-11-22', reportedBy, reference: 'FA-2026-0042' },
    });
    expect(all.statusCode, all.body).toBe(201);
    const r2 = all.json();
    expect(r2.completedStepIds).toEqual([c2.id]);

    const firstAfter = await getRecommendation(t, s.admin.token, first.id);
    expect(stepOf(firstAfter, 'concern_report')).toMatchObject({
      status: 'done',
      statusChangedBy: s.admin.id,
      statusChangedAt: TODAY,
    });
    expect(stepOf(firstAfter, 'concern_report').statusReason).toContain(r1.id);
    expect(stepOf(firstAfter, 'concern_report').statusReason).toContain('FA-2026-0041');
    expect(stepOf(firstAfter, 'parents_meeting').status).toBe('open');
    const secondAfter = await getRecommendation(t, s.admin.token, second.id);
    expect(stepOf(secondAfter, 'concern_report').status).toBe('done');
    expect(stepOf(secondAfter, 'concern_report').statusReason).toContain(r2.id);

    const listed = await t.call('GET', url, { token: s.admin.token });
    expect(listed.statusCode, listed.body).toBe(200);
    expect(listed.json().items).toEqual([r1, r2]);

    // A done step cannot be named again.
    const again = expectProblem(
      await t.call('POST', url, {
        token: s.admin.token,
        body: { reportedOn: '2026-11-22', reportedBy, stepIds: [c1.id] },
      }),
      422,
    );
    expect(again.errors?.map((e) => `${e.path}:${e.code}`)).toEqual([
      'body.stepIds.0:not_open_concern_report_step',
    ]);
    // The concern-report steps left the worklist.
    const left = await worklist(t, s.admin.token);
    expect(left.items.some((i) => i.purpose === 'concern_report')).toBe(false);
    expect(left.items).toHaveLength(6);
  });

  it('flags: raised, acknowledged once, listed by status; not_assessed after the window closed', async () => {
    const s = await setup(t);
    const spring = await createRound(t, s, 'Forår 2026', '2026-04-01', '2026-05-31', {
      unitKinds: ['kindergarten'],
    });
    const autumn = await createRound(t, s, 'Efterår 2026', '2026-10-01', '2026-11-30', {
      unitKinds: ['kindergarten'],
    });
    // s.child: yellow in both rounds → persistent.
    await assess(t, s, {
      childId: s.child.id,
      roundId: spring.id,
      assessedOn: '2026-04-15',
      level: 2,
    });
    const persistentA = await assess(t, s, {
      childId: s.child.id,
      roundId: autumn.id,
      assessedOn: '2026-11-02',
      level: 2,
    });
    // child2: green, then red with a violence flag → deterioration and red_flag.
    const child2 = await createChild(t, s.admin.token, { unitId: s.unit.id });
    await assess(t, s, { childId: child2.id, assessedOn: '2026-10-01', level: 1 });
    const redA = await assess(t, s, {
      childId: child2.id,
      assessedOn: '2026-11-20',
      level: 1,
      redFlags: ['violence'],
    });
    // Not counted by the spring round: enrolled after it, or in a school.
    await createChild(t, s.admin.token, { unitId: s.unit.id, enrolledFrom: '2026-08-01' });
    const school = await createUnit(t, s.admin.token, { kind: 'school' });
    await createChild(t, s.admin.token, { unitId: school.id, birthDate: '2018-03-01' });

    const raised = await listFlags(t, s.admin.token);
    // All raised at the same instant, so their order is by id: compare as a set.
    expect(
      raised.items.map((f) => [f.kind, f.childId, f.assessmentId, f.status]).sort(byFirst),
    ).toEqual([
      ['deterioration', child2.id, redA.id, 'raised'],
      ['persistent', s.child.id, persistentA.id, 'raised'],
      ['red_flag', child2.id, redA.id, 'raised'],
    ]);
    expect(raised.items.every((f) => f.acknowledgedAt === null && f.acknowledgedBy === null)).toBe(
      true,
    );
    const persistent = raised.items.find((f) => f.kind === 'persistent') as Flag;
    expect(persistent).toMatchObject({ roundId: autumn.id, unitId: s.unit.id, raisedAt: TODAY });

    // Acknowledge once.
    t.clock.set('2026-11-22T11:30:00.000Z');
    try {
      const ack = await t.call('POST', `/v1/flags/${persistent.id}/acknowledge`, {
        token: s.admin.token,
        body: { note: 'Drøftet på TOPI-mødet; handleplan lagt.' },
      });
      expect(ack.statusCode, ack.body).toBe(200);
      expect(ack.json()).toEqual({
        ...persistent,
        status: 'acknowledged',
        acknowledgedAt: '2026-11-22T11:30:00.000Z',
        acknowledgedBy: s.admin.id,
        acknowledgementNote: 'Drøftet på TOPI-mødet; handleplan lagt.',
      });
    } finally {
      t.clock.set(TODAY);
    }
    const twice = expectProblem(
      await t.call('POST', `/v1/flags/${persistent.id}/acknowledge`, {
        token: s.admin.token,
        body: { note: 'Igen' },
      }),
      409,
    );
    expect(twice.type).toBe('urn:lineal:problem:flag-acknowledged');
    const acknowledged = await listFlags(t, s.admin.token, '&status=acknowledged');
    expect(acknowledged.items.map((f) => [f.id, f.acknowledgementNote])).toEqual([
      [persistent.id, 'Drøftet på TOPI-mødet; handleplan lagt.'],
    ]);
    expect((await listFlags(t, s.admin.token)).items.map((f) => f.kind).sort()).toEqual([
      'deterioration',
      'red_flag',
    ]);
    const everything = await listFlags(t, s.admin.token, '&status=all');
    expect(everything.items.map((f) => f.id).sort()).toEqual(raised.items.map((f) => f.id).sort());
    // One at a time: each flag exactly once, in the same order.
    const paged: string[] = [];
    let cursor: string | null = null;
    for (let i = 0; i < 10; i += 1) {
      const page = await listFlags(
        t,
        s.admin.token,
        `&status=all&limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`,
      );
      paged.push(...page.items.map((f) => f.id));
      cursor = page.nextCursor;
      if (!cursor) break;
    }
    expect(paged).toEqual(everything.items.map((f) => f.id));
    const other = await setup(t);
    expectProblem(
      await t.call(
        'POST',
        `/v1/flags/${raised.items.find((f) => f.kind === 'red_flag')?.id}/acknowledge`,
        {
          token: other.admin.token,
          body: { note: 'x' },
        },
      ),
      404,
    );
    expect((await listFlags(t, other.admin.token, '&status=all')).items).toEqual([]);

    // not_assessed: 409 while the window is open, then once per missing child.
    const open = expectProblem(
      await t.call('POST', `/v1/rounds/${autumn.id}/not-assessed-flags`, { token: s.admin.token }),
      409,
    );
    expect(open.type).toBe('urn:lineal:problem:round-open');
    const close = await t.call('POST', `/v1/rounds/${spring.id}/not-assessed-flags`, {
      token: s.admin.token,
    });
    expect(close.statusCode, close.body).toBe(200);
    expect(close.json()).toEqual({ raised: 1 });
    const notAssessed = await listFlags(t, s.admin.token, '&kind=not_assessed');
    expect(notAssessed.items).toHaveLength(1);
    expect(notAssessed.items[0]).toMatchObject({
      kind: 'not_assessed',
      childId: child2.id,
      unitId: s.unit.id,
      roundId: spring.id,
      assessmentId: null,
      status: 'raised',
    });
    expect(notAssessed.items[0]?.reason).toContain('Forår 2026');
    const again = await t.call('POST', `/v1/rounds/${spring.id}/not-assessed-flags`, {
      token: s.admin.token,
    });
    expect(again.statusCode, again.body).toBe(200);
    expect(again.json()).toEqual({ raised: 0 });
    expect((await listFlags(t, s.admin.token, '&kind=not_assessed')).items).toHaveLength(1);
    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    expectProblem(
      await t.call('POST', `/v1/rounds/${spring.id}/not-assessed-flags`, { token: staff.token }),
      403,
    );
  });

  it('event feed: every change once, in a stable order, per municipality', async () => {
    const s = await setup(t);
    const other = await setup(t);
    const integration = await createKey(t, s.municipality.id, 'integration', {
      token: s.admin.token,
    });
    // The scenario.
    await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-01', level: 2 });
    await assess(t, other, {
      childId: other.child.id,
      assessedOn: '2026-11-20',
      level: 1,
      redFlags: ['violence'],
    });
    const red = await assess(t, s, { childId: s.child.id, assessedOn: '2026-11-20', level: 3 });
    const meeting = stepOf(red.recommendation, 'parents_meeting');
    expect((await patchStep(t, s.admin.token, meeting.id, { status: 'done' })).statusCode).toBe(
      200,
    );
    const flags = await listFlags(t, s.admin.token);
    expect(flags.items.map((f) => f.kind)).toEqual(['deterioration']);
    const flagId = (flags.items[0] as Flag).id;
    const ack = await t.call('POST', `/v1/flags/${flagId}/acknowledge`, {
      token: s.admin.token,
      body: { note: 'Set.' },
    });
    expect(ack.statusCode, ack.body).toBe(200);
    const report = await t.call('POST', `/v1/children/${s.child.id}/concern-reports`, {
      token: s.admin.token,
      body: { reportedOn: '2026-11-21', reportedBy: { name: 'Bo Leder', role: 'unit_leader' } },
    });
    expect(report.statusCode, report.body).toBe(201);
    const concernStep = stepOf(red.recommendation, 'concern_report');

    const informParents = stepOf(red.recommendation, 'inform_parents');
    const expectedTypes = [
      'recommendation.created',
      // the first assessment: the parents are to be informed (a notice of its own)
      'parent_notice.created',
      'recommendation.created',
      // recorded with parentsInformed: true, which completes the inform-parents step
      'step.status_changed',
      'flag.raised',
      // the zone changed: a notice, closed at once (parentsInformed)
      'parent_notice.created',
      'step.status_changed',
      'flag.acknowledged',
      'concern_report.recorded',
      'step.status_changed',
    ];
    const whole = await follow(t, s.admin.token, expectedTypes.length, 500);
    expect(whole.events.map((e) => e.type)).toEqual(expectedTypes);
    expect(whole.events.every((e) => e.childId === s.child.id)).toBe(true);
    expect(new Set(whole.events.map((e) => e.id)).size).toBe(expectedTypes.length);
    expect(whole.events.map((e) => e.subject)).toEqual([
      { type: 'recommendation', id: expect.any(String) },
      { type: 'parent_notice', id: expect.any(String) },
      { type: 'recommendation', id: red.recommendation.id },
      { type: 'step', id: informParents.id },
      { type: 'flag', id: flagId },
      { type: 'parent_notice', id: expect.any(String) },
      { type: 'step', id: meeting.id },
      { type: 'flag', id: flagId },
      { type: 'concern_report', id: report.json().id },
      { type: 'step', id: concernStep.id },
    ]);
    expect(whole.events[2]?.data).toMatchObject({
      assessmentId: red.id,
      zone: 'red',
      previousZone: 'yellow',
    });
    expect(whole.events[3]?.data).toMatchObject({
      stepKey: 'inform_parents',
      from: 'open',
      to: 'done',
    });
    expect(whole.events[5]?.data).toMatchObject({
      assessmentId: red.id,
      reason: 'zone_change',
      status: 'informed',
    });
    expect(whole.events[6]?.data).toMatchObject({
      stepKey: 'parents_meeting',
      from: 'open',
      to: 'done',
    });

    // The same, two at a time, with the admin and with the integration key.
    for (const token of [s.admin.token, integration.token]) {
      const paged = await follow(t, token, expectedTypes.length, 2);
      expect(paged.events.map((e) => e.id)).toEqual(whole.events.map((e) => e.id));
      expect(paged.events).toEqual(whole.events);
      expect(paged.pages).toBeGreaterThanOrEqual(4);
      // Following from the end: nothing, and the cursor stays.
      const tail = await readEvents(
        t,
        token,
        `limit=2&after=${encodeURIComponent(paged.cursor ?? '')}`,
      );
      expect(tail).toEqual({ items: [], nextCursor: paged.cursor, hasMore: false });
    }

    // A new change appears after the cursor, exactly once.
    const reopened = await patchStep(t, s.admin.token, meeting.id, {
      status: 'open',
      reason: 'Aflyst.',
    });
    expect(reopened.statusCode, reopened.body).toBe(200);
    const next = await follow(t, s.admin.token, 1, 2, whole.cursor ?? undefined);
    expect(next.events.map((e) => [e.type, e.subject.id])).toEqual([
      ['step.status_changed', meeting.id],
    ]);
    expect(next.events[0]?.data).toMatchObject({ from: 'done', to: 'open', reason: 'Aflyst.' });

    // The other municipality's feed holds its own events only.
    const theirs = await follow(t, other.admin.token, 3, 500);
    expect(theirs.events.map((e) => [e.type, e.childId])).toEqual([
      ['recommendation.created', other.child.id],
      ['flag.raised', other.child.id],
      ['parent_notice.created', other.child.id],
    ]);
    const ourIds = new Set([...whole.events, ...next.events].map((e) => e.id));
    expect(theirs.events.some((e) => ourIds.has(e.id))).toBe(false);

    const staff = await createKey(t, s.municipality.id, 'unit_staff', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    expectProblem(await t.call('GET', '/v1/events', { token: staff.token }), 403);
  });

  it('event feed: a follower paging while changes commit concurrently gets each exactly once', async () => {
    const s = await setup(t);
    const steps: StepTask[] = [];
    for (let i = 0; i < 3; i += 1) {
      const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
      const a = await assess(t, s, { childId: child.id, assessedOn: '2026-11-21', level: 2 });
      steps.push(...a.recommendation.steps);
    }
    expect(steps).toHaveLength(15);
    // Each a first assessment: its recommendation and the parents to be informed.
    const before = await follow(t, s.admin.token, 6, 500);
    expect(before.events.map((e) => e.type)).toEqual(
      Array(3).fill(['recommendation.created', 'parent_notice.created']).flat(),
    );

    let writing = true;
    const seen: FeedEvent[] = [];
    const follower = (async () => {
      let cursor = before.cursor;
      const deadline = Date.now() + 15_000;
      while ((writing || seen.length < steps.length) && Date.now() < deadline) {
        const page = await readEvents(
          t,
          s.admin.token,
          `limit=2&after=${encodeURIComponent(cursor ?? '')}`,
        );
        seen.push(...page.items);
        cursor = page.nextCursor;
        if (page.items.length === 0) await new Promise((r) => setTimeout(r, 5));
      }
    })();
    const results = await Promise.all(
      steps.map((st) => patchStep(t, s.admin.token, st.id, { status: 'done' })),
    );
    writing = false;
    expect(results.map((r) => r.statusCode)).toEqual(steps.map(() => 200));
    await follower;

    const after = await follow(t, s.admin.token, steps.length, 500, before.cursor ?? undefined);
    expect(after.events).toHaveLength(steps.length);
    expect(new Set(after.events.map((e) => e.subject.id))).toEqual(
      new Set(steps.map((st) => st.id)),
    );
    expect(seen.map((e) => e.id)).toEqual(after.events.map((e) => e.id));
  });
});
