import { expect, it } from 'vitest';
import type { Child } from '../../src/features/children/schemas.js';
import type { Round } from '../../src/features/rounds/schemas.js';
import type { Unit } from '../../src/features/units/schemas.js';
import { describeEngines } from '../support/engines.js';
import {
  assessmentBody,
  createAssessment,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
  createTenant,
  createUnit,
  presetVersionId,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

// Today in the test clock is 2026-11-22 (Copenhagen).
const TODAY = '2026-11-22';

/** The round window of the coverage fixture: open today. */
const WINDOW = { windowStart: '2026-11-02', windowEnd: '2026-11-27' };

describeEngines('rounds and coverage', (t) => {
  async function assess(
    token: string,
    child: Child,
    unit: Unit,
    round: Round,
    assessedOn = '2026-11-16',
  ): Promise<string> {
    // Green (overall level 1), parents informed.
    const assessment = await createAssessment(t, token, {
      childId: child.id,
      unitId: unit.id,
      roundId: round.id,
      assessedOn,
    });
    expect(assessment).toMatchObject({
      status: 'current',
      roundId: round.id,
      rulerVersionId: round.rulerVersionId,
      zone: 'green',
    });
    return assessment.id;
  }

  async function coverage(token: string, roundId: string) {
    const res = await t.call('GET', `/v1/rounds/${roundId}/coverage`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  async function unitCoverage(token: string, roundId: string, unitId: string) {
    const res = await t.call('GET', `/v1/rounds/${roundId}/coverage/${unitId}`, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  }

  const missingEntry = (c: Child) => ({
    childId: c.id,
    externalRef: c.externalRef,
    givenName: c.givenName,
    familyName: c.familyName,
    birthDate: c.birthDate,
  });

  // ---------------------------------------------------------------- rounds

  it('creates a round (201) with every field, readable by id', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const res = await t.call('POST', '/v1/rounds', {
      token: admin.token,
      body: {
        name: '  Efterår 2026  ',
        ...WINDOW,
        rulerVersionId: topi,
        unitKinds: ['kindergarten', 'nursery', 'kindergarten'],
        unitIds: [unit.id, unit.id],
        minAgeMonths: 12,
        maxAgeMonths: 71,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    const round: Round = res.json();
    expect(res.headers.location).toBe(`/v1/rounds/${round.id}`);
    expect(round).toMatchObject({
      name: 'Efterår 2026',
      windowStart: '2026-11-02',
      windowEnd: '2026-11-27',
      status: 'open',
      rulerVersionId: topi,
      unitKinds: ['kindergarten', 'nursery'],
      unitIds: [unit.id],
      minAgeMonths: 12,
      maxAgeMonths: 71,
    });
    const got = await t.call('GET', `/v1/rounds/${round.id}`, { token: admin.token });
    expect(got.statusCode, got.body).toBe(200);
    expect(got.json()).toEqual(round);

    // Without scope and ages: empty lists and nulls.
    const plain = await createRound(t, admin.token, topi, { name: 'Alle', ...WINDOW });
    expect(plain).toMatchObject({
      unitKinds: [],
      unitIds: [],
      minAgeMonths: null,
      maxAgeMonths: null,
    });
  });

  it('status is upcoming, open or closed by today (2026-11-22), boundaries included', async () => {
    const { admin, topi } = await createScreeningTenant(t);
    const cases: Array<[string, string, Round['status']]> = [
      ['2026-12-01', '2026-12-20', 'upcoming'],
      ['2026-11-23', '2026-12-20', 'upcoming'], // starts tomorrow
      ['2026-11-01', '2026-11-30', 'open'],
      [TODAY, '2026-12-20', 'open'], // starts today
      ['2026-10-01', TODAY, 'open'], // ends today
      [TODAY, TODAY, 'open'], // a one-day window
      ['2026-10-01', '2026-11-21', 'closed'], // ended yesterday
      ['2026-04-01', '2026-05-05', 'closed'],
    ];
    for (const [windowStart, windowEnd, status] of cases) {
      const round = await createRound(t, admin.token, topi, {
        name: `${windowStart}..${windowEnd}`,
        windowStart,
        windowEnd,
      });
      expect(round.status, round.name).toBe(status);
      const got = await t.call('GET', `/v1/rounds/${round.id}`, { token: admin.token });
      expect(got.json().status, round.name).toBe(status);
    }
  });

  it('status follows the Danish calendar date and the clock', async () => {
    const { admin, topi } = await createScreeningTenant(t);
    const round = await createRound(t, admin.token, topi, {
      name: 'Starts tomorrow',
      windowStart: '2026-11-23',
      windowEnd: '2026-11-30',
    });
    expect(round.status).toBe('upcoming');
    const start = t.clock.now();
    try {
      // 23:30 UTC on the 22nd is 00:30 on the 23rd in Copenhagen (UTC+1 in November).
      t.clock.set('2026-11-22T23:30:00.000Z');
      const get = await t.call('GET', `/v1/rounds/${round.id}`, { token: admin.token });
      expect(get.json().status).toBe('open');
      t.clock.set('2026-12-01T00:00:00.000Z');
      const later = await t.call('GET', `/v1/rounds/${round.id}`, { token: admin.token });
      expect(later.json().status).toBe('closed');
    } finally {
      t.clock.set(start);
    }
  });

  it('422 naming each broken rule; nothing is written', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const other = await createTenant(t);
    const otherUnit = await createUnit(t, other.admin.token);
    const otherRuler = await t.call('POST', '/v1/rulers', {
      token: other.admin.token,
      body: {
        key: 'other-ruler',
        name: 'Other',
        definition: {
          levels: [
            { value: 1, label: { da: 'godt', en: 'good' }, zone: 'green' },
            { value: 2, label: { da: 'skidt', en: 'bad' }, zone: 'red' },
          ],
          higherIsBetter: false,
          rule: { kind: 'assessor_position' },
        },
      },
    });
    expect(otherRuler.statusCode, otherRuler.body).toBe(201);
    const otherVersion = otherRuler.json().latestVersion.id;

    const base = { name: 'R', ...WINDOW, rulerVersionId: topi };
    const cases: Array<[Record<string, unknown>, string[]]> = [
      [{ ...base, windowStart: '2026-11-10', windowEnd: '2026-11-09' }, ['body.windowEnd']],
      [{ ...base, rulerVersionId: crypto.randomUUID() }, ['body.rulerVersionId']],
      [{ ...base, rulerVersionId: otherVersion }, ['body.rulerVersionId']],
      [{ ...base, unitIds: [otherUnit.id] }, ['body.unitIds.0']],
      [{ ...base, unitIds: [unit.id, crypto.randomUUID()] }, ['body.unitIds.1']],
      [{ ...base, minAgeMonths: 36, maxAgeMonths: 35 }, ['body.maxAgeMonths']],
      [
        {
          ...base,
          windowStart: '2026-11-10',
          windowEnd: '2026-11-01',
          rulerVersionId: otherVersion,
          unitIds: [otherUnit.id],
        },
        ['body.windowEnd', 'body.rulerVersionId', 'body.unitIds.0'],
      ],
    ];
    for (const [body, paths] of cases) {
      const res = await t.call('POST', '/v1/rounds', { token: admin.token, body });
      const problem = expectProblem(res, 422);
      expect(problem.type).toBe('urn:lineal:problem:validation-failed');
      expect(
        problem.errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toEqual(paths);
    }
    // The other municipality's ruler version is fine for the other municipality.
    const ok = await createRound(t, other.admin.token, otherVersion, { name: 'R', ...WINDOW });
    expect(ok.rulerVersionId).toBe(otherVersion);

    const list = await t.call('GET', '/v1/rounds', { token: admin.token });
    expect(list.json()).toEqual({ items: [], nextCursor: null });
  });

  // Regression: unit ids were once deduplicated before validation, shifting the error path.
  it('422 names the position of the foreign unit id in the body, even after duplicates', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const other = await createTenant(t);
    const otherUnit = await createUnit(t, other.admin.token);
    const res = await t.call('POST', '/v1/rounds', {
      token: admin.token,
      body: {
        name: 'R',
        ...WINDOW,
        rulerVersionId: topi,
        unitIds: [unit.id, unit.id, otherUnit.id],
      },
    });
    expect(expectProblem(res, 422).errors?.map((e) => e.path)).toEqual(['body.unitIds.2']);
  });

  it('400 for a body that does not match the schema', async () => {
    const { admin, topi } = await createScreeningTenant(t);
    const base = { name: 'R', ...WINDOW, rulerVersionId: topi };
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ ...base, windowStart: '2026-02-30' }, 'body.windowStart'],
      [{ ...base, unitKinds: ['castle'] }, 'body.unitKinds.0'],
      [{ ...base, rulerVersionId: 'topi-3' }, 'body.rulerVersionId'],
      [{ ...base, minAgeMonths: -1 }, 'body.minAgeMonths'],
      [{ ...base, name: '   ' }, 'body.name'],
    ];
    for (const [body, path] of cases) {
      const res = await t.call('POST', '/v1/rounds', { token: admin.token, body });
      expect(
        expectProblem(res, 400).errors?.map((e) => e.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it('lists rounds newest window first, paginated by cursor', async () => {
    const { admin, topi } = await createScreeningTenant(t);
    const starts = ['2026-03-02', '2026-11-02', '2025-10-06', '2026-11-02', '2027-03-01'];
    const created: Round[] = [];
    for (const [index, windowStart] of starts.entries()) {
      created.push(
        await createRound(t, admin.token, topi, {
          name: `Round ${index}`,
          windowStart,
          windowEnd: windowStart.replace(/-\d\d$/, '-28'),
        }),
      );
    }
    const expected = [...created].sort(
      (a, b) => b.windowStart.localeCompare(a.windowStart) || b.id.localeCompare(a.id),
    );
    expect(expected.map((r) => r.windowStart)).toEqual([
      '2027-03-01',
      '2026-11-02',
      '2026-11-02',
      '2026-03-02',
      '2025-10-06',
    ]);

    const seen: Round[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const url: string = `/v1/rounds?limit=2${cursor ? `&cursor=${cursor}` : ''}`;
      const res = await t.call('GET', url, { token: admin.token });
      expect(res.statusCode, res.body).toBe(200);
      const page: { items: Round[]; nextCursor: string | null } = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items);
      cursor = page.nextCursor;
      pages += 1;
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(expected);

    const all = await t.call('GET', '/v1/rounds', { token: admin.token });
    expect(all.json()).toEqual({ items: expected, nextCursor: null });
    const exact = await t.call('GET', '/v1/rounds?limit=5', { token: admin.token });
    expect(exact.json().nextCursor).toBeNull();

    const bad = await t.call('GET', '/v1/rounds?cursor=not-a-cursor', { token: admin.token });
    expect(expectProblem(bad, 400).errors?.map((e) => e.path)).toEqual(['query.cursor']);
    const badLimit = await t.call('GET', '/v1/rounds?limit=0', { token: admin.token });
    expect(expectProblem(badLimit, 400).errors?.map((e) => e.path)).toEqual(['query.limit']);
  });

  it("another municipality's round is 404 everywhere and not listed", async () => {
    const a = await createScreeningTenant(t);
    const b = await createScreeningTenant(t);
    const round = await createRound(t, a.admin.token, a.topi, { name: 'A', ...WINDOW });
    const bAs = { token: b.admin.token };
    expectProblem(await t.call('GET', `/v1/rounds/${round.id}`, bAs), 404);
    expectProblem(await t.call('GET', `/v1/rounds/${round.id}/coverage`, bAs), 404);
    expectProblem(await t.call('GET', `/v1/rounds/${round.id}/coverage/${b.unit.id}`, bAs), 404);
    expectProblem(await t.call('GET', `/v1/rounds/${crypto.randomUUID()}`, bAs), 404);
    expect((await t.call('GET', '/v1/rounds', bAs)).json()).toEqual({
      items: [],
      nextCursor: null,
    });
    // A's own unit under B's round id, and B's unit under A's round: 404 as well.
    const bRound = await createRound(t, b.admin.token, b.topi, { name: 'B', ...WINDOW });
    expectProblem(await t.call('GET', `/v1/rounds/${bRound.id}/coverage/${a.unit.id}`, bAs), 404);
    const aList = await t.call('GET', '/v1/rounds', { token: a.admin.token });
    expect(aList.json().items.map((r: Round) => r.id)).toEqual([round.id]);
  });

  it('non-admins read rounds but cannot create them (403)', async () => {
    const { municipality, admin, unit, topi } = await createScreeningTenant(t);
    const round = await createRound(t, admin.token, topi, { name: 'R', ...WINDOW });
    for (const role of ['unit_staff', 'analyst', 'social_worker'] as const) {
      const key = await createKey(t, municipality.id, role, {
        token: admin.token,
        ...(role === 'unit_staff' ? { unitIds: [unit.id] } : {}),
      });
      const got = await t.call('GET', `/v1/rounds/${round.id}`, { token: key.token });
      expect(got.statusCode, role).toBe(200);
      expect(got.json()).toEqual(round);
      const listed = await t.call('GET', '/v1/rounds', { token: key.token });
      expect(
        listed.json().items.map((r: Round) => r.id),
        role,
      ).toEqual([round.id]);
      const res = await t.call('POST', '/v1/rounds', {
        token: key.token,
        body: { name: 'Nope', ...WINDOW, rulerVersionId: topi },
      });
      expectProblem(res, 403);
    }
    const listed = await t.call('GET', '/v1/rounds', { token: admin.token });
    expect(listed.json().items).toHaveLength(1);
  });

  // -------------------------------------------------------------- coverage

  /**
   * Two units: kindergarten A and nursery B, with children around every boundary of a round
   * for ages 36–71 months at window start 2026-11-02.
   */
  async function coverageFixture() {
    const tenant = await createTenant(t);
    const token = tenant.admin.token;
    const topi = await presetVersionId(t, token, 'topi-3');
    const unitA = await createUnit(t, token, { name: 'A Solsikken', kind: 'kindergarten' });
    const unitB = await createUnit(t, token, { name: 'B Mariehønen', kind: 'nursery' });
    const child = (
      familyName: string,
      unit: Unit,
      options: { birthDate?: string; enrolledFrom?: string; enrolledTo?: string } = {},
    ) =>
      createChild(t, token, {
        givenName: 'Barn',
        familyName,
        birthDate: options.birthDate ?? '2022-05-10',
        unitId: unit.id,
        ...(options.enrolledFrom ? { enrolledFrom: options.enrolledFrom } : {}),
        ...(options.enrolledTo ? { enrolledTo: options.enrolledTo } : {}),
      });
    const a = {
      // exactly 36 months at 2026-11-02: included
      exactly36: await child('Andersen', unitA, { birthDate: '2023-11-02' }),
      // one day short of 36 months: excluded
      age35: await child('Bach', unitA, { birthDate: '2023-11-03' }),
      // 71 months (one day short of 72): included
      age71: await child('Christensen', unitA, { birthDate: '2020-11-03' }),
      // exactly 72 months: excluded
      age72: await child('Dahl', unitA, { birthDate: '2020-11-02' }),
      // enrolment ended the day before the window: not counted
      leftBefore: await child('Eriksen', unitA, { enrolledTo: '2026-11-01' }),
      // enrolment ended on the window's first day: counted
      leftOnStart: await child('Frandsen', unitA, { enrolledTo: '2026-11-02' }),
      // enrolled only from 2026-11-20, inside the window: counted
      joinedDuring: await child('Gregersen', unitA, { enrolledFrom: '2026-11-20' }),
      // enrolled from the window's last day: counted
      joinedOnEnd: await child('Hansen', unitA, { enrolledFrom: '2026-11-27' }),
      // enrolled after the window: not counted
      joinedAfter: await child('Iversen', unitA, { enrolledFrom: '2026-11-28' }),
      // enrolled all along
      regular: await child('Jensen', unitA),
      withdrawnLater: await child('Krogh', unitA),
    };
    const b = {
      toddler: await child('Larsen', unitB, { birthDate: '2024-06-01' }),
      baby: await child('Madsen', unitB, { birthDate: '2025-09-15', enrolledFrom: '2026-01-05' }),
    };
    return { ...tenant, token, topi, unitA, unitB, a, b };
  }

  it('a round of kindergartens aged 36–71 months counts enrolled, assessed and missing', async () => {
    const f = await coverageFixture();
    const round = await createRound(t, f.token, f.topi, {
      name: 'Børnehaver efterår',
      ...WINDOW,
      unitKinds: ['kindergarten'],
      minAgeMonths: 36,
      maxAgeMonths: 71,
    });
    expect(round.status).toBe('open');

    // Nothing assessed yet.
    const empty = await coverage(f.token, round.id);
    expect(empty.total).toEqual({ enrolled: 7, assessed: 0, missing: 7, coverage: 0 });

    await assess(f.token, f.a.exactly36, f.unitA, round);
    await assess(f.token, f.a.joinedDuring, f.unitA, round, '2026-11-21');
    await assess(f.token, f.a.regular, f.unitA, round, WINDOW.windowStart);

    const res = await coverage(f.token, round.id);
    const aCounts = { enrolled: 7, assessed: 3, missing: 4, coverage: 0.4286 };
    expect(res).toEqual({
      roundId: round.id,
      units: [
        { unitId: f.unitA.id, unitName: 'A Solsikken', unitKind: 'kindergarten', ...aCounts },
      ],
      total: aCounts,
    });

    const unitA = await unitCoverage(f.token, round.id, f.unitA.id);
    expect(unitA).toEqual({
      roundId: round.id,
      unitId: f.unitA.id,
      ...aCounts,
      missingChildren: [f.a.age71, f.a.leftOnStart, f.a.joinedOnEnd, f.a.withdrawnLater].map(
        missingEntry,
      ),
    });
    // The nursery is not covered by a kindergarten round.
    expect(await unitCoverage(f.token, round.id, f.unitB.id)).toEqual({
      roundId: round.id,
      unitId: f.unitB.id,
      enrolled: 0,
      assessed: 0,
      missing: 0,
      coverage: null,
      missingChildren: [],
    });
    expectProblem(
      await t.call('GET', `/v1/rounds/${round.id}/coverage/${crypto.randomUUID()}`, {
        token: f.token,
      }),
      404,
    );

    // A child outside the age range cannot be assessed in the round.
    const tooYoung = await t.call('POST', '/v1/assessments', {
      token: f.token,
      body: assessmentBody({
        childId: f.a.age35.id,
        unitId: f.unitA.id,
        roundId: round.id,
        assessedOn: '2026-11-16',
      }),
    });
    expect(expectProblem(tooYoung, 422).errors?.map((e) => [e.path, e.code])).toEqual([
      ['body.childId', 'child_not_in_round'],
    ]);
    expect((await coverage(f.token, round.id)).total).toEqual(aCounts);
  });

  it('a round of explicit units covers exactly them, every age; assessments count per round', async () => {
    const f = await coverageFixture();
    const kindergartenRound = await createRound(t, f.token, f.topi, {
      name: 'Børnehaver',
      ...WINDOW,
      unitKinds: ['kindergarten'],
      minAgeMonths: 36,
      maxAgeMonths: 71,
    });
    const round = await createRound(t, f.token, f.topi, {
      name: 'A og B',
      ...WINDOW,
      unitIds: [f.unitA.id, f.unitB.id],
    });
    // Assessed in the other round only: does not count in this one.
    await assess(f.token, f.a.regular, f.unitA, kindergartenRound);
    await assess(f.token, f.a.age35, f.unitA, round);
    await assess(f.token, f.b.toddler, f.unitB, round);

    const aCounts = { enrolled: 9, assessed: 1, missing: 8, coverage: 0.1111 };
    const bCounts = { enrolled: 2, assessed: 1, missing: 1, coverage: 0.5 };
    expect(await coverage(f.token, round.id)).toEqual({
      roundId: round.id,
      units: [
        { unitId: f.unitA.id, unitName: 'A Solsikken', unitKind: 'kindergarten', ...aCounts },
        { unitId: f.unitB.id, unitName: 'B Mariehønen', unitKind: 'nursery', ...bCounts },
      ],
      total: { enrolled: 11, assessed: 2, missing: 9, coverage: 0.1818 },
    });
    const { a } = f;
    expect((await unitCoverage(f.token, round.id, f.unitA.id)).missingChildren).toEqual(
      [
        a.exactly36,
        a.age71,
        a.age72,
        a.leftOnStart,
        a.joinedDuring,
        a.joinedOnEnd,
        a.regular,
        a.withdrawnLater,
      ].map(missingEntry),
    );
    expect(await unitCoverage(f.token, round.id, f.unitB.id)).toEqual({
      roundId: round.id,
      unitId: f.unitB.id,
      ...bCounts,
      missingChildren: [missingEntry(f.b.baby)],
    });

    // A round naming only B covers only B.
    const onlyB = await createRound(t, f.token, f.topi, {
      name: 'Kun B',
      ...WINDOW,
      unitIds: [f.unitB.id],
    });
    const onlyBCoverage = await coverage(f.token, onlyB.id);
    expect(onlyBCoverage.units.map((u: { unitId: string }) => u.unitId)).toEqual([f.unitB.id]);
    expect(onlyBCoverage.total).toEqual({ enrolled: 2, assessed: 0, missing: 2, coverage: 0 });
    expect((await unitCoverage(f.token, onlyB.id, f.unitA.id)).enrolled).toBe(0);
  });

  it('a withdrawn assessment no longer counts; the child is missing again', async () => {
    const f = await coverageFixture();
    const round = await createRound(t, f.token, f.topi, {
      name: 'R',
      ...WINDOW,
      unitKinds: ['kindergarten'],
      minAgeMonths: 36,
      maxAgeMonths: 71,
    });
    await assess(f.token, f.a.regular, f.unitA, round);
    const id = await assess(f.token, f.a.withdrawnLater, f.unitA, round);
    expect((await coverage(f.token, round.id)).total).toEqual({
      enrolled: 7,
      assessed: 2,
      missing: 5,
      coverage: 0.2857,
    });
    const missingBefore = (await unitCoverage(f.token, round.id, f.unitA.id)).missingChildren;
    expect(missingBefore.map((c: { childId: string }) => c.childId)).not.toContain(
      f.a.withdrawnLater.id,
    );

    const withdrawn = await t.call('POST', `/v1/assessments/${id}/withdraw`, {
      token: f.token,
      body: { reason: 'Recorded for the wrong child' },
    });
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    expect(withdrawn.json()).toMatchObject({
      id,
      status: 'withdrawn',
      withdrawalReason: 'Recorded for the wrong child',
    });

    const after = await coverage(f.token, round.id);
    expect(after.total).toEqual({ enrolled: 7, assessed: 1, missing: 6, coverage: 0.1429 });
    expect(after.units[0]).toMatchObject({ unitId: f.unitA.id, assessed: 1, missing: 6 });
    const unitA = await unitCoverage(f.token, round.id, f.unitA.id);
    expect(unitA).toMatchObject({ enrolled: 7, assessed: 1, missing: 6, coverage: 0.1429 });
    expect(unitA.missingChildren).toEqual(
      [
        f.a.exactly36,
        f.a.age71,
        f.a.leftOnStart,
        f.a.joinedDuring,
        f.a.joinedOnEnd,
        f.a.withdrawnLater,
      ].map(missingEntry),
    );

    // The child can be assessed again in the round, and then counts again.
    await assess(f.token, f.a.withdrawnLater, f.unitA, round, '2026-11-20');
    expect((await coverage(f.token, round.id)).total).toMatchObject({ assessed: 2, missing: 5 });
  });

  it('unit staff see only their units; analysts and social workers get 403', async () => {
    const f = await coverageFixture();
    const round = await createRound(t, f.token, f.topi, {
      name: 'A og B',
      ...WINDOW,
      unitIds: [f.unitA.id, f.unitB.id],
    });
    await assess(f.token, f.a.regular, f.unitA, round);
    await assess(f.token, f.b.baby, f.unitB, round);
    const staffA = await createKey(t, f.municipality.id, 'unit_staff', {
      token: f.token,
      unitIds: [f.unitA.id],
    });

    const aCounts = { enrolled: 9, assessed: 1, missing: 8, coverage: 0.1111 };
    expect(await coverage(staffA.token, round.id)).toEqual({
      roundId: round.id,
      units: [
        { unitId: f.unitA.id, unitName: 'A Solsikken', unitKind: 'kindergarten', ...aCounts },
      ],
      total: aCounts,
    });
    const own = await unitCoverage(staffA.token, round.id, f.unitA.id);
    expect(own).toMatchObject({ unitId: f.unitA.id, ...aCounts });
    expect(own.missingChildren).toHaveLength(8);
    expectProblem(
      await t.call('GET', `/v1/rounds/${round.id}/coverage/${f.unitB.id}`, {
        token: staffA.token,
      }),
      403,
    );
    // The admin still sees both units.
    expect((await coverage(f.token, round.id)).units).toHaveLength(2);

    for (const role of ['analyst', 'social_worker'] as const) {
      const key = await createKey(t, f.municipality.id, role, { token: f.token });
      const as = { token: key.token };
      expectProblem(await t.call('GET', `/v1/rounds/${round.id}/coverage`, as), 403);
      expectProblem(await t.call('GET', `/v1/rounds/${round.id}/coverage/${f.unitA.id}`, as), 403);
    }
  });

  // Age boundary at a month end: a child born on a leap day, 2024-02-29, is 36 months old on
  // 2027-02-28 (ageInMonths, src/domain/dates.ts: "one born 2016-02-29 is 12 months old on
  // 2017-02-28").
  // Regression: the age range was once turned into birth dates with addMonths, which clamps
  // 2027-02-28 minus 36 months to 2024-02-28 and left this child out.
  it('minAgeMonths counts a child whose age reaches the minimum at a month end', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const leapDay = await createChild(t, admin.token, {
      birthDate: '2024-02-29',
      unitId: unit.id,
      enrolledFrom: '2026-08-01',
    });
    const round = await createRound(t, admin.token, topi, {
      name: 'Forår 2027',
      windowStart: '2027-02-28',
      windowEnd: '2027-03-19',
      minAgeMonths: 36,
    });
    const res = await unitCoverage(admin.token, round.id, unit.id);
    expect(res.enrolled).toBe(1);
    expect(res.missingChildren.map((c: { childId: string }) => c.childId)).toEqual([leapDay.id]);
  });

  // Regression: the same clamping once kept a child of 36 months (born 2024-02-29, window
  // start 2027-02-28) in a round for at most 35 months.
  it('maxAgeMonths leaves out a child whose age passes the maximum at a month end', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    await createChild(t, admin.token, {
      birthDate: '2024-02-29',
      unitId: unit.id,
      enrolledFrom: '2026-08-01',
    });
    const round = await createRound(t, admin.token, topi, {
      name: 'Forår 2027',
      windowStart: '2027-02-28',
      windowEnd: '2027-03-19',
      maxAgeMonths: 35,
    });
    const res = await unitCoverage(admin.token, round.id, unit.id);
    expect(res).toMatchObject({ enrolled: 0, missingChildren: [] });
  });

  it('the normal age boundary holds in both directions on an ordinary day', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const born = ['2023-03-15', '2023-03-16', '2023-03-14'];
    const children = [];
    for (const birthDate of born) {
      children.push(
        await createChild(t, admin.token, {
          birthDate,
          unitId: unit.id,
          enrolledFrom: '2026-08-01',
        }),
      );
    }
    const autumn = { windowStart: '2026-09-15', windowEnd: '2026-09-30' };
    // At 2026-09-15: 42 months, 41 months (one day short), 42 months.
    const min42 = await createRound(t, admin.token, topi, {
      name: '42+',
      ...autumn,
      minAgeMonths: 42,
    });
    const max41 = await createRound(t, admin.token, topi, {
      name: '≤41',
      ...autumn,
      maxAgeMonths: 41,
    });
    const exactly42 = await createRound(t, admin.token, topi, {
      name: '42',
      ...autumn,
      minAgeMonths: 42,
      maxAgeMonths: 42,
    });
    const ids = async (roundId: string) =>
      (await unitCoverage(admin.token, roundId, unit.id)).missingChildren
        .map((c: { childId: string }) => c.childId)
        .sort();
    const [c42a, c41, c42b] = children as [Child, Child, Child];
    expect(await ids(min42.id)).toEqual([c42a.id, c42b.id].sort());
    expect(await ids(max41.id)).toEqual([c41.id]);
    expect(await ids(exactly42.id)).toEqual([c42a.id, c42b.id].sort());
  });
});
