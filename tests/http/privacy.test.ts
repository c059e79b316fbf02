import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import { runRetention } from '../../src/jobs/retention.js';
import { describeEngines, type EngineContext } from '../support/engines.js';
import { createChild, createKey, createScreeningTenant, createUnit } from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const raters = [
  { name: 'Anna', role: 'unit_staff' },
  { name: 'Bo', role: 'unit_leader' },
];

interface AuditRow {
  action: string;
  resource_type: string;
  resource_id: string | null;
  child_id: string | null;
  child_tombstone: string | null;
  outcome: string;
  principal_id: string;
  request_id: string;
}

const auditRows = (t: EngineContext, municipalityId: string) =>
  t.asOwner((db) =>
    sql<AuditRow>`SELECT * FROM audit_log WHERE municipality_id = ${municipalityId} ORDER BY id`
      .execute(db)
      .then((r) => r.rows),
  );

let scenarios = 0;

/**
 * A child with personal data, used in every way a unit works with it: the calls made and the
 * audit entries each must produce (action, resource type, child).
 */
async function scenario(t: EngineContext) {
  const s = await createScreeningTenant(t);
  const staff = await createKey(t, s.municipality.id, 'unit_staff', {
    token: s.admin.token,
    unitIds: [s.unit.id],
  });
  const analyst = await createKey(t, s.municipality.id, 'analyst', { token: s.admin.token });
  // Unique per scenario: the tests of this file share one database.
  const tag = (++scenarios).toString(36);
  const person = {
    givenName: `Sigrid${tag}x`,
    familyName: `Østergaard-Quist${tag}y`,
    birthDate: '2021-03-14',
    cpr: '140321-4987',
  };
  const expected: [string, string, 'child' | null][] = [];
  const call = async (
    token: string,
    method: 'GET' | 'POST' | 'PATCH',
    url: string,
    audited: [string, string, 'child' | null],
    body?: unknown,
    status = 200,
  ) => {
    const res = await t.call(method, url, { token, body });
    expect(res.statusCode, `${method} ${url}: ${res.body}`).toBe(status);
    expected.push(audited);
    return res;
  };
  const created = await call(
    staff.token,
    'POST',
    '/v1/children',
    ['create', 'child', 'child'],
    {
      externalRef: 'privacy-child',
      ...person,
      sex: 'female',
      enrolment: { unitId: s.unit.id, startDate: '2024-08-01' },
    },
    201,
  );
  const child = created.json();
  await call(staff.token, 'GET', `/v1/children/${child.id}`, ['read', 'child', 'child']);
  await call(staff.token, 'PATCH', `/v1/children/${child.id}`, ['update', 'child', 'child'], {
    givenName: person.givenName,
  });
  await call(staff.token, 'GET', `/v1/children?q=${person.givenName}`, ['search', 'child', null]);
  await call(staff.token, 'GET', `/v1/children/${child.id}/enrolments`, [
    'read',
    'enrolment',
    'child',
  ]);
  const assessment = (
    await call(
      staff.token,
      'POST',
      '/v1/assessments',
      ['create', 'assessment', 'child'],
      {
        childId: child.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-02',
        raters,
        rating: { overallLevel: 3 },
        justification: 'Trækker sig fra legen.',
        parentsInformed: true,
      },
      201,
    )
  ).json();
  await call(staff.token, 'GET', `/v1/assessments/${assessment.id}`, [
    'read',
    'assessment',
    'child',
  ]);
  await call(staff.token, 'GET', `/v1/children/${child.id}/timeline`, [
    'read',
    'assessment',
    'child',
  ]);
  const corrected = (
    await call(
      staff.token,
      'POST',
      `/v1/assessments/${assessment.id}/corrections`,
      ['update', 'assessment', 'child'],
      {
        reason: 'Forkert dato.',
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-03',
        raters,
        rating: { overallLevel: 3 },
        parentsInformed: true,
      },
      201,
    )
  ).json();
  await call(staff.token, 'GET', `/v1/assessments/${corrected.id}/recommendation`, [
    'read',
    'recommendation',
    'child',
  ]);
  const step = corrected.recommendation.steps.find(
    (st: { purpose: string }) => st.purpose !== 'concern_report',
  );
  await call(staff.token, 'PATCH', `/v1/steps/${step.id}`, ['update', 'step', 'child'], {
    status: 'done',
  });
  await call(staff.token, 'GET', '/v1/worklist', ['search', 'step', null]);
  await call(
    staff.token,
    'POST',
    `/v1/children/${child.id}/concern-reports`,
    ['create', 'concern_report', 'child'],
    { reportedOn: '2026-11-04', reportedBy: { name: 'Leder', role: 'unit_leader' } },
    201,
  );
  await call(staff.token, 'GET', `/v1/children/${child.id}/concern-reports`, [
    'read',
    'concern_report',
    'child',
  ]);
  await call(analyst.token, 'GET', '/v1/exports/assessments.csv', ['export', 'export', null]);
  // Failed uses are recorded with their outcome, and with the child the path leads to.
  await call(
    analyst.token,
    'GET',
    `/v1/assessments/${assessment.id}`,
    ['read', 'assessment', 'child'],
    undefined,
    403,
  );
  await call(
    staff.token,
    'GET',
    `/v1/children/${child.id}/enrolments/00000000-0000-4000-8000-000000000000`,
    ['read', 'enrolment', 'child'],
    undefined,
    404,
  );
  return { ...s, staff, analyst, person, child, assessment, corrected, expected };
}

describeEngines('privacy and accountability', (t) => {
  it('audits every use of child data exactly once, with the child and the action', async () => {
    const f = await scenario(t);
    const rows = await auditRows(t, f.municipality.id);
    expect(rows.map((r) => [r.action, r.resource_type, r.child_id ? 'child' : null])).toEqual(
      f.expected,
    );
    for (const row of rows.filter((r) => r.child_id)) expect(row.child_id).toBe(f.child.id);
    expect(rows.slice(-2).map((r) => r.outcome)).toEqual(['denied', 'not_found']);
    expect(rows.slice(0, -2).every((r) => r.outcome === 'success')).toBe(true);
    // Each entry names its request: distinct ids, one per call.
    expect(new Set(rows.map((r) => r.request_id)).size).toBe(rows.length);
    // The search is recorded by its criteria, the name searched for only as given.
    const search = await t.asOwner((db) =>
      sql<{ criteria: unknown }>`SELECT criteria FROM audit_log
        WHERE municipality_id = ${f.municipality.id} AND action = 'search' AND resource_type = 'child'`
        .execute(db)
        .then((r) => r.rows),
    );
    expect(JSON.stringify(search)).not.toContain(f.person.givenName);
    expect(search[0]?.criteria).toMatchObject({ q: '[given]' });

    // The administrator's query endpoint, filtered by child and action.
    const page = await t.call('GET', `/v1/audit-log?childId=${f.child.id}&action=update&limit=10`, {
      token: f.admin.token,
    });
    expect(page.statusCode, page.body).toBe(200);
    expect(
      page
        .json()
        .items.map((e: { resourceType: string }) => e.resourceType)
        .sort(),
    ).toEqual(['assessment', 'child', 'step']);
    expectProblem(await t.call('GET', '/v1/audit-log', { token: f.staff.token }), 403);
    expectProblem(await t.call('GET', '/v1/audit-log', { token: f.analyst.token }), 403);
  });

  it('the audit log is append-only: the application role can neither update nor delete', async () => {
    const f = await scenario(t);
    const scope = municipalityScope(f.municipality.id);
    await expect(
      t.database.transaction(scope, (trx) =>
        trx.updateTable('audit_log').set({ outcome: 'error' }).execute(),
      ),
    ).rejects.toThrow();
    await expect(
      t.database.transaction(scope, (trx) => trx.deleteFrom('audit_log').execute()),
    ).rejects.toThrow();
    // Not even the owner, by mistake: the trigger refuses.
    await expect(
      t.asOwner((db) => sql`UPDATE audit_log SET outcome = 'error'`.execute(db)),
    ).rejects.toThrow(/append-only/);
    await expect(t.asOwner((db) => sql`DELETE FROM audit_log`.execute(db))).rejects.toThrow(
      /append-only/,
    );
    expect((await auditRows(t, f.municipality.id)).length).toBe(f.expected.length);
  });

  it('the dossier holds everything stored about the child, and its own reading', async () => {
    const f = await scenario(t);
    const res = await t.call('GET', `/v1/children/${f.child.id}/dossier`, {
      token: f.admin.token,
    });
    expect(res.statusCode, res.body).toBe(200);
    const d = res.json();
    expect(d.child).toMatchObject({
      id: f.child.id,
      givenName: f.person.givenName,
      familyName: f.person.familyName,
      birthDate: f.person.birthDate,
      hasCpr: true,
    });
    for (const form of ['140321-4987', '1403214987']) expect(JSON.stringify(d)).not.toContain(form);
    expect(d.enrolments).toHaveLength(1);
    expect(d.assessments.map((a: { id: string }) => a.id).sort()).toEqual(
      [f.assessment.id, f.corrected.id].sort(),
    );
    expect(d.recommendations).toHaveLength(2);
    expect(d.steps.length).toBeGreaterThan(0);
    expect(d.concernReports).toHaveLength(1);
    const stored = await t.asOwner((db) =>
      sql<{ flags: number; steps: number }>`SELECT
          (SELECT count(*)::int FROM flags WHERE child_id = ${f.child.id}) AS flags,
          (SELECT count(*)::int FROM recommendation_steps WHERE child_id = ${f.child.id}) AS steps`
        .execute(db)
        .then((r) => r.rows[0]),
    );
    expect({ flags: d.flags.length, steps: d.steps.length }).toEqual(stored);
    expect(d.consents).toEqual([]);
    // Every audited use about the child, the dossier read itself last.
    const aboutChild = f.expected.filter((e) => e[2] === 'child').length;
    expect(d.auditEntries).toHaveLength(aboutChild + 1);
    expect(d.auditEntries.at(-1)).toMatchObject({ action: 'read', resourceType: 'dossier' });
    expectProblem(
      await t.call('GET', `/v1/children/${f.child.id}/dossier`, { token: f.staff.token }),
      403,
    );
  });

  it('erasure leaves no personal data anywhere, and the audit trail under a tombstone', async () => {
    const f = await scenario(t);
    const cprHash = await t.asOwner((db) =>
      sql<{ h: string }>`SELECT encode(cpr_hash, 'hex') AS h FROM children WHERE id = ${f.child.id}`
        .execute(db)
        .then((r) => r.rows[0]?.h as string),
    );
    expect(cprHash).toMatch(/^[0-9a-f]{64}$/);
    const entriesBefore = (await auditRows(t, f.municipality.id)).length;
    expectProblem(
      await t.call('DELETE', `/v1/children/${f.child.id}`, {
        token: f.staff.token,
        body: { reason: 'Anmodning om sletning.' },
      }),
      403,
    );
    expectProblem(
      await t.call('DELETE', `/v1/children/${f.child.id}`, { token: f.admin.token, body: {} }),
      400,
    );
    const erased = await t.call('DELETE', `/v1/children/${f.child.id}`, {
      token: f.admin.token,
      body: { reason: 'Anmodning om sletning (databeskyttelsesforordningen art. 17).' },
    });
    expect(erased.statusCode, erased.body).toBe(200);
    const report = erased.json();
    expect(report).toMatchObject({ alreadyErased: false, source: 'request' });
    expect(report.deleted).toMatchObject({ children: 1, enrolments: 1, assessments: 2 });
    expect(report.tombstone).toMatch(/^erased-/);

    // Search every table for the child's name, CPR hash and id.
    const tables = await t.asOwner((db) =>
      sql<{ name: string }>`SELECT table_name AS name FROM information_schema.tables
        WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`
        .execute(db)
        .then((r) => r.rows.map((row) => row.name)),
    );
    expect(tables).toContain('audit_log');
    for (const table of tables) {
      const text = await t.asOwner((db) =>
        sql<{
          t: string;
        }>`SELECT coalesce(string_agg(x::text, E'\\n'), '') AS t FROM ${sql.table(table)} x`
          .execute(db)
          .then((r) => r.rows[0]?.t ?? ''),
      );
      for (const needle of [f.person.givenName, f.person.familyName, f.child.id, cprHash]) {
        expect(text.includes(needle), `${table} still holds ${needle}`).toBe(false);
      }
    }
    // The trail remains: every entry about the child, the erasure too, under the tombstone.
    const rows = await auditRows(t, f.municipality.id);
    expect(rows.length).toBe(entriesBefore + 3); // the refused, the invalid and the erasure
    const tombstoned = rows.filter((r) => r.child_tombstone === report.tombstone);
    expect(tombstoned.length).toBe(f.expected.filter((e) => e[2] === 'child').length + 3);
    expect(tombstoned.at(-1)).toMatchObject({ action: 'delete', outcome: 'success' });
    // The report counts every entry now under the tombstone, the erasure's own included.
    expect(report.deleted.audit_entries_tombstoned).toBe(tombstoned.length);

    // Idempotent: asked again, the first report; the child is gone.
    const again = await t.call('DELETE', `/v1/children/${f.child.id}`, {
      token: f.admin.token,
      body: { reason: 'Igen.' },
    });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ ...report, alreadyErased: true });
    expectProblem(await t.call('GET', `/v1/children/${f.child.id}`, { token: f.admin.token }), 404);
    // Both uses after the erasure are recorded under the tombstone, never the raw id again.
    const trail = await t.call(
      'GET',
      `/v1/audit-log?childTombstone=${report.tombstone}&limit=200`,
      { token: f.admin.token },
    );
    expect(trail.json().items.length).toBe(tombstoned.length + 2);
    const auditText = await t.asOwner((db) =>
      sql<{ t: string }>`SELECT coalesce(string_agg(x::text, E'\\n'), '') AS t FROM audit_log x`
        .execute(db)
        .then((r) => r.rows[0]?.t ?? ''),
    );
    expect(auditText.includes(f.child.id)).toBe(false);
  });

  it('retention erases children whose last enrolment ended long ago and prunes the audit log', async () => {
    const s = await createScreeningTenant(t);
    const old = await createUnit(t, s.admin.token, { kind: 'kindergarten' });
    const gone = await createChild(t, s.admin.token, {
      unitId: old.id,
      birthDate: '2010-02-01',
      enrolledFrom: '2013-08-01',
      enrolledTo: '2016-07-31',
    });
    const recent = await createChild(t, s.admin.token, {
      unitId: old.id,
      birthDate: '2015-02-01',
      enrolledFrom: '2018-08-01',
      enrolledTo: '2022-07-31',
    });
    const current = await createChild(t, s.admin.token, { unitId: s.unit.id });
    await t.asOwner((db) =>
      sql`INSERT INTO audit_log (occurred_at, municipality_id, principal_kind, principal_id, role,
            action, resource_type, outcome, request_id)
          VALUES (now() - interval '30 months', ${s.municipality.id}, 'api_key', 'old', 'unit_staff',
            'read', 'child', 'success', 'old-request')`.execute(db),
    );
    const now = t.clock.now();
    const dry = await runRetention(t.database, { years: 5, auditMonths: 24, now, dryRun: true });
    expect(dry.childrenErased).toBe(0);
    const mine = (r: typeof dry) =>
      r.children.filter((c) => c.municipalityId === s.municipality.id);
    expect(mine(dry)).toEqual([
      { municipalityId: s.municipality.id, tombstone: null, lastEnrolmentEnded: '2016-07-31' },
    ]);
    const report = await runRetention(t.database, { years: 5, auditMonths: 24, now });
    expect(mine(report)).toHaveLength(1);
    expect(report.auditEntriesPruned).toBeGreaterThanOrEqual(1);
    for (const [child, status] of [
      [gone, 404],
      [recent, 200],
      [current, 200],
    ] as const) {
      const res = await t.call('GET', `/v1/children/${child.id}`, { token: s.admin.token });
      expect(res.statusCode).toBe(status);
    }
    // Idempotent: nothing more to do.
    const second = await runRetention(t.database, { years: 5, auditMonths: 24, now });
    expect(mine(second)).toEqual([]);
    expect(second.auditEntriesPruned).toBe(0);
    const erasures = await t.asOwner((db) =>
      sql<{
        source: string;
      }>`SELECT source FROM erasures WHERE municipality_id = ${s.municipality.id}`
        .execute(db)
        .then((r) => r.rows),
    );
    expect(erasures).toEqual([{ source: 'retention' }]);
  });
});
