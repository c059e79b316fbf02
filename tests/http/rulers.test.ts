import { expect, it } from 'vitest';
import { RulerDefinitionSchema } from '../../src/domain/rulers/definition.js';
import { presetRulers } from '../../src/domain/rulers/presets.js';
import type { Ruler, RulerVersion } from '../../src/features/rulers/schemas.js';
import { describeEngines } from '../support/engines.js';
import { createKey, createTenant } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const label = (en: string) => ({ da: en, en });

/** A sound four-level ruler where the worst-rated item decides. */
const ownDefinition = {
  levels: [
    { value: 1, label: label('good'), zone: 'green' },
    { value: 2, label: label('uncertain'), zone: 'yellow' },
    { value: 3, label: label('worried'), zone: 'yellow' },
    { value: 4, label: label('very worried'), zone: 'red' },
  ],
  higherIsBetter: false,
  items: [
    { key: 'play', label: label('play'), domain: 'social' },
    { key: 'language', label: label('language'), allowNotApplicable: true },
  ],
  rule: { kind: 'worst_domain' },
  minAnsweredItems: 1,
  ratersRequired: 1,
};

/** Version 2 of it: a score ruler with bands, a red flag and two raters. */
const secondDefinition = {
  levels: [
    { value: 1, label: label('never'), zone: 'red' },
    { value: 2, label: label('sometimes'), zone: 'yellow' },
    { value: 3, label: label('always'), zone: 'green' },
  ],
  higherIsBetter: true,
  items: [
    { key: 'play', label: label('play') },
    { key: 'language', label: label('language') },
    { key: 'neglect', label: label('neglect'), redFlag: true, redFlagCategory: 'neglect' },
  ],
  rule: {
    kind: 'mean_of_items',
    bands: [
      { zone: 'red', min: 1, max: 1.5 },
      { zone: 'yellow', min: 1.5, max: 2.5 },
      { zone: 'green', min: 2.5, max: 3 },
    ],
  },
  minAnsweredItems: 2,
  ratersRequired: 2,
};

const presetKeys = ['boernelineal-5', 'signs-of-safety-0-10', 'topi-3', 'wellbeing-1-5'];

describeEngines('rulers', (t) => {
  let keyCounter = 0;
  const nextKey = () => `own-ruler-${++keyCounter}`;

  async function listRulers(token: string): Promise<Ruler[]> {
    const res = await t.call('GET', '/v1/rulers', { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json().items;
  }

  async function getVersion(token: string, id: string): Promise<RulerVersion> {
    const res = await t.call('GET', `/v1/ruler-versions/${id}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  async function createOwnRuler(
    token: string,
    body: Partial<{ key: string; name: string; description: string; definition: object }> = {},
  ): Promise<Ruler> {
    const res = await t.call('POST', '/v1/rulers', {
      token,
      body: { key: nextKey(), name: 'Our ruler', definition: ownDefinition, ...body },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json();
  }

  it('lists the four presets, each at version 1, before any own ruler', async () => {
    const { admin } = await createTenant(t);
    const rulers = await listRulers(admin.token);
    expect(rulers.map((r) => r.key)).toEqual(presetKeys);
    for (const ruler of rulers) {
      expect(ruler.preset, ruler.key).toBe(true);
      expect(ruler.municipalityId, ruler.key).toBeNull();
      expect(
        ruler.versions.map((v) => v.version),
        ruler.key,
      ).toEqual([1]);
      expect(ruler.latestVersion, ruler.key).toEqual(ruler.versions[0]);
      const preset = presetRulers.find((p) => p.key === ruler.key);
      expect(ruler.name).toBe(preset?.name);
      expect(ruler.description).toBe(preset?.description);
      // The ruler itself is readable by id, with the same content as in the list.
      const one = await t.call('GET', `/v1/rulers/${ruler.id}`, { token: admin.token });
      expect(one.statusCode, one.body).toBe(200);
      expect(one.json()).toEqual(ruler);
    }
  });

  it("serves each preset's full definition by version id", async () => {
    const { admin } = await createTenant(t);
    const rulers = await listRulers(admin.token);
    const byKey = new Map<string, RulerVersion>();
    for (const ruler of rulers) {
      const version = await getVersion(admin.token, ruler.latestVersion.id);
      expect(version).toMatchObject({
        id: ruler.latestVersion.id,
        rulerId: ruler.id,
        rulerKey: ruler.key,
        version: 1,
        createdAt: ruler.latestVersion.createdAt,
      });
      expect(version.definition).toEqual(presetRulers.find((p) => p.key === ruler.key)?.definition);
      byKey.set(ruler.key, version);
    }

    const topi = byKey.get('topi-3')?.definition;
    expect(topi?.levels.map((l) => [l.value, l.zone, l.label.en])).toEqual([
      [1, 'green', 'thriving'],
      [2, 'yellow', 'concern'],
      [3, 'red', 'serious concern'],
    ]);
    expect(topi?.ratersRequired).toBe(2);
    expect(topi?.higherIsBetter).toBe(false);
    expect(topi?.rule).toEqual({ kind: 'assessor_position' });
    expect(topi?.items.map((i) => [i.key, i.redFlag])).toEqual([
      ['social_skills', false],
      ['safety_and_care', false],
      ['participation', false],
      ['self_esteem', false],
      ['violence', true],
      ['sexual_abuse', true],
    ]);

    const boernelineal = byKey.get('boernelineal-5')?.definition;
    expect(boernelineal?.levels.map((l) => l.zone)).toEqual([
      'green',
      'yellow',
      'yellow',
      'red',
      'red',
    ]);
    expect(boernelineal?.ratersRequired).toBe(1);

    const sos = byKey.get('signs-of-safety-0-10')?.definition;
    expect(sos?.higherIsBetter).toBe(true);
    expect(sos?.levels.map((l) => l.value)).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(sos?.levels.map((l) => l.zone)).toEqual([
      ...Array(4).fill('red'),
      ...Array(3).fill('yellow'),
      ...Array(4).fill('green'),
    ]);

    const wellbeing = byKey.get('wellbeing-1-5')?.definition;
    expect(wellbeing?.higherIsBetter).toBe(true);
    expect(wellbeing?.minAnsweredItems).toBe(4);
    expect(wellbeing?.rule).toEqual({
      kind: 'mean_of_items',
      bands: [
        { zone: 'red', min: 1, max: 3 },
        { zone: 'yellow', min: 3, max: 4 },
        { zone: 'green', min: 4, max: 5 },
      ],
    });
    expect(wellbeing?.items.filter((i) => !i.redFlag)).toHaveLength(6);
  });

  it('a municipality admin creates a ruler (version 1) and adds version 2; both stay unchanged', async () => {
    const { municipality, admin } = await createTenant(t);
    const key = nextKey();
    const res = await t.call('POST', '/v1/rulers', {
      token: admin.token,
      body: {
        key,
        name: 'Vores lineal',
        description: 'Four levels, worst item decides.',
        definition: ownDefinition,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const ruler: Ruler = res.json();
    expect(res.headers.location).toBe(`/v1/rulers/${ruler.id}`);
    expect(ruler).toMatchObject({
      key,
      name: 'Vores lineal',
      description: 'Four levels, worst item decides.',
      preset: false,
      municipalityId: municipality.id,
    });
    expect(ruler.versions).toHaveLength(1);
    expect(ruler.latestVersion).toEqual(ruler.versions[0]);
    expect(ruler.latestVersion.version).toBe(1);

    const v1Before = await getVersion(admin.token, ruler.latestVersion.id);
    expect(v1Before).toMatchObject({ rulerId: ruler.id, rulerKey: key, version: 1 });
    // Stored as validated, defaults filled in.
    expect(v1Before.definition).toEqual(RulerDefinitionSchema.parse(ownDefinition));
    expect(v1Before.definition.items[0]).toMatchObject({
      key: 'play',
      allowNotApplicable: false,
      redFlag: false,
    });

    const added = await t.call('POST', `/v1/rulers/${ruler.id}/versions`, {
      token: admin.token,
      body: { definition: secondDefinition },
    });
    expect(added.statusCode, added.body).toBe(201);
    const v2: RulerVersion = added.json();
    expect(added.headers.location).toBe(`/v1/ruler-versions/${v2.id}`);
    expect(v2).toMatchObject({ rulerId: ruler.id, rulerKey: key, version: 2 });
    expect(v2.id).not.toBe(v1Before.id);
    expect(v2.definition).toEqual(RulerDefinitionSchema.parse(secondDefinition));

    // Both versions remain readable; version 1 is exactly what it was.
    expect(await getVersion(admin.token, v1Before.id)).toEqual(v1Before);
    expect(await getVersion(admin.token, v2.id)).toEqual(v2);

    const after = await t.call('GET', `/v1/rulers/${ruler.id}`, { token: admin.token });
    expect(after.statusCode, after.body).toBe(200);
    const reread: Ruler = after.json();
    expect(reread.versions.map((v) => [v.id, v.version])).toEqual([
      [v1Before.id, 1],
      [v2.id, 2],
    ]);
    expect(reread.latestVersion).toEqual({ id: v2.id, version: 2, createdAt: v2.createdAt });
    expect(reread.versions[0]).toEqual(ruler.versions[0]);

    // A third version with the very same definition as version 1 is a new version, not a reuse.
    const v3 = await t.call('POST', `/v1/rulers/${ruler.id}/versions`, {
      token: admin.token,
      body: { definition: ownDefinition },
    });
    expect(v3.statusCode, v3.body).toBe(201);
    expect(v3.json()).toMatchObject({ version: 3, definition: v1Before.definition });
    expect(v3.json().id).not.toBe(v1Before.id);

    // The list shows the presets first, then the own ruler at its latest version.
    const listed = await listRulers(admin.token);
    expect(listed.map((r) => r.key)).toEqual([...presetKeys, key]);
    expect(listed.at(-1)?.latestVersion).toMatchObject({ id: v3.json().id, version: 3 });
  });

  it('422 listing every defect of a definition, with paths under body.definition', async () => {
    const { admin } = await createTenant(t);
    const before = await listRulers(admin.token);
    const broken = {
      levels: [
        { value: 1, label: label('red'), zone: 'red' },
        { value: 2, label: label('yellow'), zone: 'yellow' },
        { value: 4, label: label('green'), zone: 'green' }, // 3 is missing
      ],
      higherIsBetter: true,
      items: [
        { key: 'happy', label: label('happy') },
        { key: 'happy', label: label('happy again') }, // duplicate key
      ],
      rule: {
        kind: 'mean_of_items',
        bands: [
          { zone: 'red', min: 1, max: 2 },
          { zone: 'yellow', min: 2.5, max: 4 }, // gap from 2 to 2.5
        ],
      },
      minAnsweredItems: 3, // only two rated items
      ratersRequired: 1,
    };
    const res = await t.call('POST', '/v1/rulers', {
      token: admin.token,
      body: { key: nextKey(), name: 'Broken', definition: broken },
    });
    const problem = expectProblem(res, 422);
    expect(problem.type).toBe('urn:lineal:problem:validation-failed');
    const found = (problem.errors ?? []).map((e) => ({ path: e.path, code: e.code }));
    const expected = [
      { path: 'body.definition.levels', code: 'level_gap' },
      { path: 'body.definition.items.1.key', code: 'item_key_duplicate' },
      { path: 'body.definition.minAnsweredItems', code: 'min_answered_exceeds_rated' },
      { path: 'body.definition.rule.bands.1.min', code: 'band_gap' },
    ];
    const byPath = (a: { path: string }, b: { path: string }) => a.path.localeCompare(b.path);
    expect(found.sort(byPath)).toEqual(expected.sort(byPath));
    for (const error of problem.errors ?? []) expect(error.message.length).toBeGreaterThan(10);
    expect(problem.detail).toContain('4 defect');

    // Bands that overlap and do not reach the top, when adding a version to an own ruler.
    const ruler = await createOwnRuler(admin.token);
    const badVersion = await t.call('POST', `/v1/rulers/${ruler.id}/versions`, {
      token: admin.token,
      body: {
        definition: {
          ...secondDefinition,
          rule: {
            kind: 'mean_of_items',
            bands: [
              { zone: 'red', min: 1, max: 2 },
              { zone: 'green', min: 1.5, max: 2.5 },
            ],
          },
        },
      },
    });
    const versionProblem = expectProblem(badVersion, 422);
    expect(
      (versionProblem.errors ?? [])
        .map((e) => [e.path, e.code])
        .sort((a, b) => a.join().localeCompare(b.join())),
    ).toEqual([
      ['body.definition.rule.bands.1.max', 'band_range_end'],
      ['body.definition.rule.bands.1.min', 'band_overlap'],
    ]);

    // Nothing was written: no broken ruler, no version 2.
    const after = await listRulers(admin.token);
    expect(after.map((r) => r.key)).toEqual([...before.map((r) => r.key), ruler.key]);
    const reread = await t.call('GET', `/v1/rulers/${ruler.id}`, { token: admin.token });
    expect(reread.json().versions.map((v: { version: number }) => v.version)).toEqual([1]);
  });

  it('409 for a preset key or a key the municipality already uses; other municipalities may reuse it', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    for (const key of presetKeys) {
      const res = await t.call('POST', '/v1/rulers', {
        token: a.admin.token,
        body: { key, name: 'Mine now', definition: ownDefinition },
      });
      expect(expectProblem(res, 409).type, key).toBe('urn:lineal:problem:duplicate-ruler');
    }
    const first = await createOwnRuler(a.admin.token);
    const again = await t.call('POST', '/v1/rulers', {
      token: a.admin.token,
      body: { key: first.key, name: 'Same key', definition: secondDefinition },
    });
    const problem = expectProblem(again, 409);
    expect(problem.type).toBe('urn:lineal:problem:duplicate-ruler');
    expect(problem.detail).toContain(first.key);

    // The first ruler is untouched, and no ruler was added.
    const listed = await listRulers(a.admin.token);
    expect(listed.map((r) => r.key)).toEqual([...presetKeys, first.key]);
    expect(listed.at(-1)).toEqual(first);

    // Keys are per municipality.
    const bRuler = await createOwnRuler(b.admin.token, { key: first.key });
    expect(bRuler.municipalityId).toBe(b.municipality.id);
    expect(bRuler.id).not.toBe(first.id);
  });

  it('403 for adding a version to a preset; the preset keeps its single version', async () => {
    const { admin } = await createTenant(t);
    const rulers = await listRulers(admin.token);
    const topi = rulers.find((r) => r.key === 'topi-3');
    expect(topi).toBeDefined();
    const res = await t.call('POST', `/v1/rulers/${topi?.id}/versions`, {
      token: admin.token,
      body: { definition: ownDefinition },
    });
    expect(expectProblem(res, 403).type).toBe('urn:lineal:problem:forbidden');
    const after = await t.call('GET', `/v1/rulers/${topi?.id}`, { token: admin.token });
    expect(after.json().versions).toEqual(topi?.versions);
  });

  it("another municipality's ruler and versions are 404 and not listed", async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const aRuler = await createOwnRuler(a.admin.token);
    const bAs = { token: b.admin.token };

    expect((await listRulers(b.admin.token)).map((r) => r.key)).toEqual(presetKeys);
    expectProblem(await t.call('GET', `/v1/rulers/${aRuler.id}`, bAs), 404);
    expectProblem(await t.call('GET', `/v1/ruler-versions/${aRuler.latestVersion.id}`, bAs), 404);
    expectProblem(
      await t.call('POST', `/v1/rulers/${aRuler.id}/versions`, {
        ...bAs,
        body: { definition: secondDefinition },
      }),
      404,
    );
    // Unknown ids are 404 just the same.
    expectProblem(await t.call('GET', `/v1/rulers/${crypto.randomUUID()}`, bAs), 404);
    expectProblem(await t.call('GET', `/v1/ruler-versions/${crypto.randomUUID()}`, bAs), 404);

    // A's ruler is unchanged by B's attempt.
    const reread = await t.call('GET', `/v1/rulers/${aRuler.id}`, { token: a.admin.token });
    expect(reread.statusCode).toBe(200);
    expect(reread.json()).toEqual(aRuler);
  });

  it('unit staff and analysts read rulers but cannot create them or add versions (403)', async () => {
    const { municipality, admin } = await createTenant(t);
    const ruler = await createOwnRuler(admin.token);
    const staff = await createKey(t, municipality.id, 'unit_staff', { token: admin.token });
    const analyst = await createKey(t, municipality.id, 'analyst', { token: admin.token });

    for (const reader of [staff, analyst]) {
      const listed = await listRulers(reader.token);
      expect(
        listed.map((r) => r.key),
        reader.role,
      ).toEqual([...presetKeys, ruler.key]);
      const one = await t.call('GET', `/v1/rulers/${ruler.id}`, { token: reader.token });
      expect(one.statusCode, reader.role).toBe(200);
      expect(one.json()).toEqual(ruler);
      const version = await getVersion(reader.token, ruler.latestVersion.id);
      expect(version.definition).toEqual(RulerDefinitionSchema.parse(ownDefinition));

      const create = await t.call('POST', '/v1/rulers', {
        token: reader.token,
        body: { key: nextKey(), name: 'Not allowed', definition: ownDefinition },
      });
      expectProblem(create, 403);
      const addVersion = await t.call('POST', `/v1/rulers/${ruler.id}/versions`, {
        token: reader.token,
        body: { definition: secondDefinition },
      });
      expectProblem(addVersion, 403);
    }
    const after = await listRulers(admin.token);
    expect(after.map((r) => r.key)).toEqual([...presetKeys, ruler.key]);
    expect(after.at(-1)?.versions).toHaveLength(1);
  });

  it('400 for a body that does not match the schema', async () => {
    const { admin } = await createTenant(t);
    const before = await listRulers(admin.token);
    const cases: Array<[object, string]> = [
      [
        { key: nextKey(), name: 'x', definition: { ...ownDefinition, rule: { kind: 'median' } } },
        'body.definition.rule.kind',
      ],
      [{ key: 'Not A Key', name: 'x', definition: ownDefinition }, 'body.key'],
      [
        {
          key: nextKey(),
          name: 'x',
          definition: { ...ownDefinition, levels: [ownDefinition.levels[0]] },
        },
        'body.definition.levels',
      ],
      [
        { key: nextKey(), name: 'x', definition: { ...ownDefinition, ratersRequired: 0 } },
        'body.definition.ratersRequired',
      ],
      [{ key: nextKey(), name: 'x', definition: ownDefinition, extra: true }, 'body'],
    ];
    for (const [body, path] of cases) {
      const res = await t.call('POST', '/v1/rulers', { token: admin.token, body });
      const problem = expectProblem(res, 400);
      expect(problem.type).toBe('urn:lineal:problem:validation-error');
      const paths = (problem.errors ?? []).map((e) => e.path);
      expect(paths, JSON.stringify(body)).toContain(path);
    }
    const ruler = await createOwnRuler(admin.token);
    const badVersion = await t.call('POST', `/v1/rulers/${ruler.id}/versions`, {
      token: admin.token,
      body: { definition: { ...ownDefinition, rule: { kind: 'median' } } },
    });
    expect(expectProblem(badVersion, 400).errors?.map((e) => e.path)).toContain(
      'body.definition.rule.kind',
    );
    expect((await listRulers(admin.token)).length).toBe(before.length + 1);
  });
});
