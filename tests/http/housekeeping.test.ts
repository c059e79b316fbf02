import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { flagClosedRounds } from '../../src/jobs/not-assessed.js';
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

  it('flags a round with more missing children than one INSERT can carry, in chunks', async () => {
    const { admin, municipality, unit, topi } = await createScreeningTenant(t);
    // 2,500 enrolled children, none assessed: three chunks of flags, events and audit entries.
    await t.asOwner((db) =>
      sql`
        WITH kids AS (
          INSERT INTO children (municipality_id, external_ref, birth_date)
          SELECT ${municipality.id}::uuid, 'bulk-' || g, DATE '2021-05-10'
          FROM generate_series(1, 2500) g
          RETURNING id
        )
        INSERT INTO enrolments (municipality_id, child_id, unit_id, start_date)
        SELECT ${municipality.id}::uuid, id, ${unit.id}::uuid, DATE '2025-01-01' FROM kids
      `.execute(db),
    );
    const round = (
      await t.call('POST', '/v1/rounds', {
        token: admin.token,
        body: {
          name: 'Stor',
          windowStart: '2026-04-01',
          windowEnd: '2026-05-31',
          rulerVersionId: topi,
          unitIds: [unit.id],
        },
      })
    ).json();
    const res = await t.call('POST', `/v1/rounds/${round.id}/not-assessed-flags`, {
      token: admin.token,
    });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual({ raised: 2500 });
    const counts = await t.asOwner((db) =>
      sql<{ flags: number; events: number; audit: number }>`
        SELECT (SELECT count(*)::int FROM flags WHERE round_id = ${round.id}) AS flags,
               (SELECT count(*)::int FROM events WHERE municipality_id = ${municipality.id}
                  AND type = 'flag.raised') AS events,
               (SELECT count(*)::int FROM audit_log WHERE municipality_id = ${municipality.id}
                  AND resource_type = 'flag' AND action = 'create') AS audit
      `
        .execute(db)
        .then((r) => r.rows[0]),
    );
    expect(counts).toEqual({ flags: 2500, events: 2500, audit: 2500 });
  });

  // Issue 12 (2): on PostgreSQL the sixth execution of a prepared statement may use a generic
  // plan, which cannot infer a partial unique index from a parameterised ON CONFLICT … WHERE
  // (42P10). Ten closed rounds, one call each: every call must succeed, as must the sweep.
  it('flags ten closed rounds in a row, past the point where plans go generic', async () => {
    const { admin, municipality, unit, topi } = await createScreeningTenant(t);
    await createChild(t, admin.token, { unitId: unit.id, enrolledFrom: '2024-01-01' });
    await createChild(t, admin.token, { unitId: unit.id, enrolledFrom: '2024-01-01' });
    const rounds: string[] = [];
    for (let i = 0; i < 12; i++) {
      const month = String((i % 12) + 1).padStart(2, '0');
      const res = await t.call('POST', '/v1/rounds', {
        token: admin.token,
        body: {
          name: `Runde ${i + 1}`,
          windowStart: `2025-${month}-01`,
          windowEnd: `2025-${month}-20`,
          rulerVersionId: topi,
          unitIds: [unit.id],
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      rounds.push(res.json().id);
    }
    const statuses: number[] = [];
    for (const id of rounds.slice(0, 10)) {
      const res = await t.call('POST', `/v1/rounds/${id}/not-assessed-flags`, {
        token: admin.token,
      });
      statuses.push(res.statusCode);
      if (res.statusCode === 200) expect(res.json()).toEqual({ raised: 2 });
    }
    expect(statuses).toEqual(Array(10).fill(200));
    // The sweep reaches the two rounds left (and nothing twice).
    await flagClosedRounds(t.database, t.clock.now());
    const flags = await t.asOwner((db) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM flags
        WHERE municipality_id = ${municipality.id} AND kind = 'not_assessed'`
        .execute(db)
        .then((r) => r.rows[0]?.n),
    );
    expect(flags).toBe(24);
  });
});
