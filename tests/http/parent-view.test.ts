import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import type { Scope } from '../../src/db/database.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import {
  assessmentBody,
  createChild,
  createKey,
  createScreeningTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem as problem } from '../support/problem.js';

/** A problem response of `status` whose type ends with `slug` (when given). */
function expectProblem(res: Parameters<typeof problem>[0], status: number, slug?: string) {
  const body = problem(res, status);
  if (slug) expect(body.type).toMatch(new RegExp(`${slug}$`));
  return body;
}

/**
 * The parent view (issue 18, point 2): a unit hands a parent a one-time link; the session it
 * opens sees that one child as shared with the parents, and nothing else — checked route by
 * route against another child's ids (the isolation matrix) and, underneath, in the database.
 * The test clock's today is 2026-11-22.
 */

const NOTE = 'Intern note: mor virkede presset ved afhentning';

/** The session id inside a parent token (`lnps_<32 hex>_<secret>`). */
const sessionIdOf = (token: string) =>
  token.slice(5, 37).replace(/^(.{8})(.{4})(.{4})(.{4})(.{12})$/, '$1-$2-$3-$4-$5');

async function setup(t: EngineContext) {
  t.clock.set('2026-11-22T09:00:00.000Z');
  const s = await createScreeningTenant(t);
  const staff = await createKey(t, s.municipality.id, 'unit_staff', { unitIds: [s.unit.id] });
  const leader = await createKey(t, s.municipality.id, 'unit_leader', { unitIds: [s.unit.id] });
  const newChild = (givenName: string) =>
    createChild(t, s.admin.token, { unitId: s.unit.id, enrolledFrom: '2024-01-01', givenName });
  const child = await newChild('Alma');
  const other = await newChild('Bertram');
  const assess = async (childId: string, fields: Record<string, unknown> = {}) => {
    const res = await t.call('POST', '/v1/assessments', {
      token: staff.token,
      body: assessmentBody({
        childId,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        parentsInformed: false,
        justification: NOTE,
        ...fields,
      }),
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; recommendation: { id: string; steps: { id: string }[] } };
  };
  const link = async (childId: string, token = staff.token) => {
    const res = await t.call('POST', `/v1/children/${childId}/parent-links`, {
      token,
      body: { unitId: s.unit.id, handedTo: 'mor' },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string; code: string; path: string; status: string };
  };
  const open = (code: string) =>
    t.call('POST', '/v1/parent-sessions', { token: null, body: { code } });
  const parentOf = async (childId: string) => {
    const res = await open((await link(childId)).code);
    expect(res.statusCode, res.body).toBe(201);
    return res.json().token as string;
  };
  const consent = async (childId: string) => {
    const res = await t.call('POST', `/v1/children/${childId}/consents`, {
      token: s.admin.token,
      body: {
        purpose: 'interdisciplinary_sharing',
        recipient: { role: 'unit_leader' },
        categories: ['assessments'],
        givenBy: { name: 'Mette Jensen', relation: 'parent' },
        givenOn: '2026-11-01',
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    return res.json() as { id: string };
  };
  return { ...s, staff, leader, child, other, assess, link, open, parentOf, consent };
}

describeEngines('parent view', (t) => {
  it('a link opens once, for an hour, and shows the child as shared with the parents', async () => {
    const s = await setup(t);
    const yellow = await s.assess(s.child.id, {
      assessedOn: '2026-11-20',
      rating: { overallLevel: 2 },
    });
    const given = await s.consent(s.child.id);
    const created = await s.link(s.child.id);
    expect(created.code).toMatch(/^lnpl_[0-9a-f]{32}_/);
    expect(created.path).toBe(`/parents/#${created.code}`);
    expect(created.status).toBe('active');

    const opened = await s.open(created.code);
    expect(opened.statusCode, opened.body).toBe(201);
    expect(opened.headers['cache-control']).toBe('no-store');
    const { token, expiresAt } = opened.json();
    expect(expiresAt).toBe('2026-11-22T10:00:00.000Z');
    // Once: the same code again, a wrong one, a malformed one — all the same 401.
    for (const code of [created.code, `${created.code.slice(0, -1)}A`, 'lnpl_nope']) {
      await expectProblem(await s.open(code), 401, 'unauthorized');
    }
    const listed = await t.call('GET', `/v1/children/${s.child.id}/parent-links`, {
      token: s.staff.token,
    });
    expect(listed.json().items).toEqual([
      expect.objectContaining({ id: created.id, status: 'used', handedTo: 'mor' }),
    ]);
    expect(listed.body).not.toContain(created.code);

    const get = (url: string) => t.call('GET', url, { token });
    const child = await get('/v1/parent/child');
    expect(child.statusCode, child.body).toBe(200);
    expect(child.json()).toEqual({
      givenName: 'Alma',
      birthDate: '2021-05-10',
      units: [{ id: s.unit.id, name: expect.any(String) }],
      sessionExpiresAt: '2026-11-22T10:00:00.000Z',
    });
    const assessments = (await get('/v1/parent/assessments')).json().items;
    expect(assessments).toEqual([
      expect.objectContaining({
        id: yellow.id,
        assessedOn: '2026-11-20',
        zone: 'yellow',
        level: 2,
        levelLabel: { da: expect.any(String), en: expect.any(String) },
        meaning: { da: expect.stringContaining('Gul'), en: expect.stringContaining('Yellow') },
      }),
    ]);
    // Only the steps that involve the parents; never a note.
    const steps = (await get('/v1/parent/steps')).json().items as {
      involve: string[];
      responsible: string;
    }[];
    expect(steps.length).toBeGreaterThan(0);
    for (const step of steps) {
      expect(step.involve.includes('parents') || step.responsible === 'parents').toBe(true);
    }
    const consents = (await get('/v1/parent/consents')).json().items;
    expect(consents).toEqual([
      expect.objectContaining({
        id: given.id,
        revokedAt: null,
        purpose: 'interdisciplinary_sharing',
      }),
    ]);
    for (const url of ['/v1/parent/child', '/v1/parent/assessments', '/v1/parent/steps']) {
      expect((await get(url)).body).not.toContain('Intern note');
    }

    // The parent revokes the consent: the unit sees it revoked at once.
    const revoked = await t.call('POST', `/v1/parent/consents/${given.id}/revoke`, {
      token,
      body: { revokedBy: { name: 'Mette Jensen', relation: 'parent' } },
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json().revokedAt).toBe('2026-11-22T09:00:00.000Z');
    const seen = await t.call('GET', `/v1/children/${s.child.id}/consents/${given.id}`, {
      token: s.admin.token,
    });
    expect(seen.json()).toMatchObject({
      status: 'revoked',
      revocation: { revokedBy: { name: 'Mette Jensen', relation: 'parent' } },
    });
    await expectProblem(
      await t.call('POST', `/v1/parent/consents/${given.id}/revoke`, {
        token,
        body: { revokedBy: { name: 'Mette Jensen', relation: 'parent' } },
      }),
      409,
      'consent-revoked',
    );

    // The access log: roles and units, no names; the parent's own uses too.
    const log = (await get('/v1/parent/access-log?limit=200')).json();
    const whos = log.items.map((e: { who: unknown; action: string; what: string }) => e);
    expect(whos).toContainEqual({
      at: expect.any(String),
      who: { kind: 'staff', role: 'unit_staff', units: [expect.any(String)] },
      action: 'create',
      what: 'assessment',
    });
    expect(whos).toContainEqual(
      expect.objectContaining({ who: { kind: 'staff', role: 'municipality_admin', units: null } }),
    );
    expect(whos).toContainEqual(
      expect.objectContaining({ who: { kind: 'parent' }, action: 'update', what: 'consent' }),
    );
    expect(JSON.stringify(log)).not.toContain(s.staff.id);
    // Only uses of the record and of what the view shows: no flags, concern reports, reports.
    for (const e of log.items as { what: string }[]) {
      expect(['flag', 'concern_report', 'self_report', 'social_worker_assignment']).not.toContain(
        e.what,
      );
    }

    // An hour later the session has ended.
    t.clock.set('2026-11-22T10:00:01.000Z');
    await expectProblem(await get('/v1/parent/child'), 401, 'unauthorized');
  });

  it("shows the child's own reports only where the child agreed to share them", async () => {
    const s = await setup(t);
    const older = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2024-01-01',
      givenName: 'Carl',
      birthDate: '2014-03-15',
    });
    const report = async (purpose: string, sharedWithParents: boolean) => {
      const res = await t.call('POST', '/v1/self-reports', {
        token: s.staff.token,
        body: {
          childId: older.id,
          unitId: s.unit.id,
          reportedOn: '2026-11-10',
          purpose,
          sharedWithParents,
          answers: {
            happy_at_school: 5,
            has_friends: 4,
            feels_safe: 4,
            adults_listen: 5,
            likes_myself: 4,
            good_at_home: 4,
          },
          presentAdult: { name: 'Anna Lærer', role: 'teacher' },
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as { id: string };
    };
    const shared = await report('dialogue', true);
    await report('dialogue', false);
    await report('support', false);
    const token = await s.parentOf(older.id);
    const res = await t.call('GET', '/v1/parent/self-reports', { token });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().items).toEqual([{ id: shared.id, reportedOn: '2026-11-10', zone: 'green' }]);
  });

  it("a consent the child gave itself is the child's to revoke, not the parents'", async () => {
    const s = await setup(t);
    const teen = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2024-01-01',
      givenName: 'Emil',
      birthDate: '2010-01-01',
    });
    const given = await t.call('POST', `/v1/children/${teen.id}/consents`, {
      token: s.admin.token,
      body: {
        purpose: 'interdisciplinary_sharing',
        recipient: { role: 'unit_leader' },
        categories: ['assessments'],
        givenBy: { name: 'Emil', relation: 'child' },
        givenOn: '2026-11-01',
      },
    });
    expect(given.statusCode, given.body).toBe(201);
    const token = await s.parentOf(teen.id);
    await expectProblem(
      await t.call('POST', `/v1/parent/consents/${given.json().id}/revoke`, {
        token,
        body: { revokedBy: { name: 'Mette Jensen', relation: 'parent' } },
      }),
      403,
    );
  });

  it('pages the access log', async () => {
    const s = await setup(t);
    await s.assess(s.child.id, { assessedOn: '2026-11-20' });
    const token = await s.parentOf(s.child.id);
    for (let i = 0; i < 4; i += 1) {
      await t.call('GET', `/v1/children/${s.child.id}`, { token: s.staff.token });
      await t.call('GET', '/v1/parent/child', { token });
    }
    const seen: string[] = [];
    const parentReads: unknown[] = [];
    let cursor: string | null = null;
    do {
      const res = await t.call(
        'GET',
        `/v1/parent/access-log?limit=2${cursor ? `&cursor=${cursor}` : ''}`,
        { token },
      );
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json();
      expect(page.items.length).toBeLessThanOrEqual(2);
      seen.push(...page.items.map((e: { at: string }) => e.at));
      parentReads.push(
        ...page.items.filter(
          (e: { who: { kind: string }; action: string }) =>
            e.who.kind === 'parent' && e.action === 'read',
        ),
      );
      cursor = page.nextCursor;
    } while (cursor && seen.length < 100);
    // The staff's four reads are listed; the parent's own reads of the view are not.
    expect(seen.length).toBeGreaterThanOrEqual(8);
    expect(parentReads).toEqual([]);
    expect([...seen].sort().reverse()).toEqual(seen);
    await expectProblem(
      await t.call('GET', '/v1/parent/access-log?cursor=bm9wZQ', { token }),
      400,
      'bad-request',
    );
  });

  it('revoking a link or signing out ends the session; expired links do not open', async () => {
    const s = await setup(t);
    const first = await s.link(s.child.id);
    const { token } = (await s.open(first.code)).json();
    expect((await t.call('GET', '/v1/parent/child', { token })).statusCode).toBe(200);
    const revoked = await t.call('POST', `/v1/parent-links/${first.id}/revoke`, {
      token: s.staff.token,
    });
    expect(revoked.statusCode, revoked.body).toBe(200);
    expect(revoked.json().status).toBe('revoked');
    await expectProblem(await t.call('GET', '/v1/parent/child', { token }), 401, 'unauthorized');
    await expectProblem(
      await t.call('POST', `/v1/parent-links/${first.id}/revoke`, { token: s.staff.token }),
      409,
      'link-revoked',
    );

    const second = await s.parentOf(s.child.id);
    const out = await t.call('POST', '/v1/parent/session/end', { token: second });
    expect(out.statusCode, out.body).toBe(204);
    await expectProblem(
      await t.call('GET', '/v1/parent/child', { token: second }),
      401,
      'unauthorized',
    );

    const unused = await t.call('POST', `/v1/children/${s.child.id}/parent-links`, {
      token: s.staff.token,
      body: { unitId: s.unit.id, validDays: 1 },
    });
    t.clock.set('2026-11-23T09:00:00.000Z');
    await expectProblem(await s.open(unused.json().code), 401, 'unauthorized');
  });

  it('links only for a child of the unit; never while a violence flag keeps parents uninformed', async () => {
    const s = await setup(t);
    const otherUnit = await createUnit(t, s.admin.token);
    const elsewhere = await createKey(t, s.municipality.id, 'unit_staff', {
      unitIds: [otherUnit.id],
    });
    await expectProblem(
      await t.call('POST', `/v1/children/${s.child.id}/parent-links`, {
        token: elsewhere.token,
        body: { unitId: s.unit.id },
      }),
      404,
    );
    const analyst = await createKey(t, s.municipality.id, 'analyst');
    await expectProblem(
      await t.call('POST', `/v1/children/${s.child.id}/parent-links`, {
        token: analyst.token,
        body: { unitId: s.unit.id },
      }),
      403,
    );

    // A session opened before the flag: from the flag on it sees nothing at all.
    await s.assess(s.child.id, { assessedOn: '2026-11-19', rating: { overallLevel: 1 } });
    const token = await s.parentOf(s.child.id);
    const handedOut = await s.link(s.child.id);
    await s.consent(s.child.id);
    const risky = await s.assess(s.child.id, {
      assessedOn: '2026-11-21',
      rating: { overallLevel: 3 },
      redFlags: ['violence'],
    });
    for (const url of [
      '/v1/parent/assessments',
      '/v1/parent/steps',
      '/v1/parent/consents',
      '/v1/parent/access-log',
    ]) {
      const res = await t.call('GET', url, { token });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().items, url).toEqual([]);
    }
    await expectProblem(
      await t.call('POST', `/v1/children/${s.child.id}/parent-links`, {
        token: s.staff.token,
        body: { unitId: s.unit.id },
      }),
      409,
      'parents-not-to-be-informed',
    );
    // Not even where the child is; and a link handed out before the flag opens nothing now.
    expect((await t.call('GET', '/v1/parent/child', { token })).json().units).toEqual([]);
    await expectProblem(await s.open(handedOut.code), 401, 'unauthorized');
    // Backdating the flag or staff telling the parents of a later assessment does not open it.
    await s.assess(s.child.id, {
      assessedOn: '2026-11-22',
      rating: { overallLevel: 1 },
      parentsInformed: true,
    });
    expect((await t.call('GET', '/v1/parent/assessments', { token })).json().items).toEqual([]);
    // A leader records the parents informed of the risky assessment: the view opens again.
    const notices = await t.call('GET', `/v1/parent-notices?childId=${s.child.id}`, {
      token: s.leader.token,
    });
    const notice = (notices.json().items as { id: string; assessmentId: string }[]).find(
      (n) => n.assessmentId === risky.id,
    );
    expect(notice).toBeDefined();
    const informed = await t.call('POST', `/v1/parent-notices/${notice?.id}/informed`, {
      token: s.leader.token,
      body: {
        informedOn: '2026-11-22',
        method: 'meeting',
        informedBy: { name: 'Bo Leder', role: 'unit_leader' },
      },
    });
    expect(informed.statusCode, informed.body).toBe(200);
    const after = await t.call('GET', '/v1/parent/assessments', { token });
    expect(after.json().items.map((a: { id: string }) => a.id)).toContain(risky.id);
    expect((await t.call('GET', '/v1/parent/child', { token })).json().units).toHaveLength(1);
  });

  it('the isolation matrix: a parent reaches no other child through any route', async () => {
    const s = await setup(t);
    await s.assess(s.child.id, { assessedOn: '2026-11-20', rating: { overallLevel: 2 } });
    const theirs = await s.assess(s.other.id, {
      assessedOn: '2026-11-20',
      rating: { overallLevel: 2 },
    });
    const theirConsent = await s.consent(s.other.id);
    const theirLink = await s.link(s.other.id);
    const notices = await t.call('GET', `/v1/parent-notices?childId=${s.other.id}`, {
      token: s.admin.token,
    });
    const theirNotice = notices.json().items[0].id as string;
    const token = await s.parentOf(s.child.id);

    const ids: Record<string, string> = {
      childId: s.other.id,
      assessmentId: theirs.id,
      recommendationId: theirs.recommendation.id,
      stepId: theirs.recommendation.steps[0]?.id ?? randomUUID(),
      consentId: theirConsent.id,
      noticeId: theirNotice,
      linkId: theirLink.id,
      municipalityId: s.municipality.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
    };
    const secrets = [s.other.id, theirs.id, theirConsent.id, theirNotice, theirLink.id, 'Bertram'];
    const spec = t.app.swagger() as { paths: Record<string, Record<string, unknown>> };
    let routes = 0;
    let parentRoutes = 0;
    for (const [path, operations] of Object.entries(spec.paths)) {
      if (!path.startsWith('/v1')) continue;
      for (const method of Object.keys(operations)) {
        if (!['get', 'post', 'put', 'patch', 'delete'].includes(method)) continue;
        // Signing out is tested on its own (it would end the session the matrix runs with).
        if (path === '/v1/parent/session/end') continue;
        const url = path.replace(/\{(\w+)\}/g, (_, name: string) => ids[name] ?? randomUUID());
        const res = await t.call(method.toUpperCase() as 'GET', url, {
          token,
          ...(method === 'get' || method === 'delete'
            ? {}
            : path === '/v1/parent-sessions'
              ? { body: { code: 'x' } }
              : { body: { revokedBy: { name: 'X', relation: 'parent' } } }),
        });
        routes += 1;
        // Nothing of the other child the request did not name itself (a problem may repeat the
        // caller's own URL).
        for (const secret of secrets.filter((x) => !url.includes(x))) {
          expect(res.body, `${method.toUpperCase()} ${url}`).not.toContain(secret);
        }
        if (path.startsWith('/v1/parent/')) {
          parentRoutes += 1;
          expect([200, 204, 404], `${method.toUpperCase()} ${url}: ${res.body}`).toContain(
            res.statusCode,
          );
        } else if (path === '/v1/parent-sessions') {
          expect(res.statusCode).toBe(401);
        } else {
          expect(res.statusCode, `${method.toUpperCase()} ${url}: ${res.body}`).toBe(403);
        }
      }
    }
    expect(routes).toBeGreaterThan(80);
    expect(parentRoutes).toBe(7);
    // A refused request naming the other child is recorded about the parent's own child.
    const refused = await t.call('POST', `/v1/parent/consents/${theirConsent.id}/revoke`, {
      token,
      body: { childId: s.other.id },
    });
    expect(refused.statusCode).toBe(400);
    const trail = await t.asOwner((db) =>
      db
        .selectFrom('audit_log')
        .select(['child_id', 'outcome'])
        .where('principal_id', '=', sessionIdOf(token))
        .where('outcome', '<>', 'success')
        .execute(),
    );
    expect(trail.length).toBeGreaterThan(0);
    expect(trail.filter((e) => e.child_id !== s.child.id)).toEqual([]);
    // The other child's consent is still in force.
    const theirNow = await t.call('GET', `/v1/children/${s.other.id}/consents/${theirConsent.id}`, {
      token: s.admin.token,
    });
    expect(theirNow.json().revocation).toBeNull();
  });

  it("underneath, the database shows a parent's transaction one child's rows only", async () => {
    const s = await setup(t);
    await s.assess(s.child.id, { assessedOn: '2026-11-20' });
    await s.assess(s.other.id, { assessedOn: '2026-11-20' });
    const token = await s.parentOf(s.child.id);
    const sessionId = sessionIdOf(token);
    const scope: Scope = { kind: 'parent', municipalityId: s.municipality.id, sessionId };
    const seen = await t.database.transaction(scope, async (trx) => {
      const count = async (table: string) =>
        Number(
          (
            await sql<{ n: number }>`SELECT count(*)::int AS n FROM ${sql.table(table)}`.execute(
              trx,
            )
          ).rows[0]?.n,
        );
      return {
        children: await count('children'),
        assessments: (
          await sql<{ child_id: string }>`SELECT DISTINCT child_id FROM assessments`.execute(trx)
        ).rows.map((r) => r.child_id),
      };
    });
    expect(seen).toEqual({ children: 1, assessments: [s.child.id] });
    // The role reads nothing the view does not show: keys, aggregates, flags, concern reports.
    for (const table of ['api_keys', 'zone_counts', 'flags', 'concern_reports', 'import_jobs']) {
      await expect(
        t.database.transaction(scope, (trx) =>
          sql`SELECT count(*) FROM ${sql.table(table)}`.execute(trx),
        ),
        table,
      ).rejects.toThrow(/permission denied/);
    }
    // Switching back to the service's role leaves it with nothing at all.
    const reset = await t.database.transaction(scope, async (trx) => {
      await sql`SET LOCAL ROLE lineal_app`.execute(trx);
      return (await sql<{ n: number }>`SELECT count(*)::int AS n FROM children`.execute(trx))
        .rows[0]?.n;
    });
    expect(reset).toBe(0);
    // No second scope inside it, and no writing another child's rows.
    await expect(
      t.database.transaction(scope, (trx) =>
        sql`SELECT lineal_enter_scope(${s.municipality.id}::uuid)`.execute(trx),
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(
      t.database.transaction(scope, async (trx) => {
        await sql`SET LOCAL ROLE lineal_app`.execute(trx);
        await sql`SELECT lineal_enter_scope(${s.municipality.id}::uuid)`.execute(trx);
      }),
    ).rejects.toThrow(/scope already/);
    await expect(
      t.database.transaction(scope, (trx) =>
        trx.updateTable('children').set({ given_name: 'X' }).where('id', '=', s.other.id).execute(),
      ),
    ).rejects.toThrow(/permission denied/);
    const theirs = await s.consent(s.other.id);
    await expect(
      t.database.transaction(scope, (trx) =>
        trx
          .updateTable('consents')
          .set({ revocation_reason: 'x' })
          .where('id', '=', theirs.id)
          .returning('id')
          .execute(),
      ),
    ).resolves.toEqual([]);
    // The next transaction on the same connection, in a municipality scope, sees both again.
    const both = await t.database.transaction(
      { kind: 'municipality', municipalityId: s.municipality.id },
      async (trx) =>
        (await sql<{ n: number }>`SELECT count(*)::int AS n FROM children`.execute(trx)).rows[0]?.n,
    );
    expect(both).toBeGreaterThanOrEqual(2);
    // A revoked session enters no scope.
    await t.call('POST', '/v1/parent/session/end', { token });
    await expect(t.database.transaction(scope, async () => 1)).rejects.toThrow(/revoked/);
    // The parent's uses are audited as the parent's.
    const audited = await t.asOwner((db) =>
      db
        .selectFrom('audit_log')
        .select(['principal_kind', 'role', 'resource_type', 'action'])
        .where('principal_id', '=', sessionId)
        .execute(),
    );
    expect(audited).toContainEqual({
      principal_kind: 'parent',
      role: 'parent',
      resource_type: 'parent_session',
      action: 'create',
    });
  });
});
