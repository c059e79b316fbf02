import { sql } from 'kysely';
import { expect, it } from 'vitest';
import * as migration from '../../migrations/20261209_090000_changed_since.js';
import { describeEngines } from '../support/engines.js';
import { createAssessment, createChild, createScreeningTenant } from '../support/factories.js';

/**
 * Migration 20261209_090000: events get the unit they concern, backfilled from their
 * recommendation, step or flag; concern reports belong to no unit.
 */
describeEngines('changed-since migration', (t) => {
  it('backfills events.unit_id from recommendation and step; concern reports have none', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    await createAssessment(t, s.admin.token, {
      childId: child.id,
      unitId: s.unit.id,
      rulerVersionId: s.topi,
      rating: { overallLevel: 3 },
    });
    const report = await t.call('POST', `/v1/children/${child.id}/concern-reports`, {
      token: s.admin.token,
      body: { reportedOn: '2026-11-22', reportedBy: { name: 'Cecilie', role: 'unit_leader' } },
    });
    expect(report.statusCode, report.body).toBe(201);
    const units = () =>
      t.asOwner(async (db) => {
        const { rows } = await sql<{ subject_type: string; unit_id: string | null }>`
          SELECT subject_type, unit_id::text FROM events WHERE child_id = ${child.id}
          ORDER BY id`.execute(db);
        return rows.map((r) => [r.subject_type, r.unit_id]);
      });
    // Parent notices (migration 20261212_090000, later) have their unit too; this migration's
    // backfill predates them, so their events are left out of the comparison below.
    const all = await units();
    expect(all.filter(([type]) => type === 'parent_notice')).toEqual([
      ['parent_notice', s.unit.id],
    ]);
    await t.asOwner((db) =>
      sql`DELETE FROM events WHERE subject_type = 'parent_notice'`.execute(db),
    );
    const inserted = await units();
    expect(new Set(inserted.map(([type]) => type))).toEqual(
      new Set(['recommendation', 'step', 'concern_report']),
    );
    for (const [type, unitId] of inserted) {
      expect([type, unitId]).toEqual([type, type === 'concern_report' ? null : s.unit.id]);
    }

    // Back before the migration (the column goes), then forward: the backfill gives the same.
    await t.asOwner((db) => migration.down(db));
    const column = await t.asOwner(
      async (db) =>
        (
          await sql<{ n: number }>`
            SELECT count(*)::int AS n FROM information_schema.columns
            WHERE table_name = 'events' AND column_name = 'unit_id'`.execute(db)
        ).rows[0]?.n,
    );
    expect(column).toBe(0);
    await t.asOwner((db) => migration.up(db));
    expect(await units()).toEqual(inserted);
  });
});
