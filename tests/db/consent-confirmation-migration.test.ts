import { sql } from 'kysely';
import { expect, it } from 'vitest';
import * as migration from '../../migrations/20261205_110000_consent_confirmation.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createKey, createTenant, createUnit } from '../support/factories.js';

/**
 * Migration 20261205_110000: consents that a unit-limited key recorded for its own unit before
 * confirmation existed were in force at once; the migration makes them wait for a leader.
 */
describeEngines('consent confirmation migration', (t) => {
  it('marks earlier own-unit consents of unit-limited keys as waiting, and no others', async () => {
    const { municipality, admin } = await createTenant(t);
    const school = await createUnit(t, admin.token, { kind: 'school' });
    const other = await createUnit(t, admin.token, { kind: 'kindergarten' });
    const child = await createChild(t, admin.token, { unitId: school.id, birthDate: '2020-03-01' });
    const staff = await createKey(t, municipality.id, 'unit_staff', {
      token: admin.token,
      unitIds: [school.id],
    });
    const record = async (token: string, recipient: object) => {
      const res = await t.call('POST', `/v1/children/${child.id}/consents`, {
        token,
        body: {
          purpose: 'transition_handover',
          recipient,
          categories: ['assessments'],
          givenBy: { name: 'Mette Jensen', relation: 'parent' },
          givenOn: '2026-06-15',
        },
      });
      expect(res.statusCode, res.body).toBe(201);
      return res.json().id as string;
    };
    const ownUnit = await record(staff.token, { unitId: school.id });
    const forRole = await record(staff.token, { role: 'unit_staff' });
    const elsewhere = await record(staff.token, { unitId: other.id });
    const byAdmin = await record(admin.token, { unitId: school.id });

    const required = () =>
      t.asOwner(async (db) => {
        const { rows } = await sql<{ id: string; confirmation_required: boolean }>`
          SELECT id, confirmation_required FROM consents WHERE child_id = ${child.id}`.execute(db);
        return Object.fromEntries(rows.map((r) => [r.id, r.confirmation_required]));
      });
    const expected = { [ownUnit]: true, [forRole]: true, [elsewhere]: false, [byAdmin]: false };
    expect(await required()).toEqual(expected);

    // Back to the schema before the migration (the rows stay), then forward again.
    await t.asOwner((db) => migration.down(db));
    const columns = await t.asOwner(
      async (db) =>
        (
          await sql<{ n: number }>`
            SELECT count(*)::int AS n FROM information_schema.columns
            WHERE table_name = 'consents' AND column_name LIKE 'confirm%'`.execute(db)
        ).rows[0]?.n,
    );
    expect(columns).toBe(0);
    await t.asOwner((db) => migration.up(db));
    expect(await required()).toEqual(expected);

    // The content trigger still freezes what was consented to, and a confirmation is set once.
    await expect(
      t.asOwner((db) =>
        sql`UPDATE consents SET confirmation_required = false WHERE id = ${ownUnit}`.execute(db),
      ),
    ).rejects.toThrow(/immutable/);
    await t.asOwner((db) =>
      sql`UPDATE consents SET confirmed_at = now(), confirmed_by = 'k' WHERE id = ${ownUnit}`.execute(
        db,
      ),
    );
    await expect(
      t.asOwner((db) =>
        sql`UPDATE consents SET confirmed_by = 'other' WHERE id = ${ownUnit}`.execute(db),
      ),
    ).rejects.toThrow(/confirmed once/);
  });
});
