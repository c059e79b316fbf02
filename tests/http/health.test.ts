import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { describeEngines, openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';
import { expectProblem } from '../support/problem.js';

describeEngines('health', (t) => {
  it('/healthz answers while the process is up', async () => {
    const res = await t.call('GET', '/healthz', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ status: 'ok' });
  });

  it('/readyz is ready when the database answers and migrations are current', async () => {
    const res = await t.call('GET', '/readyz', { token: null });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      status: 'ready',
      checks: { engine: t.engine, database: 'ok', migrations: 'current', pendingMigrations: [] },
    });
  });

  it('/readyz is 503 while a migration is pending', async () => {
    const { database, drop, asOwner } = await openTestDatabase(t.engine);
    const app = await buildApp({
      config: { bodyLimitBytes: 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database,
    });
    try {
      const [latest] = await asOwner(async (db) => {
        const rows = await sql<{ name: string }>`
          DELETE FROM kysely_migration
          WHERE name = (SELECT max(name) FROM kysely_migration) RETURNING name
        `.execute(db);
        return rows.rows.map((r) => r.name);
      });
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      const problem = expectProblem(res, 503) as ReturnType<typeof expectProblem> & {
        checks: unknown;
      };
      expect(problem.checks).toEqual({
        engine: t.engine,
        database: 'ok',
        migrations: 'pending',
        pendingMigrations: [latest],
      });
      expect(problem.detail).toContain('npm run migrate');
    } finally {
      await app.close();
      await drop();
    }
  });

  it('/readyz is 503 when the database is gone', async () => {
    const { database, drop } = await openTestDatabase(t.engine);
    const app = await buildApp({
      config: { bodyLimitBytes: 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database,
    });
    await drop();
    try {
      const res = await app.inject({ method: 'GET', url: '/readyz' });
      const problem = expectProblem(res, 503) as ReturnType<typeof expectProblem> & {
        checks: { database: string };
      };
      expect(problem.checks.database).toBe('unreachable');
      expect(problem.detail).toBe('The database does not answer.');
      expect(res.body).not.toMatch(/pool|closed|error/i);
    } finally {
      await app.close();
    }
  });
});
