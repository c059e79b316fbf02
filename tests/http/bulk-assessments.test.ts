import type { FastifyInstance } from 'fastify';
import { sql } from 'kysely';
import { afterAll, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { municipalityScope } from '../../src/db/database.js';
import { BULK_CHUNK_SIZE, itemIdempotencyKey } from '../../src/request/bulk.js';
import { lockKeys } from '../../src/request/idempotency.js';
import { describeEngines, type EngineContext, TEST_CPR_SECRET } from '../support/engines.js';
import {
  assessmentBody,
  createChild,
  createKey,
  createRound,
  createScreeningTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const BULK = '/v1/assessments/bulk';

interface ItemResult {
  index: number;
  key?: string;
  outcome: 'created' | 'replayed' | 'failed';
  status: number;
  location?: string;
  assessment?: { id: string; childId: string; zone: string | null } & Record<string, unknown>;
  problem?: { type: string; status: number; errors?: { path: string; code?: string }[] };
}

function bulk(
  t: EngineContext,
  token: string,
  items: unknown[],
  headers: Record<string, string> = {},
) {
  return t.call('POST', BULK, { token, body: { items }, headers });
}

async function bulkOk(
  t: EngineContext,
  token: string,
  items: unknown[],
  headers: Record<string, string> = {},
) {
  const res = await bulk(t, token, items, headers);
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as {
    items: ItemResult[];
    counts: { created: number; replayed: number; failed: number };
  };
  return { res, ...body };
}

const summary = (items: ItemResult[]) =>
  items.map((i) => [i.index, i.outcome, i.status, i.problem?.type ?? i.assessment?.zone]);

/** A tenant with a kindergarten, the topi-3 ruler, a round (Oct-Nov 2026) and `n` children. */
async function classroom(t: EngineContext, n: number) {
  const s = await createScreeningTenant(t);
  const round = await createRound(t, s.admin.token, s.topi);
  const children = [];
  for (let i = 0; i < n; i++) {
    children.push(await createChild(t, s.admin.token, { unitId: s.unit.id }));
  }
  return { ...s, round, children };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DATETIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}/;

/** Ids numbered by first appearance and timestamps blanked: two worlds become comparable. */
function normalizer() {
  const ids = new Map<string, string>();
  const walk = (value: unknown): unknown => {
    if (typeof value === 'string') {
      if (UUID.test(value)) {
        if (!ids.has(value)) ids.set(value, `id#${ids.size}`);
        return ids.get(value);
      }
      return DATETIME.test(value) ? '<time>' : value;
    }
    if (Array.isArray(value)) return value.map(walk);
    if (value && typeof value === 'object') {
      return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, walk(v)]));
    }
    return value;
  };
  return walk;
}

async function auditRows(t: EngineContext, municipalityId: string) {
  return t.asOwner(async (db) => {
    const { rows } = await sql<Record<string, unknown>>`
      SELECT action, resource_type, resource_id, child_id, criteria, outcome, status_code,
        request_id
      FROM audit_log
      WHERE municipality_id = ${municipalityId} AND resource_type = 'assessment'
      ORDER BY id`.execute(db);
    return rows;
  });
}

async function assessmentCount(t: EngineContext, municipalityId: string): Promise<number> {
  return t.asOwner(async (db) => {
    const { rows } = await sql<{ n: number }>`
      SELECT count(*)::int AS n FROM assessments WHERE municipality_id = ${municipalityId}`.execute(
      db,
    );
    return rows[0]?.n ?? -1;
  });
}

describeEngines('bulk assessments', (t) => {
  it('answers every item on its own: good items are recorded, bad ones get their problem', async () => {
    const s = await classroom(t, 2);
    const [c1, c2] = s.children.map((c) => c.id) as [string, string];
    const unknownChild = crypto.randomUUID();
    const inRound = (childId: string) =>
      assessmentBody({ childId, unitId: s.unit.id, roundId: s.round.id });
    const { res, items, counts } = await bulkOk(t, s.admin.token, [
      { key: 'a-0', ...inRound(c1) },
      { ...inRound(c2), raters: [] },
      inRound(unknownChild),
      { ...inRound(c2), assessedOn: '2026-09-15' },
      inRound(c1),
      { key: 'a-5', ...inRound(c2), redFlags: ['violence'] },
    ]);
    expect(summary(items)).toEqual([
      [0, 'created', 201, 'green'],
      [1, 'failed', 400, 'urn:lineal:problem:validation-error'],
      [2, 'failed', 404, 'urn:lineal:problem:not-found'],
      [3, 'failed', 422, 'urn:lineal:problem:validation-failed'],
      [4, 'failed', 409, 'urn:lineal:problem:assessment-exists'],
      [5, 'created', 201, 'red'],
    ]);
    expect(counts).toEqual({ created: 2, replayed: 0, failed: 4 });
    expect(items.map((i) => i.key)).toEqual([
      'a-0',
      undefined,
      undefined,
      undefined,
      undefined,
      'a-5',
    ]);
    // Field paths name the item.
    expect(items[1]?.problem?.errors).toEqual([
      { path: 'body.items.1.raters', message: expect.any(String), code: 'too_small' },
    ]);
    expect(items[3]?.problem?.errors?.map((e) => e.path)).toEqual(['body.items.3.assessedOn']);
    const first = items[0]?.assessment;
    expect(items[0]?.location).toBe(`/v1/assessments/${first?.id}`);
    expect(first).toMatchObject({ childId: c1, roundId: s.round.id, zone: 'green', version: 1 });
    expect(items[5]?.assessment).toMatchObject({
      childId: c2,
      zone: 'red',
      explanation: { outcome: 'red_flag', redFlags: ['violence'] },
    });
    expect(items[1]?.problem).toMatchObject({
      status: 400,
      instance: BULK,
      requestId: res.headers['x-request-id'],
    });
    // Exactly the two good items were written, and are readable as single ones are.
    expect(await assessmentCount(t, s.municipality.id)).toBe(2);
    const fetched = await t.call('GET', `/v1/assessments/${first?.id}`, { token: s.admin.token });
    const { recommendation: _, ...plain } = first as Record<string, unknown>;
    expect(fetched.json()).toEqual(plain);

    // One audit entry per item, in the request's name: the two created, the four refused with
    // the outcome and status their single requests would have been recorded with.
    const audit = (await auditRows(t, s.municipality.id)).filter(
      (r) => r.request_id === res.headers['x-request-id'],
    );
    const view = audit.map((r) => [r.action, r.outcome, r.status_code, r.resource_id, r.child_id]);
    expect(view).toEqual(
      expect.arrayContaining([
        ['create', 'success', null, first?.id, c1],
        ['create', 'success', null, items[5]?.assessment?.id, c2],
        ['create', 'invalid', 400, null, c2],
        ['create', 'not_found', 404, null, unknownChild],
        ['create', 'invalid', 422, null, c2],
        ['create', 'conflict', 409, null, c1],
      ]),
    );
    expect(audit).toHaveLength(6);
  });

  it('records exactly what single submissions record: assessments, recommendations, steps, flags, events, audit', async () => {
    // The same history in two municipalities: one submitted one by one, one in one request.
    const items = (w: Awaited<ReturnType<typeof classroom>>) => {
      const [a, b, c, d] = w.children.map((x) => x.id) as [string, string, string, string];
      const base = { unitId: w.unit.id };
      return [
        // Without a round, then the same child in the round, worse: zone changed, got worse.
        assessmentBody({ ...base, childId: a, rulerVersionId: w.topi, assessedOn: '2026-09-01' }),
        assessmentBody({
          ...base,
          childId: a,
          roundId: w.round.id,
          rating: { overallLevel: 2 },
          parentsInformed: false,
        }),
        assessmentBody({ ...base, childId: b, roundId: w.round.id, redFlags: ['violence'] }),
        assessmentBody({
          ...base,
          childId: c,
          roundId: w.round.id,
          rating: { overallLevel: 3, answers: { social_skills: 3 } },
          justification: 'Trækker sig.',
          childPerspective: 'Jeg vil hjem.',
        }),
        assessmentBody({ ...base, childId: d, roundId: w.round.id }),
      ];
    };
    const single = await classroom(t, 4);
    const singles = [];
    for (const body of items(single)) {
      const res = await t.call('POST', '/v1/assessments', { token: single.admin.token, body });
      expect(res.statusCode, res.body).toBe(201);
      singles.push(res.json());
    }
    const together = await classroom(t, 4);
    const { items: results } = await bulkOk(t, together.admin.token, items(together));
    expect(results.map((r) => r.outcome)).toEqual(Array(5).fill('created'));
    expect(singles.map((a) => a.zone)).toEqual(['green', 'yellow', 'red', 'red', 'green']);

    // One numbering of ids per municipality, first from the responses (same order in both).
    const [ofSingle, ofBulk] = [normalizer(), normalizer()];
    // Responses: the assessments with their recommendations, steps and flags.
    expect(ofBulk(results.map((r) => r.assessment))).toEqual(ofSingle(singles));
    expect(singles[1].recommendation.flags.length).toBeGreaterThan(0);
    expect(singles[2].recommendation.steps.length).toBeGreaterThan(0);

    // Events, in feed order.
    const events = async (token: string) => {
      const res = await t.call('GET', '/v1/events?limit=500', { token });
      expect(res.statusCode, res.body).toBe(200);
      return res.json().items.map(({ id: _, ...e }: Record<string, unknown>) => e);
    };
    const singleEvents = await events(single.admin.token);
    expect(singleEvents.length).toBeGreaterThanOrEqual(5);
    expect(ofBulk(await events(together.admin.token))).toEqual(ofSingle(singleEvents));

    // Stored steps and flags (as sets: rows written in one transaction share their times).
    const stored = async (municipalityId: string, normalize: (v: unknown) => unknown) => {
      const rows = await t.asOwner(async (db) => [
        ...(
          await sql`SELECT 'step' AS row, recommendation_id, child_id, zone, step_key, status,
              due_on::text AS due_on, mandatory, position, purpose
            FROM recommendation_steps WHERE municipality_id = ${municipalityId}`.execute(db)
        ).rows,
        ...(
          await sql`SELECT 'flag' AS row, kind, reason, child_id, assessment_id, acknowledged_at
            FROM flags WHERE municipality_id = ${municipalityId}`.execute(db)
        ).rows,
      ]);
      return rows.map((r) => JSON.stringify(normalize(r))).sort();
    };
    const singleStored = await stored(single.municipality.id, ofSingle);
    expect(singleStored.filter((r) => r.includes('"row":"step"')).length).toBeGreaterThan(5);
    expect(singleStored.filter((r) => r.includes('"row":"flag"')).length).toBeGreaterThan(0);
    expect(await stored(together.municipality.id, ofBulk)).toEqual(singleStored);

    // Audit entries, in order (all but the request ids: five requests there, one here).
    const audit = async (municipalityId: string) =>
      (await auditRows(t, municipalityId)).map(({ request_id: _, ...r }) => r);
    const singleAudit = await audit(single.municipality.id);
    expect(singleAudit).toHaveLength(5);
    expect(ofBulk(await audit(together.municipality.id))).toEqual(ofSingle(singleAudit));
  });

  it('makes each item idempotent on its own key: replayed, or refused when the item differs', async () => {
    const s = await classroom(t, 3);
    const [c1, c2, c3] = s.children.map((c) => c.id) as [string, string, string];
    const item = (childId: string, key?: string) => ({
      ...(key ? { key } : {}),
      ...assessmentBody({ childId, unitId: s.unit.id, roundId: s.round.id }),
    });
    const headers = { 'idempotency-key': 'sync-2026-11-22' };
    const first = await bulkOk(t, s.admin.token, [item(c1, 'k1'), item(c2, 'k2')], headers);
    expect(first.counts).toEqual({ created: 2, replayed: 0, failed: 0 });

    // The same request again: both replayed, nothing written twice.
    const again = await bulkOk(t, s.admin.token, [item(c1, 'k1'), item(c2, 'k2')], headers);
    expect(summary(again.items)).toEqual([
      [0, 'replayed', 200, 'green'],
      [1, 'replayed', 200, 'green'],
    ]);
    expect(again.items.map((i) => i.assessment)).toEqual(first.items.map((i) => i.assessment));
    expect(again.items.map((i) => i.location)).toEqual(first.items.map((i) => i.location));
    expect(await assessmentCount(t, s.municipality.id)).toBe(2);
    // A replay hands out the stored assessment again: audited as a read.
    const reads = (await auditRows(t, s.municipality.id)).filter(
      (r) => r.request_id === again.res.headers['x-request-id'],
    );
    expect(reads.map((r) => [r.action, r.resource_id, r.child_id, r.criteria])).toEqual([
      ['read', first.items[0]?.assessment?.id, c1, { idempotentReplay: true }],
      ['read', first.items[1]?.assessment?.id, c2, { idempotentReplay: true }],
    ]);

    // k1 with another item is refused; k2 replays; a new key k3 (in another order) is recorded.
    const changed = { ...item(c1, 'k1'), rating: { overallLevel: 2 } };
    const mixed = await bulkOk(
      t,
      s.admin.token,
      [item(c3, 'k3'), changed, item(c2, 'k2')],
      headers,
    );
    expect(summary(mixed.items)).toEqual([
      [0, 'created', 201, 'green'],
      [1, 'failed', 422, 'urn:lineal:problem:idempotency-key-reused'],
      [2, 'replayed', 200, 'green'],
    ]);
    expect(await assessmentCount(t, s.municipality.id)).toBe(3);

    // Keys are scoped to the Idempotency-Key they came with: under another one, k1 is new (and
    // then refused by the round's one-assessment rule, as a single request would be).
    const other = await bulkOk(t, s.admin.token, [item(c1, 'k1')], { 'idempotency-key': 'x' });
    expect(summary(other.items)).toEqual([
      [0, 'failed', 409, 'urn:lineal:problem:assessment-exists'],
    ]);

    // Without item keys, the Idempotency-Key alone keys the items by position.
    const w = await classroom(t, 2);
    const positional = [0, 1].map((i) =>
      assessmentBody({
        childId: w.children[i]?.id as string,
        unitId: w.unit.id,
        rulerVersionId: w.topi,
      }),
    );
    const h = { 'idempotency-key': 'positional' };
    expect((await bulkOk(t, w.admin.token, positional, h)).counts.created).toBe(2);
    expect((await bulkOk(t, w.admin.token, positional, h)).counts.replayed).toBe(2);
    const swapped = await bulkOk(t, w.admin.token, [...positional].reverse(), h);
    expect(summary(swapped.items).map((r) => r[3])).toEqual([
      'urn:lineal:problem:idempotency-key-reused',
      'urn:lineal:problem:idempotency-key-reused',
    ]);
    expect(await assessmentCount(t, w.municipality.id)).toBe(2);
  });

  it('replays an item whose key an earlier item of the same request used; 409 while held', async () => {
    const s = await classroom(t, 2);
    const [c1, c2] = s.children.map((c) => c.id) as [string, string];
    const item = (childId: string, key: string, level = 1) => ({
      key,
      ...assessmentBody({ childId, unitId: s.unit.id, roundId: s.round.id }),
      rating: { overallLevel: level },
    });
    const same = await bulkOk(t, s.admin.token, [
      item(c1, 'twice'),
      item(c1, 'twice'),
      item(c2, 'other'),
      item(c2, 'other', 2),
    ]);
    expect(summary(same.items)).toEqual([
      [0, 'created', 201, 'green'],
      [1, 'replayed', 200, 'green'],
      [2, 'created', 201, 'green'],
      [3, 'failed', 422, 'urn:lineal:problem:idempotency-key-reused'],
    ]);
    expect(same.items[1]?.assessment).toEqual(same.items[0]?.assessment);
    expect(await assessmentCount(t, s.municipality.id)).toBe(2);
    const stored = await t.asOwner(async (db) => {
      const { rows } = await sql<{ n: number }>`
        SELECT count(*)::int AS n FROM idempotency_keys WHERE principal_id = ${s.admin.id}
      `.execute(db);
      return rows[0]?.n;
    });
    expect(stored).toBe(2);
    if (t.engine !== 'postgres') return; // PGlite has one connection: no concurrent holder.
    // Another transaction holds an item's key (its request is running): that item is 409.
    const key = itemIdempotencyKey(undefined, 'held', 0);
    const w = await classroom(t, 2);
    let release: () => void = () => {};
    const released = new Promise<void>((resolve) => {
      release = resolve;
    });
    let locked: () => void = () => {};
    const isLocked = new Promise<void>((resolve) => {
      locked = resolve;
    });
    const holder = t.database.transaction(municipalityScope(w.municipality.id), async (trx) => {
      await lockKeys(trx, w.admin.id, [key as string]);
      locked();
      await released;
    });
    await isLocked;
    const busy = await bulkOk(t, w.admin.token, [
      {
        key: 'held',
        ...assessmentBody({
          childId: w.children[0]?.id as string,
          unitId: w.unit.id,
          roundId: undefined,
          rulerVersionId: w.topi,
        }),
      },
      {
        key: 'free',
        ...assessmentBody({
          childId: w.children[1]?.id as string,
          unitId: w.unit.id,
          roundId: undefined,
          rulerVersionId: w.topi,
        }),
      },
    ]);
    release();
    await holder;
    expect(summary(busy.items)).toEqual([
      [0, 'failed', 409, 'urn:lineal:problem:idempotency-in-progress'],
      [1, 'created', 201, 'green'],
    ]);
  });

  it('refuses more than 300 items (413) and an empty list (400), recording nothing', async () => {
    const s = await classroom(t, 1);
    const item = assessmentBody({
      childId: s.children[0]?.id as string,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
    });
    const tooMany = await bulk(t, s.admin.token, Array(301).fill(item));
    expect(expectProblem(tooMany, 413).type).toBe('urn:lineal:problem:too-many-items');
    expectProblem(await bulk(t, s.admin.token, []), 400);
    expect(await assessmentCount(t, s.municipality.id)).toBe(0);
    // 300 is allowed (and far over the 64 KiB the single route may take here).
    const full = await bulkOk(t, s.admin.token, Array(300).fill(item));
    expect(full.counts).toEqual({ created: 300, replayed: 0, failed: 0 });
    expect(await assessmentCount(t, s.municipality.id)).toBe(300);
    // The bulk body limit is 8 × BODY_LIMIT_BYTES (here 8 × 64 KiB).
    const justification = 'x'.repeat(4000);
    const huge = await bulk(t, s.admin.token, Array(150).fill({ ...item, justification }));
    expect(expectProblem(huge, 413).type).toBe('urn:lineal:problem:payload-too-large');
    expect(await assessmentCount(t, s.municipality.id)).toBe(300);
  });

  it('applies the single request rules of a unit-limited key to each item', async () => {
    const s = await classroom(t, 1);
    const otherUnit = await createUnit(t, s.admin.token);
    const elsewhere = await createChild(t, s.admin.token, { unitId: otherUnit.id });
    const staff = await createKey(t, s.municipality.id, 'unit_staff', { unitIds: [s.unit.id] });
    const own = s.children[0]?.id as string;
    const bodies = [
      assessmentBody({ childId: own, unitId: s.unit.id, rulerVersionId: s.topi }),
      assessmentBody({ childId: elsewhere.id, unitId: otherUnit.id, rulerVersionId: s.topi }),
      assessmentBody({ childId: own, unitId: otherUnit.id, rulerVersionId: s.topi }),
    ];
    const { items } = await bulkOk(t, staff.token, bodies);
    expect(items.map((i) => i.status)).toEqual([201, 404, 403]);
    for (const [index, body] of bodies.entries()) {
      const single = await t.call('POST', '/v1/assessments', { token: staff.token, body });
      expect(single.statusCode).toBe(items[index]?.status);
      if (single.statusCode >= 400) expect(single.json().type).toBe(items[index]?.problem?.type);
    }
  });

  it('runs the same statements again and again (generic plans on PostgreSQL): 7 requests', async () => {
    const s = await classroom(t, 3);
    const levels = [1, 2, 3];
    for (let run = 0; run < 7; run++) {
      const items = s.children.map((c, i) =>
        assessmentBody({
          childId: c.id,
          unitId: s.unit.id,
          rulerVersionId: s.topi,
          assessedOn: `2026-10-${String(run + 10)}`,
          rating: { overallLevel: levels[(i + run) % 3] },
          key: `run-${run}-${i}`,
        }),
      );
      const { items: results } = await bulkOk(t, s.admin.token, items);
      expect(results.map((r) => r.assessment?.zone)).toEqual(
        s.children.map((_, i) => ['green', 'yellow', 'red'][(i + run) % 3]),
      );
    }
    expect(await assessmentCount(t, s.municipality.id)).toBe(21);
  });

  it('rolls back only the item whose write fails half-way (a lost serialization race)', async () => {
    const s = await classroom(t, 3);
    const [c1, c2, c3] = s.children.map((c) => c.id) as [string, string, string];
    // The item's assessment is written, then its recommendation fails (SQLSTATE 40001).
    await t.asOwner(async (db) => {
      await sql
        .raw(`CREATE FUNCTION test_bulk_race() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.child_id = '${c2}' THEN
              RAISE EXCEPTION 'could not serialize access' USING ERRCODE = '40001';
            END IF;
            RETURN NEW;
          END $$`)
        .execute(db);
      await sql`CREATE TRIGGER test_bulk_race BEFORE INSERT ON recommendations
        FOR EACH ROW EXECUTE FUNCTION test_bulk_race()`.execute(db);
    });
    try {
      const { items } = await bulkOk(
        t,
        s.admin.token,
        [c1, c2, c3].map((childId, i) => ({
          key: `race-${i}`,
          ...assessmentBody({ childId, unitId: s.unit.id, roundId: s.round.id }),
        })),
      );
      expect(summary(items)).toEqual([
        [0, 'created', 201, 'green'],
        [1, 'failed', 409, 'urn:lineal:problem:concurrent-write'],
        [2, 'created', 201, 'green'],
      ]);
    } finally {
      await t.asOwner(async (db) => {
        await sql`DROP TRIGGER test_bulk_race ON recommendations`.execute(db);
        await sql`DROP FUNCTION test_bulk_race()`.execute(db);
      });
    }
    // Nothing of the failed item remains: no assessment, and its key holds nothing, so it is
    // recorded when sent again.
    const rows = await t.asOwner(
      async (db) =>
        (
          await sql<{ child_id: string }>`SELECT child_id FROM assessments
            WHERE municipality_id = ${s.municipality.id} ORDER BY child_id`.execute(db)
        ).rows,
    );
    expect(rows.map((r) => r.child_id)).toEqual([c1, c3].sort());
    const again = await bulkOk(t, s.admin.token, [
      { key: 'race-1', ...assessmentBody({ childId: c2, unitId: s.unit.id, roundId: s.round.id }) },
    ]);
    expect(summary(again.items)).toEqual([[0, 'created', 201, 'green']]);
  });

  it('answers 503 when the database fails mid-request; the committed chunk replays on retry', async () => {
    const n = BULK_CHUNK_SIZE + 3;
    const s = await classroom(t, n);
    const items = s.children.map((c, i) => ({
      key: `child-${i}`,
      ...assessmentBody({ childId: c.id, unitId: s.unit.id, rulerVersionId: s.topi }),
    }));
    const failing = s.children[BULK_CHUNK_SIZE + 1]?.id as string;
    // The database "goes away" (SQLSTATE 08006) as the second chunk's second item is written.
    await t.asOwner(async (db) => {
      await sql
        .raw(`CREATE FUNCTION test_bulk_connection_lost() RETURNS trigger LANGUAGE plpgsql AS $$
          BEGIN
            IF NEW.child_id = '${failing}' THEN
              RAISE EXCEPTION 'connection lost' USING ERRCODE = '08006';
            END IF;
            RETURN NEW;
          END $$`)
        .execute(db);
      await sql`CREATE TRIGGER test_bulk_connection_lost BEFORE INSERT ON assessments
        FOR EACH ROW EXECUTE FUNCTION test_bulk_connection_lost()`.execute(db);
    });
    const headers = { 'idempotency-key': 'nightly' };
    try {
      const failed = await bulk(t, s.admin.token, items, headers);
      expect(expectProblem(failed, 503).type).toBe('urn:lineal:problem:database-unavailable');
      // The first chunk was committed; nothing of the second.
      expect(await assessmentCount(t, s.municipality.id)).toBe(BULK_CHUNK_SIZE);
    } finally {
      await t.asOwner(async (db) => {
        await sql`DROP TRIGGER test_bulk_connection_lost ON assessments`.execute(db);
        await sql`DROP FUNCTION test_bulk_connection_lost()`.execute(db);
      });
    }
    const retry = await bulkOk(t, s.admin.token, items, headers);
    expect(retry.counts).toEqual({ created: 3, replayed: BULK_CHUNK_SIZE, failed: 0 });
    expect(retry.items.map((i) => i.outcome)).toEqual([
      ...Array(BULK_CHUNK_SIZE).fill('replayed'),
      'created',
      'created',
      'created',
    ]);
    expect(await assessmentCount(t, s.municipality.id)).toBe(n);
  });

  describeRateLimit(t);
});

/** A bulk request counts as its items against the caller's rate limit. */
function describeRateLimit(t: EngineContext) {
  const apps: FastifyInstance[] = [];
  afterAll(async () => {
    for (const app of apps) await app.close();
  });

  it('counts a bulk request as its item count, and refuses one that does not fit whole', async () => {
    const s = await classroom(t, 3);
    const key = await createKey(t, s.municipality.id, 'integration');
    const app = await buildApp({
      config: {
        bodyLimitBytes: 64 * 1024,
        trustProxy: false,
        rateLimit: { max: 10, windowMs: 60_000 },
      },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      now: t.clock.now,
    });
    apps.push(app);
    const post = (items: unknown[]) =>
      app.inject({
        method: 'POST',
        url: BULK,
        headers: { authorization: `Bearer ${key.token}` },
        payload: { items },
      });
    const item = (i: number) =>
      assessmentBody({
        childId: s.children[i % 3]?.id as string,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
      });
    const eight = await post(Array.from({ length: 8 }, (_, i) => item(i)));
    expect(eight.statusCode, eight.body).toBe(200);
    expect(eight.headers['ratelimit-remaining']).toBe('2');
    // 8 used: three more do not fit in 10, so none of them is recorded.
    const three = await post([item(0), item(1), item(2)]);
    expect(expectProblem(three, 429).type).toBe('urn:lineal:problem:too-many-requests');
    expect(Number(three.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(await assessmentCount(t, s.municipality.id)).toBe(8);
    // The refused request counted once (9 of 10): one more item still fits.
    const one = await post([item(0)]);
    expect(one.statusCode, one.body).toBe(200);
    expect(await assessmentCount(t, s.municipality.id)).toBe(9);
  });
}
