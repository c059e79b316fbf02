import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { killAll, startServer, waitFor } from '../support/processes.js';

/**
 * A roster import through the real process: the file streamed over a socket in chunks without
 * a length (as a large upload arrives), processed by the server's own import worker; and a
 * file over IMPORT_MAX_BYTES answered 413 on the same kind of connection.
 */
afterAll(killAll);

// biome-ignore lint/suspicious/noExplicitAny: response bodies are checked by the assertions
const json = async (res: Response): Promise<any> => res.json();

const HEADER = 'externalRef,givenName,birthDate,unitExternalRef,startDate\n';

/** A body sent chunk by chunk (chunked transfer encoding: no Content-Length). */
function streamed(rows: number, from = 0): ReadableStream<Uint8Array> {
  const encoder = new TextEncoder();
  let at = from;
  let headerSent = false;
  return new ReadableStream({
    pull(controller) {
      if (!headerSent) {
        headerSent = true;
        controller.enqueue(encoder.encode(HEADER));
        return;
      }
      if (at >= from + rows) {
        controller.close();
        return;
      }
      let block = '';
      for (let i = at; i < Math.min(at + 500, from + rows); i++) {
        block += `proc-${i},Barn,2020-03-${String((i % 28) + 1).padStart(2, '0')},inst-P,2024-08-01\n`;
      }
      at += 500;
      controller.enqueue(encoder.encode(block));
    },
  });
}

describe('roster import through the server process', () => {
  it('streams a file in, processes it in the background, and refuses one over the limit', async () => {
    const dataDir = mkdtempSync(path.join(tmpdir(), 'lineal-imports-'));
    const server = await startServer({ LINEAL_DATA_DIR: dataDir, IMPORT_MAX_BYTES: '500000' });
    try {
      const platform =
        (await waitFor(server, /^\s+(lnl_[0-9a-f]{16}_[A-Za-z0-9_-]{43})$/m))[1] ?? '';
      const call = (token: string, method: string, url: string, body?: unknown) =>
        fetch(`${server.base}${url}`, {
          method,
          headers: {
            authorization: `Bearer ${token}`,
            ...(body ? { 'content-type': 'application/json' } : {}),
          },
          ...(body ? { body: JSON.stringify(body) } : {}),
        });
      const municipality = await json(
        await call(platform, 'POST', '/v1/municipalities', { code: '101', name: 'København' }),
      );
      const key = await json(
        await call(platform, 'POST', `/v1/municipalities/${municipality.id}/api-keys`, {
          name: 'school system',
          role: 'integration',
          unitIds: [],
        }),
      );
      const unit = await call(key.token, 'POST', '/v1/units', {
        name: 'Skolen',
        kind: 'school',
        externalRef: 'inst-P',
      });
      expect(unit.status).toBe(201);

      const upload = (body: ReadableStream<Uint8Array>) =>
        fetch(`${server.base}/v1/imports`, {
          method: 'POST',
          headers: { authorization: `Bearer ${key.token}`, 'content-type': 'text/csv' },
          body,
          duplex: 'half',
        } as RequestInit);

      const res = await upload(streamed(5000));
      expect(res.status).toBe(202);
      const job = await json(res);
      expect(res.headers.get('location')).toBe(`/v1/imports/${job.id}`);
      expect(job).toMatchObject({ status: 'queued', rowsTotal: 5000 });

      let current = job;
      const deadline = Date.now() + 60_000;
      while (current.status !== 'succeeded' && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 200));
        current = await json(await call(key.token, 'GET', `/v1/imports/${job.id}`));
      }
      expect(current.status).toBe('succeeded');
      expect(current.counts).toEqual({
        read: 5000,
        created: 5000,
        updated: 0,
        unchanged: 0,
        rejected: 0,
        ended: 0,
      });
      const found = await json(await call(key.token, 'GET', '/v1/children?q=proc-4999'));
      expect(found.items.map((c: { externalRef: string }) => c.externalRef)).toEqual(['proc-4999']);

      // About 40 bytes a row: 20,000 rows pass 500,000 bytes mid-stream.
      const big = await upload(streamed(20_000, 10_000));
      expect(big.status).toBe(413);
      expect((await json(big)).detail).toContain('500000 bytes');
      // The service is still there for the next request.
      expect((await call(key.token, 'GET', `/v1/imports/${job.id}`)).status).toBe(200);
    } finally {
      server.child.kill('SIGKILL');
    }
  }, 120_000);
});
