import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
const json = async (res: Response): Promise<any> => res.json();

import {
  adminQuery,
  dropDatabase,
  TEST_APP_PASSWORD,
  TEST_APP_ROLE,
  uniqueDatabaseName,
  withCredentials,
  withDatabase,
} from '../support/postgres-admin.js';
import { killAll, launch, startServer, waitFor } from '../support/processes.js';

/** The real process: start-up, the first key, persistence, the data-directory lock, shutdown. */
afterAll(killAll);

describe('the server process on the embedded engine', () => {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'lineal-process-'));
  const cprSecret = () => readFileSync(path.join(dataDir, 'cpr-secret'), 'utf8');
  let token = '';
  let firstSecret = '';

  it('starts, prints the first key once, and serves health, docs and the API', async () => {
    const server = await startServer({ LINEAL_DATA_DIR: dataDir });
    try {
      token = (await waitFor(server, /^\s+(lnl_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/m))[1] ?? '';
      expect((await fetch(`${server.base}/healthz`)).status).toBe(200);
      const ready = await fetch(`${server.base}/readyz`);
      expect(await ready.json()).toMatchObject({ status: 'ready' });
      expect((await fetch(`${server.base}/docs/`)).status).toBe(200);
      expect((await json(await fetch(`${server.base}/openapi.json`))).openapi).toBe('3.1.0');
      const created = await fetch(`${server.base}/v1/municipalities`, {
        method: 'POST',
        headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
        body: JSON.stringify({ code: '751', name: 'Aarhus' }),
      });
      expect(created.status).toBe(201);
      // Without LINEAL_CPR_SECRET the embedded engine generated one into the data directory.
      firstSecret = cprSecret();
      expect(firstSecret).toMatch(/^[0-9a-f]{64}$/);

      // A second process on the same data directory fails with a clear message.
      const second = launch('src/server.ts', { PORT: '0', LINEAL_DATA_DIR: dataDir });
      expect(await second.exited).toBe(1);
      expect(second.output()).toMatch(/in use by another lineal process \(pid \d+\)/);

      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
      expect(server.output()).toContain('"msg":"stopped"');
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('keeps its data across a restart and prints no new key', async () => {
    const server = await startServer({ LINEAL_DATA_DIR: dataDir });
    try {
      expect(server.output()).not.toMatch(/lnl_[0-9a-f]{16}_/);
      expect(cprSecret()).toBe(firstSecret);
      const res = await fetch(`${server.base}/v1/municipalities`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(res.status).toBe(200);
      expect((await json(res)).items.map((m: { code: string }) => m.code)).toEqual(['751']);
      server.child.kill('SIGINT');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });

  it('exits non-zero listing every invalid variable', async () => {
    const bad = launch('src/server.ts', {
      PORT: 'abc',
      LOG_LEVEL: 'loud',
      LINEAL_DATA_DIR: dataDir,
    });
    expect(await bad.exited).toBe(1);
    expect(bad.output()).toMatch(/Invalid configuration/);
    expect(bad.output()).toMatch(/PORT/);
    expect(bad.output()).toMatch(/LOG_LEVEL/);
  });
});

describe.skipIf(!inject('postgresAdminUrl'))('the server process on PostgreSQL', () => {
  const adminUrl = inject('postgresAdminUrl');
  const name = uniqueDatabaseName('lineal_proc');
  const CPR = 'process-test-cpr-secret-0123456789abcdef';
  afterAll(() => dropDatabase(adminUrl, name));

  it('migrates with the CLI, refuses an RLS-bypassing role, and serves as the app role', async () => {
    await adminQuery(adminUrl, [`CREATE DATABASE "${name}"`]);
    const ownerUrl = withDatabase(adminUrl, name);
    const appUrl = withCredentials(ownerUrl, TEST_APP_ROLE, TEST_APP_PASSWORD);

    // The README's line: the owner's URL alone migrates that database, not ./data.
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lineal-unused-'));
    const migrate = launch(
      'src/cli.ts',
      { DATABASE_MIGRATION_URL: ownerUrl, LINEAL_DATA_DIR: dataDir },
      ['migrate'],
    );
    expect(await migrate.exited, migrate.output()).toBe(0);
    expect(migrate.output()).toMatch(
      new RegExp(
        `Applied to PostgreSQL database ${name} on 127\\.0\\.0\\.1:\\d+ as postgres: \\d{8}_\\d{6}_foundation`,
      ),
    );
    expect(readdirSync(dataDir)).toEqual([]);
    const again = launch('src/cli.ts', { DATABASE_URL: ownerUrl, LINEAL_CPR_SECRET: CPR }, [
      'migrate',
    ]);
    expect(await again.exited).toBe(0);
    expect(again.output()).toMatch(/Already up to date: PostgreSQL database /);

    const owner = launch('src/server.ts', {
      PORT: '0',
      DATABASE_URL: ownerUrl,
      LINEAL_CPR_SECRET: CPR,
    });
    expect(await owner.exited).toBe(1);
    expect(owner.output()).toMatch(/bypasses row-level security \(superuser/);

    const keyed = launch('src/cli.ts', { DATABASE_URL: appUrl, LINEAL_CPR_SECRET: CPR }, [
      'create-platform-key',
    ]);
    expect(await keyed.exited).toBe(0);
    const token = keyed.output().match(/lnl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}/)?.[0];
    expect(token).toBeDefined();

    const server = await startServer({ DATABASE_URL: appUrl, LINEAL_CPR_SECRET: CPR });
    try {
      const ready = await (await fetch(`${server.base}/readyz`)).json();
      expect(ready).toMatchObject({ status: 'ready', checks: { engine: 'postgres' } });
      const me = await fetch(`${server.base}/v1/me`, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect((await json(me)).principal.role).toBe('platform_admin');
      server.child.kill('SIGTERM');
      expect(await server.exited).toBe(0);
    } finally {
      server.child.kill('SIGKILL');
    }
  });
});
