import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AccessPolicy,
  requireMunicipalityAccess,
  requireUnitAccess,
  stepsVisibleTo,
  visibleChildren,
} from '../../src/access/policy.js';
import type { Role } from '../../src/auth/permissions.js';
import type { Principal } from '../../src/auth/principal.js';
import { municipalityScope } from '../../src/db/database.js';
import { ForbiddenError, NotFoundError } from '../../src/errors.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createScreeningTenant, createUnit } from '../support/factories.js';

// Issue 13, point 2: the access policy answers every who-may-see question in one module. Its
// decisions are tested here without HTTP: the pure ones directly, the ones that become SQL
// filters on a database (the setup uses the API; every assertion asks the policy).

const M = '00000000-0000-4000-8000-000000000001';
const OTHER = '00000000-0000-4000-8000-000000000002';
const TODAY = '2026-11-22';

const principal = (role: Role, unitIds: string[] = [], municipalityId: string | null = M) =>
  ({
    kind: 'api_key',
    id: '00000000-0000-4000-8000-0000000000aa',
    role,
    municipalityId: role === 'platform_admin' ? null : municipalityId,
    unitIds,
    requestId: 'req-1',
  }) satisfies Principal;

const policy = (p: Principal) => new AccessPolicy(p, TODAY);

describe('access policy: decisions', () => {
  it('platform administrators act in no municipality but may manage any named one', () => {
    const admin = policy(principal('platform_admin'));
    expect(() => admin.municipalityId).toThrow(ForbiddenError);
    expect(() => admin.children()).toThrow(ForbiddenError);
    expect(admin.requireMunicipality(OTHER)).toBe(OTHER);
    expect(admin.isUnitLimited).toBe(false);
  });

  it('another municipality is 404, never 403', () => {
    const admin = policy(principal('municipality_admin'));
    expect(admin.municipalityId).toBe(M);
    expect(admin.requireMunicipality(M)).toBe(M);
    expect(() => admin.requireMunicipality(OTHER)).toThrow(NotFoundError);
    expect(() => requireMunicipalityAccess(principal('analyst'), OTHER)).toThrow(NotFoundError);
  });

  it('visibility: unit limits, social workers, changes only where enrolled', () => {
    const staff = policy(principal('unit_staff', ['u1', 'u2']));
    expect(staff.children()).toEqual({
      municipalityId: M,
      unitIds: ['u1', 'u2'],
      today: TODAY,
      involvedWith: undefined,
    });
    expect(staff.childrenToChange()).toEqual({ ...staff.children(), enrolledOnly: true });
    expect(staff.steps()).toEqual({
      municipalityId: M,
      unitIds: ['u1', 'u2'],
      socialWorker: false,
      today: TODAY,
    });
    const worker = policy(principal('social_worker'));
    expect(worker.children().involvedWith).toEqual({
      kind: 'api_key',
      id: '00000000-0000-4000-8000-0000000000aa',
    });
    expect(worker.steps().socialWorker).toBe(true);
    expect(worker.isUnitLimited).toBe(false);
  });

  it('requireUnit throws exactly when a unit limit excludes the unit; mayActInUnit agrees', () => {
    const unit = fc.constantFrom('u1', 'u2', 'u3', 'u4');
    fc.assert(
      fc.property(fc.uniqueArray(unit, { maxLength: 4 }), unit, (unitIds, target) => {
        const p = policy(principal('unit_leader', unitIds));
        const excluded = unitIds.length > 0 && !unitIds.includes(target);
        expect(p.mayActInUnit(target)).toBe(!excluded);
        if (excluded) {
          expect(() => p.requireUnit(target)).toThrow(ForbiddenError);
          expect(() => requireUnitAccess(p.principal, target)).toThrow(ForbiddenError);
        } else {
          expect(() => p.requireUnit(target)).not.toThrow();
        }
      }),
    );
  });
});

describeEngines('access policy: filters on the database', (t) => {
  it('unit-limited keys see enrolled children and the children their units still owe', async () => {
    const s = await createScreeningTenant(t);
    const other = await createUnit(t, s.admin.token);
    const enrolled = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const left = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledTo: '2026-11-21',
    });
    const elsewhere = await createChild(t, s.admin.token, { unitId: other.id });
    const owed = await createChild(t, s.admin.token, { unitId: s.unit.id });
    // A red assessment while enrolled leaves open steps of this unit; then the child leaves.
    const red = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId: owed.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-01',
        raters: [
          { name: 'A', role: 'unit_staff' },
          { name: 'B', role: 'unit_leader' },
        ],
        rating: { overallLevel: 3 },
        parentsInformed: false,
      },
    });
    expect(red.statusCode, red.body).toBe(201);
    const enrolments = await t.call('GET', `/v1/children/${owed.id}/enrolments`, {
      token: s.admin.token,
    });
    const enrolmentId = enrolments.json().items[0].id;
    const ended = await t.call('PATCH', `/v1/children/${owed.id}/enrolments/${enrolmentId}`, {
      token: s.admin.token,
      body: { endDate: '2026-11-21' },
    });
    expect(ended.statusCode, ended.body).toBe(200);

    const municipalityId = s.municipality.id;
    const staff = new AccessPolicy(
      { ...principal('unit_staff', [s.unit.id]), municipalityId },
      TODAY,
    );
    const admin = new AccessPolicy({ ...principal('municipality_admin'), municipalityId }, TODAY);
    const all = [enrolled.id, left.id, elsewhere.id, owed.id];
    const visible = (v: ReturnType<AccessPolicy['children']>) =>
      t.database.transaction(municipalityScope(municipalityId), async (trx) =>
        (
          await trx
            .selectFrom('children')
            .select('id')
            .where('id', 'in', all)
            .where(visibleChildren(v))
            .execute()
        )
          .map((r) => r.id)
          .sort(),
      );
    expect(await visible(staff.children())).toEqual([enrolled.id, owed.id].sort());
    expect(await visible(staff.childrenToChange())).toEqual([enrolled.id]);
    expect(await visible(admin.children())).toEqual([...all].sort());

    await t.database.transaction(municipalityScope(municipalityId), async (trx) => {
      expect(await staff.seesChild(trx, owed.id)).toBe(true);
      expect(await staff.seesChild(trx, left.id)).toBe(false);
      expect(await admin.seesChild(trx, elsewhere.id)).toBe(true);
      // Steps: the unit keeps its open steps of the child who left, nothing closed of it.
      const steps = await trx
        .selectFrom('recommendation_steps')
        .select(['child_id', 'status'])
        .where(stepsVisibleTo(staff.steps()))
        .execute();
      expect(steps.length).toBeGreaterThan(0);
      expect(steps.every((st) => st.child_id === owed.id && st.status === 'open')).toBe(true);
      // A social worker sees the red child (its steps involve child services or a concern
      // report is due), not the green ones.
      const worker = new AccessPolicy({ ...principal('social_worker'), municipalityId }, TODAY);
      expect(await worker.seesChild(trx, enrolled.id)).toBe(false);
    });
  });

  it('sharing: own unit in full, another unit only on a basis; unlimited viewers see all', async () => {
    const s = await createScreeningTenant(t);
    const school = await createUnit(t, s.admin.token, { kind: 'school' });
    const child = await createChild(t, s.admin.token, {
      unitId: s.unit.id,
      enrolledFrom: '2024-08-01',
      enrolledTo: '2026-07-31',
    });
    const moved = await t.call('POST', `/v1/children/${child.id}/enrolments`, {
      token: s.admin.token,
      body: { unitId: school.id, startDate: '2026-08-01' },
    });
    expect(moved.statusCode, moved.body).toBe(201);
    const municipalityId = s.municipality.id;
    const teacher = new AccessPolicy(
      { ...principal('unit_staff', [school.id]), municipalityId },
      TODAY,
    );
    const admin = new AccessPolicy({ ...principal('municipality_admin'), municipalityId }, TODAY);
    const items = [
      { unitId: s.unit.id, date: '2026-05-01' },
      { unitId: school.id, date: '2026-10-01' },
    ];
    await t.database.transaction(municipalityScope(municipalityId), async (trx) => {
      const ctx = await teacher.sharing(trx, child.id);
      expect(ctx.receiving).toEqual([
        { unitId: school.id, unitKind: 'school', startDate: '2026-08-01' },
      ]);
      expect(ctx.consents).toEqual([]);
      const judged = await teacher.judge(trx, ctx, items, (i) => i, 'assessments');
      expect(judged.shown.map((j) => j.value.unitId)).toEqual([school.id]);
      expect(judged.shown[0]?.bases).toEqual([{ kind: 'own_unit' }]);
      expect(judged.withheld.map((j) => j.item)).toEqual([
        { unitId: s.unit.id, unitKind: 'kindergarten', date: '2026-05-01' },
      ]);
      const wide = await admin.judge(
        trx,
        await admin.sharing(trx, child.id),
        items,
        (i) => i,
        'assessments',
      );
      expect(wide.withheld).toEqual([]);
      expect(wide.shown.map((j) => j.bases)).toEqual([[{ kind: 'role' }], [{ kind: 'role' }]]);
    });

    // A guideline kindergarten → school, switched on, is a basis.
    const guideline = await t.call('PUT', '/v1/transition-guidelines/kindergarten/school', {
      token: s.admin.token,
      body: { enabled: true },
    });
    expect(guideline.statusCode, guideline.body).toBe(200);
    await t.database.transaction(municipalityScope(municipalityId), async (trx) => {
      const ctx = await teacher.sharing(trx, child.id);
      expect(ctx.guidelines.map((g) => [g.fromUnitKind, g.toUnitKind, g.enabled])).toEqual([
        ['kindergarten', 'school', true],
      ]);
      const judged = await teacher.judge(trx, ctx, items, (i) => i, 'assessments');
      expect(judged.withheld).toEqual([]);
      expect(judged.shown.map((j) => j.bases.map((b) => b.kind))).toEqual([
        ['guideline'],
        ['own_unit'],
      ]);
    });
  });
});
