import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { flagClosedRounds } from '../../src/features/recommendations/follow-up.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createScreeningTenant } from '../support/factories.js';

describeEngines('housekeeping', (t) => {
  it('raises not-assessed flags once for rounds whose window closed', async () => {
    const { admin, unit, topi } = await createScreeningTenant(t);
    const child = await createChild(t, admin.token, {
      unitId: unit.id,
      enrolledFrom: '2025-01-01',
    });
    const round = async (name: string, windowStart: string, windowEnd: string) =>
      (
        await t.call('POST', '/v1/rounds', {
          token: admin.token,
          body: { name, windowStart, windowEnd, rulerVersionId: topi, unitIds: [unit.id] },
        })
      ).json();
    const closed = await round('Forår 2026', '2026-04-01', '2026-05-31');
    await round('Efterår 2026', '2026-11-01', '2026-12-15');

    // Other municipalities' closed rounds may be processed too: count only this child's flags.
    await flagClosedRounds(t.database, t.clock.now());
    const flags = async () =>
      (
        await t.call('GET', `/v1/flags?childId=${child.id}&kind=not_assessed`, {
          token: admin.token,
        })
      ).json().items;
    const raised = await flags();
    expect(raised.map((f: { roundId: string; unitId: string }) => [f.roundId, f.unitId])).toEqual([
      [closed.id, unit.id],
    ]);
    expect(await flagClosedRounds(t.database, t.clock.now())).toBe(0);
    expect(await flags()).toHaveLength(1);
    // The job's write is in the child's audit trail, by the system.
    const trail = await t.asOwner((db) =>
      sql<{ principal_kind: string; principal_id: string; action: string; resource_type: string }>`
        SELECT principal_kind, principal_id, action, resource_type FROM audit_log
        WHERE child_id = ${child.id} AND resource_type = 'flag' AND action = 'create'`
        .execute(db)
        .then((r) => r.rows),
    );
    expect(trail).toEqual([
      {
        principal_kind: 'system',
        principal_id: 'not-assessed-flags',
        action: 'create',
        resource_type: 'flag',
      },
    ]);
  });
});
