import { CompiledQuery, sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { municipalityScope } from '../../src/db/database.js';
import { createChild, createKey, createScreeningTenant } from '../support/factories.js';
import { type CountingContext, openCountingContext } from './counting-app.js';

/**
 * Issue 13, point 6: a unit's worklist (open steps by due date, a unit leader's key) reads only
 * the page it returns, however many open steps the unit has: the plan walks the partial index
 * of open steps by unit and due date and stops at the page's end. PostgreSQL only (PGlite has
 * the same index; its plans are not what production runs).
 */
interface PlanNode {
  'Node Type': string;
  'Index Name'?: string;
  'Actual Rows'?: number;
  Plans?: PlanNode[];
}

const nodes = (plan: PlanNode): PlanNode[] => [plan, ...(plan.Plans ?? []).flatMap(nodes)];

describe.skipIf(!inject('postgresAdminUrl'))('the unit worklist reads one page [postgres]', () => {
  let t: CountingContext;
  beforeAll(async () => {
    t = await openCountingContext('postgres');
  });
  afterAll(async () => {
    await t?.close();
  });

  it('walks the open steps of the unit by due date and stops after the page', async () => {
    const s = await createScreeningTenant(t);
    const child = await createChild(t, s.admin.token, { unitId: s.unit.id });
    const res = await t.call('POST', '/v1/assessments', {
      token: s.admin.token,
      body: {
        childId: child.id,
        unitId: s.unit.id,
        rulerVersionId: s.topi,
        assessedOn: '2026-11-20',
        raters: [
          { name: 'Anna', role: 'unit_staff' },
          { name: 'Bo', role: 'unit_leader' },
        ],
        rating: { overallLevel: 3 },
        parentsInformed: false,
      },
    });
    expect(res.statusCode, res.body).toBe(201);
    // 2,000 more children of the unit, each with 20 steps (copies of the recommendation's
    // first step): in the unit 5 open and 5 done, in other units of the municipality 10 more.
    await t.asOwner(async (db) => {
      await sql`
        INSERT INTO children (municipality_id, external_ref, given_name, family_name, birth_date)
        SELECT municipality_id, 'seed-' || g, 'Barn', 'Nummer ' || g, birth_date
        FROM generate_series(1, 2000) g, children c WHERE c.id = ${child.id}
      `.execute(db);
      await sql`
        INSERT INTO recommendation_steps (municipality_id, recommendation_id, child_id, unit_id,
          zone, position, step_key, title, description, involve, responsible, mandatory,
          legal_reference, purpose, source, due_on, status)
        SELECT s.municipality_id, s.recommendation_id, c.id,
               CASE WHEN g <= 10 THEN s.unit_id ELSE gen_random_uuid() END,
               s.zone, 1000 + row_number() OVER (), s.step_key, s.title, s.description,
               s.involve, s.responsible, s.mandatory, s.legal_reference, s.purpose, s.source,
               date '2026-01-01' + ((g * 37 + c.n) % 700)::int,
               CASE WHEN g % 2 = 0 THEN 'open' ELSE 'done' END
        FROM (SELECT id, row_number() OVER () AS n FROM children
              WHERE external_ref LIKE 'seed-%' AND municipality_id = ${s.municipality.id}) c,
             generate_series(1, 20) g,
             (SELECT * FROM recommendation_steps WHERE child_id = ${child.id} LIMIT 1) s
      `.execute(db);
      await sql`ANALYZE children`.execute(db);
      await sql`ANALYZE recommendation_steps`.execute(db);
    });
    const leader = await createKey(t, s.municipality.id, 'unit_leader', { unitIds: [s.unit.id] });
    const unitPage = await planOf(`/v1/worklist?unitId=${s.unit.id}&limit=50`, leader.token);
    expect(unitPage.index?.['Index Name']).toBe('recommendation_steps_unit_status_due_idx');
    expect(unitPage.sorted).toBe(false);
    expect(unitPage.index?.['Actual Rows']).toBeLessThanOrEqual(51);
    // The municipality's worklist (an administrator's) likewise.
    const all = await planOf('/v1/worklist?limit=50', s.admin.token);
    expect(all.index?.['Index Name']).toBe('recommendation_steps_municipality_status_due_idx');
    expect(all.sorted).toBe(false);
    expect(all.index?.['Actual Rows']).toBeLessThanOrEqual(51);

    /** The plan of the worklist query a request sends, as the service's role runs it. */
    async function planOf(path: string, token: string) {
      t.log.clear();
      const page = await t.call('GET', path, { token });
      expect(page.statusCode, page.body).toBe(200);
      expect(page.json().items).toHaveLength(50);
      const query = t.log.queries.find((q) => q.sql.includes('from "recommendation_steps"'));
      if (!query) throw new Error('the worklist query was not seen');
      // A generic plan in these tests (plan_cache_mode), as a prepared statement gets one.
      const explained = await t.database.transaction(
        municipalityScope(s.municipality.id),
        async (trx) => {
          await trx.executeQuery(CompiledQuery.raw(`PREPARE worklist_page AS ${query.sql}`));
          const values = query.parameters.map((p) =>
            typeof p === 'string' ? `'${p.replace(/'/g, "''")}'` : String(p),
          );
          const explain = CompiledQuery.raw(
            `EXPLAIN (ANALYZE, FORMAT JSON) EXECUTE worklist_page(${values.join(', ')})`,
          );
          await trx.executeQuery(explain); // warm: the second execution is the one measured
          const { rows } = await trx.executeQuery<{
            'QUERY PLAN': [{ Plan: PlanNode; 'Execution Time': number }];
          }>(explain);
          await trx.executeQuery(CompiledQuery.raw('DEALLOCATE worklist_page'));
          const first = rows[0];
          if (!first) throw new Error('no plan');
          return first['QUERY PLAN'][0];
        },
      );
      const plan = nodes(explained.Plan);
      console.info(
        `[worklist plan] ${path.split('?')[1]}: ${explained['Execution Time']} ms; ${plan
          .map(
            (n) =>
              `${n['Node Type']}${n['Index Name'] ? ` (${n['Index Name']})` : ''}: ${n['Actual Rows']}`,
          )
          .join(' > ')}`,
      );
      return {
        index: plan.find((n) => n['Index Name']?.startsWith('recommendation_steps_')),
        sorted: plan.some((n) => n['Node Type'] === 'Sort'),
      };
    }
  });
});
