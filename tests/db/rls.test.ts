import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { municipalityScope, platformScope } from '../../src/db/database.js';
import { rlsBypassReasons } from '../../src/db/postgres.js';
import { describeEngines } from '../support/engines.js';
import { createKey, createTenant } from '../support/factories.js';

describeEngines('row-level security', (t) => {
  it('the application role is subject to row-level security', async () => {
    expect(await rlsBypassReasons(t.database.db)).toEqual({
      role: t.engine === 'pglite' ? 'lineal_app' : 'lineal_test_app',
      reasons: [],
    });
  });

  it('a query that forgets the tenant filter still returns no foreign rows', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    await createKey(t, b.municipality.id, 'analyst', { token: b.admin.token });

    // Deliberately no WHERE clause on the municipality.
    const keys = await t.database.transaction(municipalityScope(a.municipality.id), (trx) =>
      trx.selectFrom('api_keys').select(['id', 'municipality_id']).execute(),
    );
    expect(keys.length).toBeGreaterThan(0);
    expect(new Set(keys.map((k) => k.municipality_id))).toEqual(new Set([a.municipality.id]));

    const municipalities = await t.database.transaction(
      municipalityScope(a.municipality.id),
      (trx) => trx.selectFrom('municipalities').select('id').execute(),
    );
    expect(municipalities.map((m) => m.id)).toEqual([a.municipality.id]);

    // Updates without a tenant filter touch only the scope's rows.
    const updated = await t.database.transaction(municipalityScope(a.municipality.id), (trx) =>
      trx.updateTable('api_keys').set({ name: 'renamed' }).executeTakeFirst(),
    );
    expect(Number(updated.numUpdatedRows)).toBe(keys.length);
    const bNames = await t.database.transaction(municipalityScope(b.municipality.id), (trx) =>
      trx.selectFrom('api_keys').select('name').execute(),
    );
    expect(bNames.map((k) => k.name)).not.toContain('renamed');
  });

  it("a prepared statement's reused plan applies each execution's scope", async () => {
    // On PostgreSQL parameterised statements are prepared per connection and may run on a
    // cached generic plan (forced here): the scope must still be read at each execution.
    const a = await createTenant(t);
    const b = await createTenant(t);
    const keysIn = (municipalityId: string) =>
      t.database.transaction(municipalityScope(municipalityId), async (trx) => {
        await sql`SET LOCAL plan_cache_mode = force_generic_plan`.execute(trx);
        return trx
          .selectFrom('api_keys')
          .select(['municipality_id'])
          .where('name', '<>', 'no such name')
          .execute();
      });
    for (let i = 0; i < 12; i++) {
      for (const m of [a.municipality.id, b.municipality.id]) {
        const rows = await keysIn(m);
        expect(rows.length).toBeGreaterThan(0);
        expect(new Set(rows.map((r) => r.municipality_id))).toEqual(new Set([m]));
      }
    }
    const outside = await t.database.db
      .selectFrom('api_keys')
      .select('id')
      .where('name', '<>', 'no such name')
      .execute();
    expect(outside).toEqual([]);
  });

  it('outside any scope no tenant rows are visible at all', async () => {
    await createTenant(t);
    const rows = await t.database.db.selectFrom('api_keys').select('id').execute();
    expect(rows).toEqual([]);
    const inTx = await t.database.db
      .transaction()
      .execute((trx) => trx.selectFrom('municipalities').select('id').execute());
    expect(inTx).toEqual([]);
  });

  it('the scope does not leak into the next transaction', async () => {
    const a = await createTenant(t);
    await t.database.transaction(municipalityScope(a.municipality.id), async () => {});
    const rows = await t.database.db
      .transaction()
      .execute((trx) => trx.selectFrom('api_keys').select('id').execute());
    expect(rows).toEqual([]);
  });

  it('rows cannot be written into another municipality', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    await expect(
      t.database.transaction(municipalityScope(a.municipality.id), (trx) =>
        trx
          .insertInto('api_keys')
          .values({
            key_id: '0123456789abcdef',
            key_hash: Buffer.alloc(32),
            municipality_id: b.municipality.id,
            name: 'smuggled',
            role: 'analyst',
            created_by: null,
            expires_at: null,
          })
          .execute(),
      ),
    ).rejects.toThrow(/row-level security/);
  });

  it('the platform scope sees every municipality', async () => {
    const a = await createTenant(t);
    const b = await createTenant(t);
    const ids = await t.database.transaction(platformScope, (trx) =>
      trx.selectFrom('municipalities').select('id').execute(),
    );
    expect(ids.map((r) => r.id)).toEqual(
      expect.arrayContaining([a.municipality.id, b.municipality.id]),
    );
  });

  it('the application role cannot delete keys or disable row-level security', async () => {
    const a = await createTenant(t);
    await expect(
      t.database.transaction(municipalityScope(a.municipality.id), (trx) =>
        trx.deleteFrom('api_keys').execute(),
      ),
    ).rejects.toThrow(/permission denied/);
    await expect(
      sql`ALTER TABLE api_keys DISABLE ROW LEVEL SECURITY`.execute(t.database.db),
    ).rejects.toThrow(/must be owner/);
  });
});
