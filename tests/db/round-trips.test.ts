import { AbortedTransactionError, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { municipalityScope, platformScope } from '../../src/db/database.js';
import { availableEngines } from '../support/engines.js';
import { createChild, createScreeningTenant } from '../support/factories.js';
import { type CountingContext, openCountingContext } from './counting-app.js';

/** Issue 13, point 6: the statements (round trips) a scoped transaction and a request send. */
/** A request's scope names its municipality and the caller's API key (checked as it enters). */
const SCOPE = /^BEGIN; SELECT lineal_enter_scope\('[0-9a-f-]{36}'::uuid, '[0-9a-f-]{36}'::uuid\)$/;

for (const engine of availableEngines()) {
  describe(`round trips [${engine}]`, () => {
    let t: CountingContext;
    beforeAll(async () => {
      t = await openCountingContext(engine);
    });
    afterAll(async () => {
      await t?.close();
    });

    it('a scoped transaction sends BEGIN and its scope as one statement', async () => {
      const { municipality } = await createScreeningTenant(t);
      const statements = await t.log.during(() =>
        t.database.transaction(municipalityScope(municipality.id), (trx) =>
          sql`SELECT count(*)::int AS n FROM children`.execute(trx),
        ),
      );
      expect(statements).toEqual([
        `BEGIN; SELECT lineal_enter_scope('${municipality.id}'::uuid)`,
        'SELECT count(*)::int AS n FROM children',
        'commit',
      ]);
      const platform = await t.log.during(() =>
        t.database.transaction(platformScope, (trx) =>
          sql`SELECT count(*)::int AS n FROM municipalities`.execute(trx),
        ),
      );
      expect(platform).toEqual([
        'BEGIN; SELECT lineal_enter_platform_scope()',
        'SELECT count(*)::int AS n FROM municipalities',
        'commit',
      ]);
    });

    it('the scope still holds: rows of the scope only, a second scope refused', async () => {
      const a = await createScreeningTenant(t);
      const b = await createScreeningTenant(t);
      const bChild = await createChild(t, b.admin.token, { unitId: b.unit.id });
      const seen = await t.database.transaction(municipalityScope(a.municipality.id), (trx) =>
        sql<{ id: string }>`SELECT id FROM children`.execute(trx),
      );
      expect(seen.rows.map((r) => r.id)).not.toContain(bChild.id);
      await expect(
        t.database.transaction(municipalityScope(a.municipality.id), (trx) =>
          sql`SELECT lineal_enter_scope(${b.municipality.id}::uuid)`.execute(trx),
        ),
      ).rejects.toThrow(/has its scope already/);
    });

    it('rolls back a failed transaction, and the connection serves the next one', async () => {
      const { municipality } = await createScreeningTenant(t);
      const scope = municipalityScope(municipality.id);
      const failed = await t.log.during(() =>
        t.database
          .transaction(scope, async (trx) => {
            await sql`SELECT 1`.execute(trx);
            throw new Error('service failure');
          })
          .catch((error: Error) => error.message),
      );
      expect(failed.slice(1)).toEqual(['SELECT 1', 'rollback']);
      // A statement error caught inside: COMMIT answers ROLLBACK, which is an error.
      await expect(
        t.database.transaction(scope, async (trx) => {
          await sql`SELECT 1 / 0`.execute(trx).catch(() => undefined);
          return 'done';
        }),
      ).rejects.toBeInstanceOf(AbortedTransactionError);
      // An id that is not a uuid is not written into the script: the database rejects it.
      await expect(
        t.database.transaction(municipalityScope("x'); SELECT 1; --"), async () => 1),
      ).rejects.toThrow(/uuid/);
      const after = await t.database.transaction(scope, (trx) =>
        sql<{ n: number }>`SELECT 1 AS n`.execute(trx),
      );
      expect(after.rows).toEqual([{ n: 1 }]);
    });

    it('a transaction that sends nothing costs no round trip', async () => {
      expect(await t.log.during(() => t.database.db.transaction().execute(async () => 1))).toEqual(
        [],
      );
    });

    it('counts the statements of a timeline read and an assessment submission', async () => {
      const s = await createScreeningTenant(t);
      const child = await createChild(t, s.admin.token, {
        unitId: s.unit.id,
        enrolledFrom: '2024-08-01',
      });
      const round = (
        await t.call('POST', '/v1/rounds', {
          token: s.admin.token,
          body: {
            name: 'Efterår 2026',
            windowStart: '2026-10-01',
            windowEnd: '2026-11-30',
            rulerVersionId: s.topi,
          },
        })
      ).json();
      await t.call('GET', '/v1/me', { token: s.admin.token });
      const submission = await t.log.during(async () => {
        const res = await t.call('POST', '/v1/assessments', {
          token: s.admin.token,
          body: {
            childId: child.id,
            unitId: s.unit.id,
            roundId: round.id,
            assessedOn: '2026-11-20',
            raters: [
              { name: 'Anna', role: 'unit_staff' },
              { name: 'Bo', role: 'unit_leader' },
            ],
            rating: { overallLevel: 2 },
            parentsInformed: false,
          },
        });
        expect(res.statusCode, res.body).toBe(201);
      });
      const timeline = await t.log.during(async () => {
        const res = await t.call('GET', `/v1/children/${child.id}/timeline`, {
          token: s.admin.token,
        });
        expect(res.statusCode, res.body).toBe(200);
      });
      for (const statements of [submission, timeline]) {
        expect(statements.filter((q) => /^begin$/i.test(q))).toEqual([]);
        const scopes = statements.filter((q) => q.includes('lineal_enter_'));
        expect(scopes.length).toBeGreaterThan(0);
        for (const scope of scopes) expect(scope).toMatch(SCOPE);
        // The key was verified by an earlier request: it is not looked up again.
        expect(statements.filter((q) => q.includes('lineal_find_api_key'))).toEqual([]);
      }
      // Issue 13's targets: BEGIN with the scope, the child, its assessments, the audit entry
      // and COMMIT were 7 statements; the submission was 21-24.
      expect(timeline.length).toBeLessThanOrEqual(4);
      expect(submission.length).toBeLessThanOrEqual(18);
      if (process.env.SHOW_STATEMENTS) console.info([...submission, '---', ...timeline].join('\n'));
      console.info(
        `[round-trips ${engine}] POST /v1/assessments: ${submission.length} statements; ` +
          `GET timeline: ${timeline.length} statements`,
      );
    });
  });
}
