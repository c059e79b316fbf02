import { expect, it } from 'vitest';
import { type GuideDefinition, GuideDefinitionSchema } from '../../src/domain/guides/definition.js';
import { presetGuides } from '../../src/domain/guides/presets.js';
import type { Guide, GuideVersion } from '../../src/features/guides/schemas.js';
import type { RecommendationView } from '../../src/features/recommendations/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createChild,
  createKey,
  createTenant,
  createUnit,
  presetVersionId,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

/** The preset guides as listed: presets first, by key. */
const presetGuideKeys = [
  'boernelineal-5',
  'default',
  'signs-of-safety-0-10',
  'topi-3',
  'wellbeing-1-5',
];

const topiPreset = presetGuides.find((g) => g.key === 'topi-3');
if (!topiPreset) throw new Error('no topi-3 preset guide');
/** The TOPI preset's definition (also the `default` guide's), as the API serves it. */
const topiDefinition: GuideDefinition = topiPreset.definition;

/** A deep copy of the TOPI preset definition with yellow parents_dialogue due after `days`. */
function withDialogueDeadline(days: number): GuideDefinition {
  const copy: GuideDefinition = structuredClone(topiDefinition);
  const step = copy.zones.yellow.find((s) => s.id === 'parents_dialogue');
  if (!step) throw new Error('no parents_dialogue step');
  step.deadlineDays = days;
  return copy;
}

const raters = [
  { name: 'Anna Pædagog', role: 'unit_staff' },
  { name: 'Bo Pædagog', role: 'unit_staff' },
];

describeEngines('action guides', (t) => {
  let keyCounter = 0;
  const nextKey = () => `own-guide-${++keyCounter}`;

  async function listGuides(token: string): Promise<Guide[]> {
    const res = await t.call('GET', '/v1/action-guides', { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  }

  async function getVersion(token: string, id: string): Promise<GuideVersion> {
    const res = await t.call('GET', `/v1/action-guide-versions/${id}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  async function createOwnGuide(
    token: string,
    body: Partial<{
      key: string;
      rulerKey: string | null;
      name: string;
      description: string;
      definition: object;
    }> = {},
  ): Promise<Guide> {
    const res = await t.call('POST', '/v1/action-guides', {
      token,
      body: {
        key: nextKey(),
        rulerKey: 'topi-3',
        name: 'Vores handleguide',
        definition: withDialogueDeadline(10),
        ...body,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  /** Records a yellow topi-3 assessment for a new child in a new unit; returns its recommendation. */
  async function yellowTopiRecommendation(
    ctx: EngineContext,
    token: string,
  ): Promise<RecommendationView & { assessedOn: string }> {
    const unit = await createUnit(ctx, token);
    const child = await createChild(ctx, token, { unitId: unit.id });
    const res = await ctx.call('POST', '/v1/assessments', {
      token,
      body: {
        childId: child.id,
        unitId: unit.id,
        rulerVersionId: await presetVersionId(ctx, token, 'topi-3'),
        assessedOn: '2026-11-20',
        raters,
        rating: { overallLevel: 2 },
        parentsInformed: true,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const assessment = res.json();
    expect(assessment).toMatchObject({ zone: 'yellow', rulerKey: 'topi-3', childId: child.id });
    expect(assessment.recommendation).toMatchObject({
      assessmentId: assessment.id,
      childId: child.id,
      unitId: unit.id,
      zone: 'yellow',
      previousZone: null,
      zoneChanged: false,
    });
    return { ...assessment.recommendation, assessedOn: assessment.assessedOn };
  }

  const dialogueDue = (recommendation: RecommendationView) =>
    recommendation.steps.find((s) => s.stepKey === 'parents_dialogue')?.dueOn;

  it('lists the preset guides, one per preset ruler plus default, each at version 1', async () => {
    const { admin } = await createTenant(t);
    const guides = await listGuides(admin.token);
    expect(guides.map((g) => [g.key, g.rulerKey])).toEqual([
      ['boernelineal-5', 'boernelineal-5'],
      ['default', null],
      ['signs-of-safety-0-10', 'signs-of-safety-0-10'],
      ['topi-3', 'topi-3'],
      ['wellbeing-1-5', 'wellbeing-1-5'],
    ]);
    for (const guide of guides) {
      expect(guide.preset, guide.key).toBe(true);
      expect(guide.municipalityId, guide.key).toBeNull();
      expect(
        guide.versions.map((v) => v.version),
        guide.key,
      ).toEqual([1]);
      expect(guide.latestVersion, guide.key).toEqual(guide.versions[0]);
      const preset = presetGuides.find((p) => p.key === guide.key);
      if (guide.key === 'default') {
        expect(preset).toBeUndefined();
        expect(guide.name).toBe('Standard handleguide');
        expect(guide.description).toContain('no guide of their own');
      } else {
        expect(guide.name, guide.key).toBe(preset?.name);
        expect(guide.description, guide.key).toBe(preset?.description);
      }
      const one = await t.call('GET', `/v1/action-guides/${guide.id}`, { token: admin.token });
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual(guide);
    }
  });

  it("serves each preset guide's full definition by version id", async () => {
    const { admin } = await createTenant(t);
    const guides = await listGuides(admin.token);
    expect(guides).toHaveLength(presetGuideKeys.length);
    for (const guide of guides) {
      const version = await getVersion(admin.token, guide.latestVersion.id);
      expect(version, guide.key).toMatchObject({
        id: guide.latestVersion.id,
        guideId: guide.id,
        guideKey: guide.key,
        version: 1,
        createdAt: guide.latestVersion.createdAt,
      });
      // `default` carries the TOPI guide's steps; the others are exactly their preset.
      const preset = presetGuides.find((p) => p.key === guide.key)?.definition ?? topiDefinition;
      expect(version.definition, guide.key).toEqual(preset);

      const def = version.definition;
      expect(def.zones.green, guide.key).toEqual([]);
      const concernReports = def.zones.red.filter(
        (s) => s.purpose === 'concern_report' && s.mandatory,
      );
      expect(
        concernReports.map((s) => [s.id, s.deadlineDays]),
        guide.key,
      ).toEqual([
        ['concern_report', 3],
        ['concern_report_immediate', 0],
      ]);
      for (const step of concernReports) {
        expect(step.legalReference, step.id).toContain('133');
        expect(step.involve, step.id).toContain('child_services');
      }
      const dialogue = def.zones.yellow.find((s) => s.id === 'parents_dialogue');
      expect(dialogue, guide.key).toMatchObject({
        deadlineDays: 14,
        responsible: 'unit_staff',
        involve: ['parents', 'unit_staff', 'child'],
        mandatory: false,
        purpose: 'other',
        conditions: { unlessRedFlagCategories: ['violence', 'sexual_abuse'] },
      });
      expect(def.trajectory).toMatchObject({
        informParentsOnZoneChange: true,
        deteriorationLevelDrop: 2,
        persistentRounds: 2,
        escalateOnPersistent: true,
        informParentsStep: { id: 'inform_parents', purpose: 'inform_parents', deadlineDays: 7 },
      });
    }
  });

  it('a municipality admin creates an own guide (version 1) and adds version 2; versions stay unchanged', async () => {
    const { municipality, admin } = await createTenant(t);
    const key = nextKey();
    const v1Definition = withDialogueDeadline(10);
    const res = await t.call('POST', '/v1/action-guides', {
      token: admin.token,
      body: {
        key,
        rulerKey: 'topi-3',
        name: 'Vores TOPI-handleguide',
        description: 'Dialogue with the parents within 10 days.',
        definition: v1Definition,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const guide: Guide = res.json();
    expect(res.headers.location).toBe(`/v1/action-guides/${guide.id}`);
    expect(guide).toMatchObject({
      key,
      rulerKey: 'topi-3',
      name: 'Vores TOPI-handleguide',
      description: 'Dialogue with the parents within 10 days.',
      preset: false,
      municipalityId: municipality.id,
    });
    expect(guide.versions.map((v) => v.version)).toEqual([1]);
    expect(guide.latestVersion).toEqual(guide.versions[0]);

    const v1Before = await getVersion(admin.token, guide.latestVersion.id);
    expect(v1Before).toMatchObject({ guideId: guide.id, guideKey: key, version: 1 });
    expect(v1Before.definition).toEqual(GuideDefinitionSchema.parse(v1Definition));
    expect(v1Before.definition.zones.yellow.find((s) => s.id === 'parents_dialogue')).toMatchObject(
      { deadlineDays: 10 },
    );

    const v2Definition = withDialogueDeadline(5);
    v2Definition.zones.green = [
      {
        id: 'universal_practice',
        title: { da: 'Almen praksis', en: 'Universal practice' },
        description: { da: 'Fortsæt almen praksis.', en: 'Keep up universal practice.' },
        involve: ['unit_staff'],
        responsible: 'unit_staff',
        deadlineDays: 90,
        mandatory: false,
        purpose: 'other',
        conditions: {},
      },
    ];
    const added = await t.call('POST', `/v1/action-guides/${guide.id}/versions`, {
      token: admin.token,
      body: { definition: v2Definition },
    });
    expect(added.statusCode, added.body).toBe(201);
    const v2: GuideVersion = added.json();
    expect(added.headers.location).toBe(`/v1/action-guide-versions/${v2.id}`);
    expect(v2).toMatchObject({ guideId: guide.id, guideKey: key, version: 2 });
    expect(v2.id).not.toBe(v1Before.id);
    expect(v2.definition).toEqual(GuideDefinitionSchema.parse(v2Definition));

    // Both versions remain readable; version 1 is exactly what it was.
    expect(await getVersion(admin.token, v1Before.id)).toEqual(v1Before);
    expect(await getVersion(admin.token, v2.id)).toEqual(v2);

    const after = await t.call('GET', `/v1/action-guides/${guide.id}`, { token: admin.token });
    expect(after.statusCode, after.body).toBe(200);
    const reread: Guide = after.json();
    expect(reread.versions.map((v) => [v.id, v.version])).toEqual([
      [v1Before.id, 1],
      [v2.id, 2],
    ]);
    expect(reread.versions[0]).toEqual(guide.versions[0]);
    expect(reread.latestVersion).toEqual({ id: v2.id, version: 2, createdAt: v2.createdAt });

    // The list shows the presets first, then the own guide at its latest version.
    const listed = await listGuides(admin.token);
    expect(listed.map((g) => g.key)).toEqual([...presetGuideKeys, key]);
    expect(listed.at(-1)).toEqual(reread);
  });

  it('409 for a second own guide for the same ruler, a preset key, or a key already used', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const first = await createOwnGuide(a.admin.token);

    const sameRuler = await t.call('POST', '/v1/action-guides', {
      token: a.admin.token,
      body: {
        key: nextKey(),
        rulerKey: 'topi-3',
        name: 'Another TOPI guide',
        definition: withDialogueDeadline(4),
      },
    });
    const problem = expectProblem(sameRuler, 409);
    expect(problem.type).toBe('urn:lineal:problem:duplicate-guide');
    expect(problem.detail).toContain('topi-3');

    // A preset's key is refused whatever ruler the guide is for (each of these rulers is free).
    for (const key of presetGuideKeys) {
      const res = await t.call('POST', '/v1/action-guides', {
        token: a.admin.token,
        body: { key, rulerKey: 'wellbeing-1-5', name: 'Mine now', definition: topiDefinition },
      });
      const keyProblem = expectProblem(res, 409);
      expect(keyProblem.type, key).toBe('urn:lineal:problem:duplicate-guide');
      expect(keyProblem.detail, key).toContain(key);
    }

    // The municipality's own key, for another ruler.
    const sameKey = await t.call('POST', '/v1/action-guides', {
      token: a.admin.token,
      body: {
        key: first.key,
        rulerKey: 'boernelineal-5',
        name: 'Same key',
        definition: topiDefinition,
      },
    });
    const keyProblem = expectProblem(sameKey, 409);
    expect(keyProblem.type).toBe('urn:lineal:problem:duplicate-guide');
    expect(keyProblem.detail).toContain(first.key);

    // Nothing was added and the first guide is untouched.
    const listed = await listGuides(a.admin.token);
    expect(listed.map((g) => g.key)).toEqual([...presetGuideKeys, first.key]);
    expect(listed.at(-1)).toEqual(first);

    // Another municipality may have its own topi-3 guide, even with the same key.
    const bGuide = await createOwnGuide(b.admin.token, { key: first.key });
    expect(bGuide).toMatchObject({
      key: first.key,
      rulerKey: 'topi-3',
      municipalityId: b.municipality.id,
    });
    expect(bGuide.id).not.toBe(first.id);
  });

  it('403 for adding a version to a preset guide; the preset keeps its single version', async () => {
    const { admin } = await createTenant(t);
    const guides = await listGuides(admin.token);
    for (const key of ['topi-3', 'default']) {
      const preset = guides.find((g) => g.key === key);
      expect(preset?.preset, key).toBe(true);
      const res = await t.call('POST', `/v1/action-guides/${preset?.id}/versions`, {
        token: admin.token,
        body: { definition: withDialogueDeadline(3) },
      });
      expect(expectProblem(res, 403).type, key).toBe('urn:lineal:problem:forbidden');
      const after = await t.call('GET', `/v1/action-guides/${preset?.id}`, {
        token: admin.token,
      });
      expect(after.statusCode, after.body).toBe(200);
      expect(after.json(), key).toEqual(preset);
    }
    const version = await getVersion(
      admin.token,
      guides.find((g) => g.key === 'topi-3')?.latestVersion.id ?? '',
    );
    expect(version.definition).toEqual(topiDefinition);
  });

  it("another municipality's guide and versions are 404 and not listed", async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const aGuide = await createOwnGuide(a.admin.token);
    const bAs = { token: b.admin.token };

    expect((await listGuides(b.admin.token)).map((g) => g.key)).toEqual(presetGuideKeys);
    expect(
      expectProblem(await t.call('GET', `/v1/action-guides/${aGuide.id}`, bAs), 404).type,
    ).toBe('urn:lineal:problem:not-found');
    expectProblem(
      await t.call('GET', `/v1/action-guide-versions/${aGuide.latestVersion.id}`, bAs),
      404,
    );
    expectProblem(
      await t.call('POST', `/v1/action-guides/${aGuide.id}/versions`, {
        ...bAs,
        body: { definition: withDialogueDeadline(1) },
      }),
      404,
    );
    // Unknown ids are 404 just the same.
    expectProblem(await t.call('GET', `/v1/action-guides/${crypto.randomUUID()}`, bAs), 404);
    expectProblem(
      await t.call('GET', `/v1/action-guide-versions/${crypto.randomUUID()}`, bAs),
      404,
    );

    // A's guide is unchanged by B's attempt.
    const reread = await t.call('GET', `/v1/action-guides/${aGuide.id}`, { token: a.admin.token });
    expect(reread.statusCode, reread.body).toBe(200);
    expect(reread.json()).toEqual(aGuide);
  });

  it('unit staff read guides but cannot create them or add versions (403)', async () => {
    const { municipality, admin } = await createTenant(t);
    const guide = await createOwnGuide(admin.token);
    const staff = await createKey(t, municipality.id, 'unit_staff', { token: admin.token });

    const listed = await listGuides(staff.token);
    expect(listed.map((g) => g.key)).toEqual([...presetGuideKeys, guide.key]);
    const one = await t.call('GET', `/v1/action-guides/${guide.id}`, { token: staff.token });
    expect(one.statusCode, one.body).toBe(200);
    expect(one.json()).toEqual(guide);
    const version = await getVersion(staff.token, guide.latestVersion.id);
    expect(version.definition).toEqual(withDialogueDeadline(10));

    const create = await t.call('POST', '/v1/action-guides', {
      token: staff.token,
      body: {
        key: nextKey(),
        rulerKey: 'wellbeing-1-5',
        name: 'Not allowed',
        definition: topiDefinition,
      },
    });
    expect(expectProblem(create, 403).type).toBe('urn:lineal:problem:forbidden');
    const addVersion = await t.call('POST', `/v1/action-guides/${guide.id}/versions`, {
      token: staff.token,
      body: { definition: withDialogueDeadline(2) },
    });
    expect(expectProblem(addVersion, 403).type).toBe('urn:lineal:problem:forbidden');

    const after = await listGuides(admin.token);
    expect(after.map((g) => g.key)).toEqual([...presetGuideKeys, guide.key]);
    expect(after.at(-1)?.versions).toHaveLength(1);
  });

  it('422 listing every defect of a definition, with paths under body.definition', async () => {
    const { admin } = await createTenant(t);
    const broken: GuideDefinition = structuredClone(topiDefinition);
    const focusPlan = broken.zones.yellow[2];
    if (focusPlan?.id !== 'focus_plan') throw new Error('unexpected preset order');
    // A second step with the id of step 0 in the yellow zone.
    broken.zones.yellow[2] = { ...focusPlan, id: 'parents_dialogue' };
    // The red zone's concern reports are no longer mandatory.
    broken.zones.red = broken.zones.red.map((s) =>
      s.purpose === 'concern_report' ? { ...s, mandatory: false } : s,
    );
    // The inform-parents step does not involve the parents.
    broken.trajectory.informParentsStep.involve = ['unit_leader'];

    const expected = [
      ['body.definition.zones.yellow.2.id', 'step_id_duplicate'],
      ['body.definition.zones.red', 'red_without_concern_report'],
      ['body.definition.zones.red', 'red_without_concern_report'],
      ['body.definition.zones.red', 'red_without_concern_report'],
      ['body.definition.zones.red', 'red_without_concern_report'],
      ['body.definition.zones.red', 'red_without_concern_report'],
      [
        'body.definition.trajectory.informParentsStep.involve',
        'inform_parents_step_without_parents',
      ],
    ];

    const res = await t.call('POST', '/v1/action-guides', {
      token: admin.token,
      body: { key: nextKey(), rulerKey: 'topi-3', name: 'Broken', definition: broken },
    });
    const problem = expectProblem(res, 422);
    expect(problem.type).toBe('urn:lineal:problem:validation-failed');
    expect((problem.errors ?? []).map((e) => [e.path, e.code])).toEqual(expected);
    for (const error of problem.errors ?? []) expect(error.message.length).toBeGreaterThan(10);
    expect(problem.errors?.[0]?.message).toContain('parents_dialogue');
    // One red-zone defect for no red flag and one per red-flag category.
    const redMessages = (problem.errors ?? [])
      .filter((e) => e.code === 'red_without_concern_report')
      .map((e) => e.message);
    expect(redMessages[0]).toContain('without red flags');
    for (const category of ['violence', 'sexual_abuse', 'neglect', 'other']) {
      expect(
        redMessages.some((m) =>
          m.endsWith(
            `category ${category} (steps only for the first entry into the zone do not count).`,
          ),
        ),
        category,
      ).toBe(true);
    }
    expect(problem.detail).toContain('7 defect');

    // The same definition as a new version of an own guide.
    const guide = await createOwnGuide(admin.token);
    const badVersion = await t.call('POST', `/v1/action-guides/${guide.id}/versions`, {
      token: admin.token,
      body: { definition: broken },
    });
    const versionProblem = expectProblem(badVersion, 422);
    expect(versionProblem.type).toBe('urn:lineal:problem:validation-failed');
    expect((versionProblem.errors ?? []).map((e) => [e.path, e.code])).toEqual(expected);

    // Nothing was written: no broken guide, no version 2.
    const listed = await listGuides(admin.token);
    expect(listed.map((g) => g.key)).toEqual([...presetGuideKeys, guide.key]);
    expect(listed.at(-1)?.versions.map((v) => v.version)).toEqual([1]);
  });

  it('400 for a definition that does not match the schema (an unknown role to involve)', async () => {
    const { admin } = await createTenant(t);
    const bad = structuredClone(topiDefinition) as unknown as {
      zones: { yellow: Array<{ involve: string[] }> };
    };
    const step = bad.zones.yellow[1];
    if (!step) throw new Error('no yellow step 1');
    step.involve = ['unit_leader', 'headmaster'];

    const res = await t.call('POST', '/v1/action-guides', {
      token: admin.token,
      body: { key: nextKey(), rulerKey: 'topi-3', name: 'Bad role', definition: bad },
    });
    const problem = expectProblem(res, 400);
    expect(problem.type).toBe('urn:lineal:problem:validation-error');
    expect((problem.errors ?? []).map((e) => e.path)).toContain(
      'body.definition.zones.yellow.1.involve.1',
    );

    const guide = await createOwnGuide(admin.token);
    const badVersion = await t.call('POST', `/v1/action-guides/${guide.id}/versions`, {
      token: admin.token,
      body: { definition: bad },
    });
    const versionProblem = expectProblem(badVersion, 400);
    expect(versionProblem.type).toBe('urn:lineal:problem:validation-error');
    expect((versionProblem.errors ?? []).map((e) => e.path)).toContain(
      'body.definition.zones.yellow.1.involve.1',
    );

    const listed = await listGuides(admin.token);
    expect(listed.map((g) => g.key)).toEqual([...presetGuideKeys, guide.key]);
    expect(listed.at(-1)?.versions).toHaveLength(1);
  });

  it("the municipality's own guide for the ruler applies to new assessments; others keep the preset", async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const presetTopi = (await listGuides(b.admin.token)).find((g) => g.key === 'topi-3');
    expect(presetTopi?.preset).toBe(true);

    const own = await createOwnGuide(a.admin.token, { definition: withDialogueDeadline(3) });
    const aRecommendation = await yellowTopiRecommendation(t, a.admin.token);
    expect(aRecommendation.assessedOn).toBe('2026-11-20');
    expect(aRecommendation.guideVersionId).toBe(own.latestVersion.id);
    expect(dialogueDue(aRecommendation)).toBe('2026-11-23');
    // The other yellow steps come from the own guide too, with their own deadlines.
    expect(aRecommendation.steps.map((s) => [s.stepKey, s.dueOn, s.source])).toEqual([
      ['parents_dialogue', '2026-11-23', 'zone'],
      ['inform_unit_leader', '2026-11-27', 'zone'],
      ['focus_plan', '2026-12-20', 'zone'],
      ['consider_sparring', '2026-12-20', 'zone'],
      ['reassess', '2027-02-18', 'zone'],
    ]);

    // Another municipality still gets the preset TOPI guide (14 days), even with a default of
    // its own: a ruler's preset guide comes before the municipality's default.
    await createOwnGuide(b.admin.token, { rulerKey: null, definition: withDialogueDeadline(20) });
    const bRecommendation = await yellowTopiRecommendation(t, b.admin.token);
    expect(bRecommendation.guideVersionId).toBe(presetTopi?.latestVersion.id);
    expect(dialogueDue(bRecommendation)).toBe('2026-12-04');

    // A's next version applies from then on; the earlier recommendation keeps its version.
    const added = await t.call('POST', `/v1/action-guides/${own.id}/versions`, {
      token: a.admin.token,
      body: { definition: withDialogueDeadline(5) },
    });
    expect(added.statusCode, added.body).toBe(201);
    const later = await yellowTopiRecommendation(t, a.admin.token);
    expect(later.guideVersionId).toBe(added.json().id);
    expect(dialogueDue(later)).toBe('2026-11-25');
    const earlier = await t.call('GET', `/v1/recommendations/${aRecommendation.id}`, {
      token: a.admin.token,
    });
    expect(earlier.statusCode, earlier.body).toBe(200);
    expect(earlier.json()).toMatchObject({
      guideVersionId: own.latestVersion.id,
      steps: [{ stepKey: 'parents_dialogue', dueOn: '2026-11-23' }, {}, {}, {}, {}],
    });
  });
});
