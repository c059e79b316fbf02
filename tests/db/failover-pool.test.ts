import { describe, expect, inject, it } from 'vitest';
import { parseConnectionString, urlForHost } from '../../src/connection-string.js';
import { isDatabaseUnavailable } from '../../src/db/errors.js';
import {
  createPgPool,
  NoUsableServerError,
  ReadOnlyServerError,
} from '../../src/db/failover-pool.js';

/**
 * The pool behind a multi-host DATABASE_URL (src/db/failover-pool.ts) against the shared test
 * server: a host that refuses connections is skipped, a read-only server is refused for
 * read-write, and a connection whose server turns read-only leaves the pool when released.
 * tests/process/multi-host.test.ts runs the service itself through a switchover.
 */
const adminUrl = inject('postgresAdminUrl');

/** The admin URL with `hosts` (host:port text) in place of its host, plus a query. */
function withHosts(hosts: (port: number) => string, query: string): string {
  const cs = parseConnectionString(adminUrl);
  const server = cs.hosts[0] as { host: string; port: number };
  const one = urlForHost(cs, server);
  return one.replace(`${server.host}:${server.port}`, hosts(server.port)) + query;
}

/** Nothing listens on port 1 of the loopback: connections are refused at once. */
const REFUSED = '127.0.0.1:1';

describe.skipIf(!adminUrl)('the failover pool (PostgreSQL)', () => {
  it('skips a host that refuses connections and stays on the one that works', async () => {
    const url = withHosts(
      (port) => `${REFUSED},127.0.0.1:${port}`,
      '?target_session_attrs=read-write',
    );
    const pool = createPgPool(url, { max: 2 });
    try {
      for (let i = 0; i < 3; i++) {
        const { rows } = await pool.query('SELECT inet_server_port() AS port');
        expect(rows[0].port).toBe(parseConnectionString(adminUrl).hosts[0]?.port);
      }
    } finally {
      await pool.end();
    }
  });

  it('fails with every host’s reason when none is usable: a 503', async () => {
    const pool = createPgPool(`postgres://u@${REFUSED},127.0.0.1:2/db`, { max: 1 });
    try {
      const error = await pool.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(NoUsableServerError);
      expect((error as AggregateError).errors).toHaveLength(2);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await pool.end();
    }
  });

  it('refuses a read-only server for read-write, and accepts it for any', async () => {
    const options = encodeURIComponent('-c default_transaction_read_only=on');
    const readOnly = withHosts(
      (port) => `127.0.0.1:${port}`,
      `?options=${options}&target_session_attrs=read-write`,
    );
    const pool = createPgPool(readOnly, { max: 1 });
    try {
      const error = await pool.query('SELECT 1').then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(error).toBeInstanceOf(ReadOnlyServerError);
      expect(isDatabaseUnavailable(error)).toBe(true);
    } finally {
      await pool.end();
    }
    const any = createPgPool(readOnly.replace('read-write', 'any'), { max: 1 });
    try {
      expect((await any.query('SHOW transaction_read_only')).rows).toEqual([
        { transaction_read_only: 'on' },
      ]);
    } finally {
      await any.end();
    }
  });

  it('closes a connection whose server turned read-only (25006) when it is released', async () => {
    const url = withHosts(
      (port) => `${REFUSED},127.0.0.1:${port}`,
      '?target_session_attrs=read-write',
    );
    const pool = createPgPool(url, { max: 1 });
    try {
      const client = await pool.connect();
      const pid = (await client.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      // As a demoted primary's sessions see it after the reload.
      await client.query('SET default_transaction_read_only = on');
      const error = await client.query('CREATE TEMP TABLE t (x int)').then(
        () => undefined,
        (e: { code?: string }) => e,
      );
      expect(error?.code).toBe('25006');
      client.release();
      expect(pool.totalCount).toBe(0);
      const next = (await pool.query('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      expect(next).not.toBe(pid);
      // A connection without such an error goes back to the pool as usual.
      const again = await pool.connect();
      again.release();
      expect(pool.totalCount).toBe(1);
    } finally {
      await pool.end();
    }
  });
});
