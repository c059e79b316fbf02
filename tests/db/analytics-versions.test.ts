import { sql, type Transaction } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import type { DB } from '../../src/db/schema.js';
import { analyticsVersion, staleAnswers } from '../../src/features/analytics/cube-cache.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  createAssessment,
  createChild,
  createRound,
  createScreeningTenant,
  createUnit,
} from '../support/factories.js';

/**
 * The zone distribution and transitions answer from a cache keyed by the municipality's
 * analytics version (migration 20261211_090000): every change to what the cubes are made from
 * must renew it, concurrent writers must never wait for it, and the application role may only
 * read its own. (tests/db/analytics-aggregates.test.ts asks both endpoints again after every one
 * of its random writes and compares with an uncached computation.)
 */

async function world(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const round = await createRound(t, s.admin.token, s.topi, { name: 'Efterår 2026' });
  const scoped = <T>(fn: (trx: Transaction<DB>) => Promise<T>) =>
    t.database.transaction(municipalityScope(s.municipality.id), fn);
  const version = () => scoped((trx) => analyticsVersion(trx, s.municipality.id));
  const assess = async (unitId = s.unit.id) => {
    const child = await createChild(t, s.admin.token, { unitId, enrolledFrom: '2024-01-01' });
    return createAssessment(t, s.admin.token, { childId: child.id, unitId, roundId: round.id });
  };
  return { ...s, round, scoped, version, assess };
}

describeEngines('analytics versions', (t) => {
  it('renews the version with every change the cubes are made from, and only then', async () => {
    const w = await world(t);
    const changes: [string, () => Promise<unknown>][] = [
      ['an assessment', () => w.assess()],
      [
        'a unit renamed',
        () =>
          t.call('PATCH', `/v1/units/${w.unit.id}`, {
            token: w.admin.token,
            body: { name: 'Solsikken' },
          }),
      ],
      [
        'a unit moved to another district',
        () =>
          t.call('PATCH', `/v1/units/${w.unit.id}`, {
            token: w.admin.token,
            body: { district: 'Syd' },
          }),
      ],
      ['a unit created', () => createUnit(t, w.admin.token)],
      [
        'a round renamed',
        () => w.scoped((trx) => sql`UPDATE rounds SET name = 'Efterår 26'`.execute(trx)),
      ],
      ['a round created', () => createRound(t, w.admin.token, w.topi)],
    ];
    const seen = new Set([await w.version()]);
    for (const [what, change] of changes) {
      await change();
      const now = await w.version();
      expect(seen.has(now), what).toBe(false);
      seen.add(now);
    }
    // What the cubes are not made from leaves it: a child without an assessment, a read.
    const before = await w.version();
    await createChild(t, w.admin.token, { unitId: w.unit.id, enrolledFrom: '2024-01-01' });
    const read = await t.call('GET', '/v1/analytics/zone-distribution?groupBy=round', {
      token: w.admin.token,
    });
    expect(read.statusCode, read.body).toBe(200);
    expect(await w.version()).toBe(before);
    // Another municipality's version is its own.
    const other = await world(t);
    await other.assess();
    expect(await w.version()).toBe(before);
  });

  it('answers a question asked again from the cache, and anew after a change', async () => {
    const w = await world(t);
    for (let i = 0; i < 6; i++) await w.assess();
    const ask = async (query: string) => {
      const res = await t.call('GET', `/v1/analytics/zone-distribution?${query}`, {
        token: w.admin.token,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json();
    };
    const first = await ask('groupBy=round,district');
    expect(await ask('groupBy=round,district')).toEqual(first);
    expect(first.rows.map((r: { total: { value: number } }) => r.total.value)).toEqual([6]);
    expect(first.rows[0].group.round.name).toBe('Efterår 2026');
    // It is the kept answer: a count changed behind the version's back is not seen…
    const behindTheBack = (n: number) =>
      t.asOwner(async (db) => {
        await db.transaction().execute(async (trx) => {
          await sql`ALTER TABLE zone_counts DISABLE TRIGGER zone_counts_analytics_version_update`.execute(
            trx,
          );
          await sql`UPDATE zone_counts SET n = n + ${n} WHERE municipality_id = ${w.municipality.id}`.execute(
            trx,
          );
          await sql`ALTER TABLE zone_counts ENABLE TRIGGER zone_counts_analytics_version_update`.execute(
            trx,
          );
        });
      });
    await behindTheBack(5);
    expect(await ask('groupBy=round,district')).toEqual(first);
    await behindTheBack(-5);
    await w.scoped((trx) => sql`UPDATE rounds SET name = 'Efterår 26'`.execute(trx));
    expect((await ask('groupBy=round,district')).rows[0].group.round.name).toBe('Efterår 26');
    await t.call('PATCH', `/v1/units/${w.unit.id}`, {
      token: w.admin.token,
      body: { district: 'Vest' },
    });
    const moved = await ask('groupBy=round,district');
    expect(moved.rows.map((r: { group: { district: string } }) => r.group.district)).toEqual([
      'Vest',
    ]);
    await w.assess();
    expect((await ask('groupBy=round,district')).rows[0].total.value).toBe(7);
    // Transitions likewise (a round with itself: every child assessed in it).
    const transitions = () =>
      t.call('GET', `/v1/analytics/transitions?fromRoundId=${w.round.id}&toRoundId=${w.round.id}`, {
        token: w.admin.token,
      });
    expect((await transitions()).json().rows[0].total.value).toBe(7);
    await w.assess();
    expect((await transitions()).json().rows[0].total.value).toBe(8);
  });

  it('a large cube answers the last answer at once after a change, and the new one soon', async () => {
    const w = await world(t);
    for (let i = 0; i < 5; i++) await w.assess();
    const total = async () => {
      const res = await t.call('GET', '/v1/analytics/zone-distribution?groupBy=round', {
        token: w.admin.token,
      });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().rows[0].total.value as number;
    };
    const saved = { ...staleAnswers };
    // Every cube counts as large here (a real one: 2,000 counted rows and more).
    staleAnswers.minRows = 0;
    try {
      expect(await total()).toBe(5);
      await w.assess();
      // The kept answer, while the new one is computed in the background…
      expect(await total()).toBe(5);
      // …which a later request gets (bounded wait).
      let now = 5;
      for (let i = 0; i < 100 && now === 5; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        now = await total();
      }
      expect(now).toBe(6);
      // Too old to answer: computed anew in the request.
      staleAnswers.maxAgeMs = 0;
      await new Promise((resolve) => setTimeout(resolve, 5));
      await w.assess();
      expect(await total()).toBe(7);
    } finally {
      Object.assign(staleAnswers, saved);
    }
  });

  it.skipIf(t.engine !== 'postgres')(
    'concurrent writers in one municipality never wait for each other’s version',
    async () => {
      const w = await world(t);
      const units = [
        w.unit,
        await createUnit(t, w.admin.token),
        await createUnit(t, w.admin.token),
      ];
      const before = await w.version();
      // Each transaction renames a unit (and so renews a version slot) and stays open until all
      // have: none may wait for another's slot (a lock timeout would fail it).
      let opened = 0;
      let release: () => void = () => {};
      const allOpen = new Promise<void>((resolve) => {
        release = resolve;
      });
      await Promise.all(
        units.map((unit, i) =>
          w.scoped(async (trx) => {
            await sql`SET LOCAL lock_timeout = '2s'`.execute(trx);
            await sql`UPDATE units SET name = ${`Enhed ${i}`} WHERE id = ${unit.id}`.execute(trx);
            opened += 1;
            if (opened === units.length) release();
            // Bounded: a writer that waited and failed must not leave the others open forever.
            await Promise.race([allOpen, new Promise((resolve) => setTimeout(resolve, 5000))]);
          }),
        ),
      );
      const after = await w.version();
      expect(after).not.toBe(before);
      // One slot per writer at most: three held at once.
      expect(after.split(',').length).toBeLessThanOrEqual(units.length + 1);
      expect(after.split(',').length).toBeGreaterThanOrEqual(units.length);
    },
  );

  it('the application role reads its own municipality’s version, never writes it', async () => {
    const w = await world(t);
    await w.assess();
    const other = await world(t);
    await other.assess();
    const mine = await w.scoped((trx) =>
      trx.selectFrom('analytics_versions').select('municipality_id').execute(),
    );
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((r) => r.municipality_id))).toEqual(new Set([w.municipality.id]));
    for (const statement of [
      sql`UPDATE analytics_versions SET token = gen_random_uuid()`,
      sql`DELETE FROM analytics_versions`,
      sql`INSERT INTO analytics_versions (municipality_id, slot, token)
          VALUES (${w.municipality.id}, 7, gen_random_uuid())`,
    ]) {
      await expect(w.scoped((trx) => statement.execute(trx))).rejects.toThrow(/permission denied/);
    }
  });
});
