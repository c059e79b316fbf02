import { type RawBuilder, sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { municipalityScope, platformScope, type Scope } from '../../src/db/database.js';
import { describeEngines } from '../support/engines.js';
import { createChild, createTenant, createUnit } from '../support/factories.js';

/**
 * Issue 12, point 4: what SQL injected into a scoped transaction of the service could do, tried
 * as the service's own database role. On PostgreSQL that role is the boundary. PGlite runs the
 * same attempts as `lineal_app` too, but its session is the superuser behind `SET ROLE`, which a
 * statement could undo: there they check the policies, not a boundary.
 */
describeEngines('tenancy against the service role', (t) => {
  let a: { municipality: { id: string }; admin: { token: string } };
  let b: { municipality: { id: string }; admin: { token: string } };
  let aChild: string;
  let bChild: string;

  beforeAll(async () => {
    a = await createTenant(t);
    b = await createTenant(t);
    aChild = (
      await createChild(t, a.admin.token, { unitId: (await createUnit(t, a.admin.token)).id })
    ).id;
    bChild = (
      await createChild(t, b.admin.token, { unitId: (await createUnit(t, b.admin.token)).id })
    ).id;
  });

  /** Runs the statements in one transaction of `scope`: their last result, or the error. */
  async function inject<R>(
    scope: Scope,
    ...statements: RawBuilder<unknown>[]
  ): Promise<{ rows: R[] } | { error: Error }> {
    try {
      return await t.database.transaction(scope, async (trx) => {
        let rows: unknown[] = [];
        for (const statement of statements) rows = (await statement.execute(trx)).rows;
        return { rows: rows as R[] };
      });
    } catch (error) {
      return { error: error as Error };
    }
  }
  const childIds = (result: { rows: { id: string }[] } | { error: Error }) =>
    'rows' in result ? result.rows.map((r) => r.id) : [];
  const childrenOf = (municipalityId: string) =>
    t.asOwner((db) =>
      sql<{ id: string }>`SELECT id FROM children WHERE municipality_id = ${municipalityId}`
        .execute(db)
        .then((r) => r.rows.map((row) => row.id)),
    );
  const auditCount = () =>
    t.asOwner((db) =>
      sql<{ n: number }>`SELECT count(*)::int AS n FROM audit_log`
        .execute(db)
        .then((r) => r.rows[0]?.n ?? 0),
    );
  const selectChildren = sql<{ id: string }>`SELECT id FROM children`;

  it('a query that forgets the WHERE clause sees only its own children', async () => {
    const seen = childIds(
      await inject<{ id: string }>(municipalityScope(a.municipality.id), selectChildren),
    );
    expect(seen).toContain(aChild);
    expect(seen).not.toContain(bChild);
  });

  it("setting lineal.platform does not open other municipalities' children", async () => {
    for (const local of [false, true]) {
      const seen = childIds(
        await inject<{ id: string }>(
          municipalityScope(a.municipality.id),
          sql`SELECT set_config('lineal.platform', 'on', ${local})`,
          selectChildren,
        ),
      );
      expect(seen).not.toContain(bChild);
    }
  });

  it('the scope cannot be switched inside a transaction', async () => {
    const bId = b.municipality.id;
    const attempts = [
      [sql`SELECT set_config('lineal.municipality_id', ${bId}, true)`],
      [
        sql`SELECT set_config('lineal.municipality_id', ${bId}, true)`,
        sql`SELECT set_config('lineal.platform', 'on', true)`,
      ],
      [sql`SELECT lineal_enter_scope(${bId}::uuid)`],
      [sql`SELECT lineal_enter_platform_scope()`],
    ];
    for (const statements of attempts) {
      const result = await inject<{ id: string }>(
        municipalityScope(a.municipality.id),
        ...statements,
        selectChildren,
      );
      expect(childIds(result)).not.toContain(bChild);
    }
    // Entering a second scope is refused outright, even the same one again.
    for (const again of [bId, a.municipality.id]) {
      const result = await inject(
        municipalityScope(a.municipality.id),
        sql`SELECT lineal_enter_scope(${again}::uuid)`,
      );
      expect('error' in result && result.error.message).toMatch(/has its scope already/);
    }
  });

  it("the platform scope reads no municipality's children", async () => {
    const seen = childIds(await inject<{ id: string }>(platformScope, selectChildren));
    expect(seen).toEqual([]);
    const withSettings = childIds(
      await inject<{ id: string }>(
        platformScope,
        sql`SELECT set_config('lineal.municipality_id', ${b.municipality.id}, true)`,
        selectChildren,
      ),
    );
    expect(withSettings).toEqual([]);
  });

  it("erasure in A's scope cannot erase B's child", async () => {
    const attempts = [
      sql`SELECT lineal_erase_child(${b.municipality.id}::uuid, ${bChild}::uuid, 'tomb-x')`,
      sql`SELECT lineal_erase_child(${bChild}::uuid, 'tomb-x')`,
    ];
    for (const attempt of attempts) {
      await inject(municipalityScope(a.municipality.id), attempt);
      await inject(platformScope, attempt);
    }
    expect(await childrenOf(b.municipality.id)).toContain(bChild);
  });

  it('the audit log cannot be pruned younger than the retention minimum', async () => {
    const before = await auditCount();
    expect(before).toBeGreaterThan(0);
    for (const scope of [municipalityScope(a.municipality.id), platformScope]) {
      for (const cutoff of [sql`now() + interval '1 day'`, sql`now() - interval '1 month'`]) {
        const result = await inject(scope, sql`SELECT lineal_prune_audit(${cutoff})`);
        expect('error' in result && result.error.message).toMatch(/kept at least 6 months/);
      }
    }
    expect(await auditCount()).toBe(before);
  });

  it('the deleting flags of erasure and pruning open nothing to the service', async () => {
    const before = await auditCount();
    for (const statement of [
      sql`DELETE FROM audit_log`,
      sql`UPDATE audit_log SET role = 'x'`,
      sql`DELETE FROM assessments`,
    ]) {
      const result = await inject(
        municipalityScope(a.municipality.id),
        sql`SELECT set_config('lineal.audit_maintenance', 'on', true), set_config('lineal.erasure', 'on', true)`,
        statement,
      );
      expect('error' in result && result.error.message).toMatch(/permission denied/);
    }
    expect(await auditCount()).toBe(before);
  });

  it('the service role cannot read or write the scope table', async () => {
    for (const statement of [
      sql`SELECT * FROM lineal_scopes`,
      sql`UPDATE lineal_scopes SET municipality_id = ${b.municipality.id}`,
      sql`SELECT lineal_claim_scope(${b.municipality.id}::uuid, false)`,
    ]) {
      const result = await inject(municipalityScope(a.municipality.id), statement);
      expect('error' in result && result.error.message).toMatch(/permission denied/);
    }
  });

  it('erasure in its own scope erases the child; a pruning cut-off within the minimum is clamped', async () => {
    const own = await createChild(t, a.admin.token);
    const done = await inject<{ deleted: Record<string, number> }>(
      municipalityScope(a.municipality.id),
      sql`SELECT lineal_erase_child(${own.id}::uuid, 'tomb-own') AS deleted`,
    );
    expect('rows' in done && done.rows[0]?.deleted.children).toBe(1);
    expect(await childrenOf(a.municipality.id)).not.toContain(own.id);

    const young = await auditCount();
    const pruned = await inject<{ n: number }>(
      platformScope,
      sql`SELECT lineal_prune_audit(now() - interval '6 months' + interval '1 hour')::int AS n`,
    );
    expect(pruned).toEqual({ rows: [{ n: 0 }] });
    expect(await auditCount()).toBe(young);
  });

  it('a transaction outside any scope sees nothing and the scope ends with its transaction', async () => {
    await inject(municipalityScope(a.municipality.id), selectChildren);
    const after = await t.database.db
      .transaction()
      .execute((trx) => selectChildren.execute(trx).then((r) => r.rows));
    expect(after).toEqual([]);
  });

  // PGlite has one connection: no connection is ever gone.
  it.skipIf(t.engine === 'pglite')(
    'the scope rows of connections that are gone are forgotten',
    async () => {
      const gone = () =>
        t.asOwner((db) =>
          sql<{ n: number }>`SELECT count(*)::int AS n FROM lineal_scopes WHERE backend_pid = 0`
            .execute(db)
            .then((r) => r.rows[0]?.n),
        );
      await t.asOwner((db) =>
        sql`INSERT INTO lineal_scopes VALUES (0, '1'::xid8, NULL, true)`.execute(db),
      );
      expect(await gone()).toBe(1);
      // Each asOwner call is a new connection: its first scope clears what is left behind.
      await t.asOwner((db) =>
        db
          .transaction()
          .execute((trx) =>
            sql`SELECT lineal_enter_scope(${a.municipality.id}::uuid)`.execute(trx),
          ),
      );
      expect(await gone()).toBe(0);
    },
  );

  it('every policy reads the scope once per statement', async () => {
    const policies = await t.asOwner((db) =>
      sql<{ policyname: string; text: string }>`
        SELECT policyname, coalesce(qual, '') || ' ' || coalesce(with_check, '') AS text
        FROM pg_policies WHERE schemaname = 'public'
      `
        .execute(db)
        .then((r) => r.rows),
    );
    expect(policies.length).toBeGreaterThan(20);
    const bare = policies.filter((p) =>
      /(?<!SELECT )lineal_(current_municipality|is_platform)\(\)(?! AS)/.test(p.text),
    );
    expect(bare.map((p) => p.policyname)).toEqual([]);
  });
});
