import { sql } from 'kysely';
import { expect, it } from 'vitest';
import * as migration from '../../migrations/20261205_120000_parents_informed_steps.js';
import type {
  Assessment,
  AssessmentWithRecommendation,
} from '../../src/features/assessments/schemas.js';
import type { StepTask } from '../../src/features/recommendations/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createScreeningTenant } from '../support/factories.js';

// Issue 12, point 11: the inform-parents step and the assessment's `parentsInformed` are one
// fact. The step is the record; the assessment shows it, in every response that returns it.

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Leder', role: 'unit_leader' },
];
const NOW = '2026-11-22T09:00:00.000Z';

type Tenant = Awaited<ReturnType<typeof createScreeningTenant>>;

async function setup(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
  return { ...s, child };
}

async function assess(
  t: EngineContext,
  s: Tenant & { child: { id: string } },
  assessedOn: string,
  level: 1 | 2 | 3,
  parentsInformed: boolean,
): Promise<AssessmentWithRecommendation> {
  const res = await t.call('POST', '/v1/assessments', {
    token: s.admin.token,
    body: {
      childId: s.child.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      assessedOn,
      raters,
      rating: { overallLevel: level },
      parentsInformed,
    },
  });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}

function informStep(a: AssessmentWithRecommendation): StepTask {
  const step = a.recommendation.steps.find((st) => st.purpose === 'inform_parents');
  if (!step) throw new Error('no inform-parents step');
  return step;
}

/** The assessment as every read path returns it: GET, history and the child's timeline. */
async function readBack(t: EngineContext, token: string, a: Assessment) {
  const get = await t.call('GET', `/v1/assessments/${a.id}`, { token });
  expect(get.statusCode, get.body).toBe(200);
  const history = await t.call('GET', `/v1/assessments/${a.id}/history`, { token });
  expect(history.statusCode, history.body).toBe(200);
  const timeline = await t.call('GET', `/v1/children/${a.childId}/timeline`, { token });
  expect(timeline.statusCode, timeline.body).toBe(200);
  const inTimeline = (timeline.json().items as Assessment[]).find((x) => x.id === a.id);
  const inHistory = (history.json().items as Assessment[]).find((x) => x.id === a.id);
  const pick = (x: Assessment | undefined) => ({
    parentsInformed: x?.parentsInformed,
    parentsInformedAt: x?.parentsInformedAt,
    parentsInformedBy: x?.parentsInformedBy,
    informParentsStepId: x?.informParentsStepId,
  });
  const view = pick(get.json());
  // Every read path agrees.
  expect(pick(inHistory)).toEqual(view);
  // The timeline holds current versions only.
  if (get.json().status === 'current') expect(pick(inTimeline)).toEqual(view);
  else expect(inTimeline).toBeUndefined();
  return view;
}

describeEngines('parents informed: one record, the inform-parents step', (t) => {
  it('marking the inform_parents step done (and reopening it) shows on the assessment', async () => {
    const s = await setup(t);
    await assess(t, s, '2026-10-01', 1, true);
    const yellow = await assess(t, s, '2026-11-20', 2, false);
    const step = informStep(yellow);
    expect(step.status).toBe('open');
    expect(yellow).toMatchObject({
      parentsInformed: false,
      parentsInformedAt: null,
      parentsInformedBy: null,
      informParentsStepId: step.id,
    });
    expect(await readBack(t, s.admin.token, yellow)).toEqual({
      parentsInformed: false,
      parentsInformedAt: null,
      parentsInformedBy: null,
      informParentsStepId: step.id,
    });

    t.clock.set('2026-11-22T10:30:00.000Z');
    const done = await t.call('PATCH', `/v1/steps/${step.id}`, {
      token: s.admin.token,
      body: { status: 'done' },
    });
    expect(done.statusCode, done.body).toBe(200);
    expect(await readBack(t, s.admin.token, yellow)).toEqual({
      parentsInformed: true,
      parentsInformedAt: '2026-11-22T10:30:00.000Z',
      parentsInformedBy: s.admin.id,
      informParentsStepId: step.id,
    });

    // The step stays the one record: reopening it takes the fact back.
    const reopened = await t.call('PATCH', `/v1/steps/${step.id}`, {
      token: s.admin.token,
      body: { status: 'open', reason: 'The call did not reach the parents.' },
    });
    expect(reopened.statusCode, reopened.body).toBe(200);
    expect(await readBack(t, s.admin.token, yellow)).toMatchObject({
      parentsInformed: false,
      parentsInformedAt: null,
    });
    t.clock.set(NOW);
  });

  it('an assessment recorded with parentsInformed true completes its inform_parents step', async () => {
    const s = await setup(t);
    await assess(t, s, '2026-10-01', 1, true);
    const yellow = await assess(t, s, '2026-11-20', 2, true);
    const step = informStep(yellow);
    expect(step).toMatchObject({
      status: 'done',
      statusChangedAt: NOW,
      statusChangedBy: s.admin.id,
      overdue: false,
    });
    expect(step.statusReason).toContain('recorded with the assessment');
    expect(yellow).toMatchObject({
      parentsInformed: true,
      parentsInformedAt: NOW,
      parentsInformedBy: s.admin.id,
      informParentsStepId: step.id,
    });
    expect(await readBack(t, s.admin.token, yellow)).toEqual({
      parentsInformed: true,
      parentsInformedAt: NOW,
      parentsInformedBy: s.admin.id,
      informParentsStepId: step.id,
    });
    // The recommendation read on its own says the same, and the worklist no longer asks for it.
    const rec = await t.call('GET', `/v1/recommendations/${yellow.recommendation.id}`, {
      token: s.admin.token,
    });
    expect(rec.json().steps.find((st: StepTask) => st.id === step.id)?.status).toBe('done');
    const worklist = await t.call('GET', `/v1/worklist?limit=200&unitId=${s.unit.id}`, {
      token: s.admin.token,
    });
    expect(worklist.statusCode, worklist.body).toBe(200);
    const open = (worklist.json().items as StepTask[]).map((st) => st.stepKey);
    expect(open).not.toContain('inform_parents');
    expect(open).toContain('parents_dialogue');
    // Integrations see the step completed, once.
    const feed = await t.call('GET', '/v1/events?limit=200', { token: s.admin.token });
    expect(feed.statusCode, feed.body).toBe(200);
    const ofStep = (
      feed.json().items as { type: string; subject: { id: string }; data: object }[]
    ).filter((e) => e.subject.id === step.id);
    expect(ofStep).toEqual([
      expect.objectContaining({
        type: 'step.status_changed',
        data: expect.objectContaining({ stepKey: 'inform_parents', from: 'open', to: 'done' }),
      }),
    ]);
  });

  it('a correction that says the parents were informed completes the new step', async () => {
    const s = await setup(t);
    await assess(t, s, '2026-10-01', 1, true);
    const yellow = await assess(t, s, '2026-11-20', 2, false);
    const res = await t.call('POST', `/v1/assessments/${yellow.id}/corrections`, {
      token: s.admin.token,
      body: {
        reason: 'The parents were told at pick-up.',
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-20',
        raters,
        rating: { overallLevel: 2 },
        parentsInformed: true,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const corrected = res.json() as AssessmentWithRecommendation;
    expect(informStep(corrected).status).toBe('done');
    expect(corrected.parentsInformed).toBe(true);
    expect((await readBack(t, s.admin.token, corrected)).parentsInformed).toBe(true);
    // The superseded version's step was never done: it showed, and shows, false.
    expect((await readBack(t, s.admin.token, yellow)).parentsInformed).toBe(false);
  });

  it('without an inform_parents step, the assessment keeps what was recorded with it', async () => {
    const s = await setup(t);
    const first = await assess(t, s, '2026-10-01', 2, true);
    expect(first.recommendation.steps.some((st) => st.purpose === 'inform_parents')).toBe(false);
    expect(await readBack(t, s.admin.token, first)).toEqual({
      parentsInformed: true,
      parentsInformedAt: first.createdAt,
      parentsInformedBy: s.admin.id,
      informParentsStepId: null,
    });
    const second = await assess(t, s, '2026-11-20', 2, false);
    expect(await readBack(t, s.admin.token, second)).toEqual({
      parentsInformed: false,
      parentsInformedAt: null,
      parentsInformedBy: null,
      informParentsStepId: null,
    });
  });
  it('an assessment stored before the step was the record keeps showing what it said', async () => {
    const s = await setup(t);
    await assess(t, s, '2026-10-01', 1, true);
    const yellow = await assess(t, s, '2026-11-20', 2, true);
    const step = informStep(yellow);
    const stepState = () =>
      t.asOwner(async (db) => {
        const { rows } = await sql<{ status: string; status_reason: string | null }>`
          SELECT status, status_reason FROM recommendation_steps WHERE id = ${step.id}`.execute(db);
        return rows[0];
      });
    // As earlier versions stored it: the assessment says informed, the step is still open.
    await t.asOwner((db) =>
      sql`UPDATE recommendation_steps SET status = 'open', status_reason = NULL,
            status_changed_at = NULL, status_changed_by = NULL WHERE id = ${step.id}`.execute(db),
    );
    expect((await readBack(t, s.admin.token, yellow)).parentsInformed).toBe(false);

    await t.asOwner((db) => migration.up(db));
    expect(await readBack(t, s.admin.token, yellow)).toEqual({
      parentsInformed: true,
      parentsInformedAt: yellow.createdAt,
      parentsInformedBy: s.admin.id,
      informParentsStepId: step.id,
    });
    expect((await stepState())?.status).toBe('done');

    // Down reopens only what it closed; up closes it again.
    await t.asOwner((db) => migration.down(db));
    expect((await stepState())?.status).toBe('open');
    await t.asOwner((db) => migration.up(db));
    expect((await stepState())?.status_reason).toMatch(/recorded with the assessment/);
  });
});
