import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Assessment } from '../../src/features/assessments/schemas.js';
import type { Child } from '../../src/features/children/schemas.js';
import type { Enrolment } from '../../src/features/enrolments/schemas.js';
import type { Round } from '../../src/features/rounds/schemas.js';
import type { Unit } from '../../src/features/units/schemas.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
  createTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

interface Page<T> {
  items: T[];
  nextCursor: string | null;
}

/**
 * Incremental sync (issue 15, point 3): `updatedSince` and a keyset cursor on (updatedAt, id)
 * over children, units, enrolments and assessments; exact `externalRef`; rounds by unit and
 * status. The feed per unit is in tests/http/follow-up-regressions.test.ts.
 */
describeEngines('changed since: incremental sync and exact lookups', (t) => {
  const get = async <T>(token: string, url: string): Promise<Page<T>> => {
    const res = await t.call('GET', url, { token });
    expect(res.statusCode, res.body).toBe(200);
    return res.json();
  };
  /** Every page of a list, following nextCursor; `between` runs after each page. */
  const walk = async <T>(
    token: string,
    url: string,
    between: (page: number) => Promise<void> = async () => {},
  ): Promise<T[]> => {
    const out: T[] = [];
    let cursor: string | null = null;
    for (let page = 0; page < 50; page++) {
      const sep = url.includes('?') ? '&' : '?';
      const res: Page<T> = await get<T>(
        token,
        cursor ? `${url}${sep}cursor=${encodeURIComponent(cursor)}` : url,
      );
      out.push(...res.items);
      if (!res.nextCursor) return out;
      cursor = res.nextCursor;
      await between(page);
    }
    throw new Error('the walk did not end');
  };
  const patchChild = async (token: string, id: string, body: object) => {
    // The services stamp updatedAt with the request clock: keep it on the database's time.
    t.clock.set(new Date());
    const res = await t.call('PATCH', `/v1/children/${id}`, { token, body });
    expect(res.statusCode, res.body).toBe(200);
    return res.json() as Child;
  };
  const resetClock = () => t.clock.set('2026-11-22T09:00:00.000Z');

  it('a sync over pages with changes between them misses and repeats no change', async () => {
    const { admin } = await createTenant(t);
    const since = new Date(Date.now() - 1000).toISOString();
    const children: Child[] = [];
    for (let i = 0; i < 7; i++) children.push(await createChild(t, admin.token));
    const ids = children.map((c) => c.id);

    let added: Child | undefined;
    const seen = await walk<Child>(
      admin.token,
      `/v1/children?limit=2&updatedSince=${since}`,
      async (page) => {
        if (page !== 0) return;
        // After the first page: one child already read changes, one not yet read changes, one
        // child is added.
        await patchChild(admin.token, ids[0] as string, { givenName: 'Seen' });
        await patchChild(admin.token, ids[5] as string, { givenName: 'Unseen' });
        added = await createChild(t, admin.token);
      },
    );
    resetClock();
    const seenIds = seen.map((c) => c.id);
    // Each change once, in change order: the first page, the unchanged rest, then the changes
    // (the child read on the first page again, with its change).
    expect(seenIds).toEqual([
      ids[0],
      ids[1],
      ids[2],
      ids[3],
      ids[4],
      ids[6],
      ids[0],
      ids[5],
      added?.id,
    ]);
    expect(seen[6]?.givenName).toBe('Seen');
    expect(seen[7]?.givenName).toBe('Unseen');
    const keys = seen.map((c) => `${c.updatedAt}|${c.id}`);
    expect([...keys].sort()).toEqual(keys);

    // The next sync starts at an updatedAt seen: the changes from there on.
    const next = await walk<Child>(
      admin.token,
      `/v1/children?limit=2&updatedSince=${seen[7]?.updatedAt}`,
    );
    expect(next.map((c) => c.id)).toEqual([ids[5], added?.id]);
  });

  it('a change made without stamping updated_at is stamped by the database', async () => {
    const { admin } = await createTenant(t);
    const child = await createChild(t, admin.token);
    const before = new Date(Date.now() + 5).toISOString();
    await new Promise((r) => setTimeout(r, 20));
    await t.asOwner((db) =>
      db.updateTable('children').set({ family_name: 'Holm' }).where('id', '=', child.id).execute(),
    );
    const changed = await get<Child>(admin.token, `/v1/children?updatedSince=${before}`);
    expect(changed.items.map((c) => [c.id, c.familyName])).toEqual([[child.id, 'Holm']]);
    const stamp = changed.items[0]?.updatedAt ?? '';
    expect(stamp > before).toBe(true);
    // An update that changes nothing leaves the stamp alone.
    await t.asOwner((db) =>
      db.updateTable('children').set({ family_name: 'Holm' }).where('id', '=', child.id).execute(),
    );
    const again = await get<Child>(admin.token, `/v1/children?updatedSince=${before}`);
    expect(again.items.map((c) => c.updatedAt)).toEqual([stamp]);
  });

  it('externalRef is an exact match; q stays a prefix search', async () => {
    const { admin } = await createTenant(t);
    const unit = await createUnit(t, admin.token, { externalRef: 'inst-1' });
    await createUnit(t, admin.token, { externalRef: 'inst-10' });
    const one = await createChild(t, admin.token, { externalRef: 'elev-1' });
    await createChild(t, admin.token, { externalRef: 'elev-10' });
    await createChild(t, admin.token, { externalRef: 'elev-11' });
    const exact = await get<Child>(admin.token, '/v1/children?externalRef=elev-1');
    expect(exact.items.map((c) => c.id)).toEqual([one.id]);
    const prefix = await get<Child>(admin.token, '/v1/children?q=elev-1');
    expect(prefix.items.map((c) => c.externalRef)).toEqual(['elev-1', 'elev-10', 'elev-11']);
    expect((await get<Child>(admin.token, '/v1/children?externalRef=elev-2')).items).toEqual([]);
    const units = await get<Unit>(admin.token, '/v1/units?externalRef=inst-1');
    expect(units.items.map((u) => u.id)).toEqual([unit.id]);
  });

  it('units in change order with updatedSince', async () => {
    const { admin } = await createTenant(t);
    const since = new Date(Date.now() - 1000).toISOString();
    const a = await createUnit(t, admin.token, { name: 'Zeta' });
    const b = await createUnit(t, admin.token, { name: 'Alpha' });
    // The database stamps creation in microseconds, the clock in milliseconds: a change in the
    // same millisecond would sort before it. One millisecond later is after it.
    t.clock.set(new Date(Date.now() + 1));
    const patched = await t.call('PATCH', `/v1/units/${a.id}`, {
      token: admin.token,
      body: { district: 'Nord' },
    });
    resetClock();
    expect(patched.statusCode, patched.body).toBe(200);
    const changed = await walk<Unit>(admin.token, `/v1/units?limit=1&updatedSince=${since}`);
    expect(changed.map((u) => u.id)).toEqual([b.id, a.id]);
    // Without updatedSince: by name, as before.
    const byName = await walk<Unit>(admin.token, '/v1/units?limit=1');
    expect(byName.map((u) => u.name)).toEqual(['Alpha', 'Zeta']);
  });

  it('rounds by unit and status: the rounds open now for my unit', async () => {
    const s = await createScreeningTenant(t);
    const other = await createUnit(t, s.admin.token, { kind: 'nursery' });
    const open = await createRound(t, s.admin.token, s.topi, { name: 'open, all' });
    const openOther = await createRound(t, s.admin.token, s.topi, {
      name: 'open, other unit',
      windowStart: '2026-10-03',
      unitIds: [other.id],
    });
    const openKind = await createRound(t, s.admin.token, s.topi, {
      name: 'open, kindergartens',
      windowStart: '2026-10-02',
      unitKinds: ['kindergarten'],
    });
    const closed = await createRound(t, s.admin.token, s.topi, {
      name: 'closed',
      windowStart: '2026-03-01',
      windowEnd: '2026-04-30',
    });
    const upcoming = await createRound(t, s.admin.token, s.topi, {
      name: 'upcoming',
      windowStart: '2027-03-01',
      windowEnd: '2027-04-30',
    });
    const names = async (query: string) =>
      (await walk<Round>(s.admin.token, `/v1/rounds?limit=2&${query}`)).map((r) => r.name);
    expect(await names(`unitId=${s.unit.id}&status=open`)).toEqual([openKind.name, open.name]);
    expect(await names(`unitId=${other.id}&status=open`)).toEqual([openOther.name, open.name]);
    expect(await names(`unitId=${s.unit.id}`)).toEqual([
      upcoming.name,
      openKind.name,
      open.name,
      closed.name,
    ]);
    expect(await names('status=closed')).toEqual([closed.name]);
    expect(await names('status=upcoming')).toEqual([upcoming.name]);
    expect((await names('status=open')).sort()).toEqual(
      [open.name, openOther.name, openKind.name].sort(),
    );
    const elsewhere = await createTenant(t);
    const foreign = await createUnit(t, elsewhere.admin.token);
    expectProblem(
      await t.call('GET', `/v1/rounds?unitId=${foreign.id}`, { token: s.admin.token }),
      404,
    );
    expectProblem(await t.call('GET', '/v1/rounds?status=ajar', { token: s.admin.token }), 400);
  });

  /** Two units with a child each, a round, and assessments in both units. */
  async function screened(t: EngineContext) {
    const s = await createScreeningTenant(t);
    const unitB = await createUnit(t, s.admin.token);
    const childA = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const childB = await createChild(t, s.admin.token, { unitId: unitB.id });
    const round = await createRound(t, s.admin.token, s.topi);
    const inRoundA = await createAssessment(t, s.admin.token, {
      childId: childA.id,
      unitId: s.unit.id,
      roundId: round.id,
    });
    const outsideA = await createAssessment(t, s.admin.token, {
      childId: childA.id,
      unitId: s.unit.id,
      assessedOn: '2026-09-01',
      rulerVersionId: s.topi,
    });
    const inRoundB = await createAssessment(t, s.admin.token, {
      childId: childB.id,
      unitId: unitB.id,
      roundId: round.id,
    });
    const limitedA = await createKey(t, s.municipality.id, 'integration', {
      token: s.admin.token,
      unitIds: [s.unit.id],
    });
    return { ...s, unitB, childA, childB, round, inRoundA, outsideA, inRoundB, limitedA };
  }

  it('assessments by round, unit, child and change; unit-limited keys see their units only', async () => {
    const s = await screened(t);
    const ids = async (token: string, query = '') =>
      (await walk<Assessment>(token, `/v1/assessments?limit=2${query}`)).map((a) => a.id);
    const created = [s.inRoundA.id, s.outsideA.id, s.inRoundB.id];
    expect(await ids(s.admin.token)).toEqual(created);
    expect(await ids(s.admin.token, `&roundId=${s.round.id}`)).toEqual([
      s.inRoundA.id,
      s.inRoundB.id,
    ]);
    expect(await ids(s.admin.token, `&unitId=${s.unitB.id}`)).toEqual([s.inRoundB.id]);
    expect(await ids(s.admin.token, `&childId=${s.childA.id}`)).toEqual([
      s.inRoundA.id,
      s.outsideA.id,
    ]);
    expect(await ids(s.limitedA.token)).toEqual([s.inRoundA.id, s.outsideA.id]);
    expect(await ids(s.limitedA.token, `&childId=${s.childB.id}`)).toEqual([]);
    expectProblem(
      await t.call('GET', `/v1/assessments?unitId=${s.unitB.id}`, { token: s.limitedA.token }),
      403,
    );

    // A withdrawal is a change: the assessment comes again, after the others, withdrawn.
    const since = new Date().toISOString();
    t.clock.set(new Date(Date.now() + 10));
    const withdrawn = await t.call('POST', `/v1/assessments/${s.outsideA.id}/withdraw`, {
      token: s.admin.token,
      body: { reason: 'Recorded on the wrong child' },
    });
    resetClock();
    expect(withdrawn.statusCode, withdrawn.body).toBe(200);
    const changed = await walk<Assessment>(s.admin.token, `/v1/assessments?updatedSince=${since}`);
    expect(changed.map((a) => [a.id, a.status])).toEqual([[s.outsideA.id, 'withdrawn']]);
    expect(await ids(s.admin.token)).toEqual([s.inRoundA.id, s.inRoundB.id, s.outsideA.id]);
  });

  it("enrolments in change order; unit-limited keys never list another unit's", async () => {
    const s = await screened(t);
    const list = async (token: string, query = '') =>
      (await walk<Enrolment>(token, `/v1/enrolments?limit=1${query}`)).map((e) => [
        e.childId,
        e.unitId,
      ]);
    expect(await list(s.admin.token)).toEqual([
      [s.childA.id, s.unit.id],
      [s.childB.id, s.unitB.id],
    ]);
    expect(await list(s.admin.token, `&unitId=${s.unitB.id}`)).toEqual([[s.childB.id, s.unitB.id]]);
    expect(await list(s.admin.token, `&childId=${s.childA.id}`)).toEqual([
      [s.childA.id, s.unit.id],
    ]);
    expect(await list(s.limitedA.token)).toEqual([[s.childA.id, s.unit.id]]);
    expect(await list(s.limitedA.token, `&childId=${s.childB.id}`)).toEqual([]);
    expectProblem(
      await t.call('GET', `/v1/enrolments?unitId=${s.unitB.id}`, { token: s.limitedA.token }),
      403,
    );
    // Ending child A's enrolment is a change: it moves after child B's.
    const enrolment = (
      await t.call('GET', `/v1/children/${s.childA.id}/enrolments`, { token: s.admin.token })
    ).json().items[0] as Enrolment;
    const since = new Date().toISOString();
    t.clock.set(new Date(Date.now() + 10));
    const ended = await t.call('PATCH', `/v1/children/${s.childA.id}/enrolments/${enrolment.id}`, {
      token: s.admin.token,
      body: { endDate: '2026-12-31' },
    });
    resetClock();
    expect(ended.statusCode, ended.body).toBe(200);
    const changed = await walk<Enrolment>(s.admin.token, `/v1/enrolments?updatedSince=${since}`);
    expect(changed.map((e) => [e.id, e.endDate])).toEqual([[enrolment.id, '2026-12-31']]);
    expect(await list(s.admin.token)).toEqual([
      [s.childB.id, s.unitB.id],
      [s.childA.id, s.unit.id],
    ]);
  });

  it('every new list answers the same after many runs with other parameters (generic plans)', async () => {
    const s = await screened(t);
    const lists = [
      '/v1/children',
      '/v1/units',
      '/v1/enrolments',
      '/v1/assessments',
      `/v1/rounds?unitId=${s.unit.id}&status=open`,
    ];
    const full = new Map<string, string[]>();
    for (const url of lists) {
      full.set(
        url,
        (await walk<{ id: string }>(s.admin.token, url)).map((r) => r.id),
      );
    }
    // Seven runs of each list with other limits, cursors and timestamps: on PostgreSQL the
    // statements are planned generically (plan_cache_mode in the test pass, and after five
    // runs anyway); the pages must add up to the same lists.
    for (let run = 0; run < 7; run++) {
      const since = new Date(Date.UTC(2020, 0, 1 + run)).toISOString();
      for (const url of lists) {
        const sep = url.includes('?') ? '&' : '?';
        const query = url.startsWith('/v1/rounds')
          ? `limit=${1 + (run % 3)}`
          : `limit=${1 + (run % 3)}&updatedSince=${since}`;
        const ids = (await walk<{ id: string }>(s.admin.token, `${url}${sep}${query}`)).map(
          (r) => r.id,
        );
        const expected = full.get(url) ?? [];
        if (url === '/v1/units' || url === '/v1/children') {
          expect(ids.sort()).toEqual([...expected].sort());
        } else {
          expect(ids).toEqual(expected);
        }
      }
      const limited = await walk<{ id: string }>(
        s.limitedA.token,
        `/v1/assessments?limit=${1 + (run % 2)}&unitId=${s.unit.id}&updatedSince=${since}`,
      );
      expect(limited.map((a) => a.id)).toEqual([s.inRoundA.id, s.outsideA.id]);
    }
  });

  it('the enrolment and assessment lists are audited as searches, with their filters', async () => {
    const s = await screened(t);
    const audited = async (resource: string) =>
      t.asOwner(async (db) => {
        const { rows } = await sql<{ principal_id: string; criteria: unknown; outcome: string }>`
          SELECT principal_id::text, criteria, outcome FROM audit_log
          WHERE municipality_id = ${s.municipality.id} AND action = 'search'
            AND resource_type = ${resource}
          ORDER BY id`.execute(db);
        return rows;
      });
    await get(s.limitedA.token, `/v1/enrolments?childId=${s.childA.id}`);
    await get(s.limitedA.token, `/v1/assessments?roundId=${s.round.id}&limit=5`);
    expect(await audited('enrolment')).toEqual([
      {
        principal_id: s.limitedA.id,
        criteria: { childId: s.childA.id, limit: 50, results: 1 },
        outcome: 'success',
      },
    ]);
    expect(await audited('assessment')).toEqual([
      {
        principal_id: s.limitedA.id,
        criteria: { roundId: s.round.id, limit: 5, results: 1 },
        outcome: 'success',
      },
    ]);
  });

  it('bad timestamps and cursors are 400 with the field named', async () => {
    const { admin } = await createTenant(t);
    for (const url of ['/v1/children', '/v1/units', '/v1/enrolments', '/v1/assessments']) {
      for (const bad of ['yesterday', '2026-11-22', '2026-11-22T09:00:00']) {
        const res = await t.call('GET', `${url}?updatedSince=${bad}`, { token: admin.token });
        const problem = expectProblem(res, 400);
        expect(problem.errors?.map((e) => e.path)).toEqual(['query.updatedSince']);
      }
      const crafted = Buffer.from(JSON.stringify(['x', 'y'])).toString('base64url');
      const res = await t.call(
        'GET',
        `${url}?updatedSince=2026-11-22T09:00:00Z&cursor=${crafted}`,
        { token: admin.token },
      );
      expect(expectProblem(res, 400).errors?.map((e) => e.path)).toEqual(['query.cursor']);
    }
    expectProblem(
      await t.call('GET', '/v1/enrolments?unitId=not-a-uuid', { token: admin.token }),
      400,
    );
  });
});
