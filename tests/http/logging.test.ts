import { Writable } from 'node:stream';
import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createLogger } from '../../src/logging.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { createKey, createTenant } from '../support/factories.js';

describeEngines('logging', (t) => {
  it('logs requests with their id but never keys, query strings or bodies', async () => {
    const lines: string[] = [];
    const sink = new Writable({
      write(chunk, _encoding, done) {
        lines.push(String(chunk));
        done();
      },
    });
    const app = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      logger: createLogger('trace', sink),
      now: t.clock.now,
    });
    try {
      const { municipality, admin } = await createTenant(t);
      const secretName = 'Ingrid Sørensen-Testbarn';
      const calls = [
        app.inject({
          method: 'POST',
          url: `/v1/municipalities/${municipality.id}/api-keys`,
          headers: { authorization: `Bearer ${admin.token}`, 'x-request-id': 'req-logging-1' },
          payload: { name: secretName, role: 'analyst' },
        }),
        app.inject({
          method: 'GET',
          url: `/v1/municipalities?cursor=${encodeURIComponent(secretName)}`,
          headers: { authorization: `Bearer ${admin.token}` },
        }),
        app.inject({
          method: 'POST',
          url: '/v1/municipalities',
          headers: { authorization: `Bearer ${t.platformToken}` },
          payload: { code: 'bad', name: secretName },
        }),
        app.inject({
          method: 'GET',
          url: `/v1/nowhere?name=${encodeURIComponent(secretName)}`,
          headers: { authorization: `Bearer ${admin.token}` },
        }),
      ];
      const responses = await Promise.all(calls);
      expect(responses.map((r) => r.statusCode)).toEqual([201, 403, 400, 404]);
      const created = responses[0]?.json() as { token: string };
      const staff = await createKey(t, municipality.id, 'unit_staff', { token: admin.token });

      const log = lines.join('');
      expect(lines.length).toBeGreaterThanOrEqual(8);
      expect(log).toContain('"reqId":"req-logging-1"');
      expect(log).toContain('"route":"/v1/municipalities/:municipalityId/api-keys"');
      for (const secret of [
        admin.token,
        created.token,
        staff.token,
        t.platformToken,
        secretName,
        encodeURIComponent(secretName),
        'Ingrid',
        'Bearer',
      ]) {
        expect(log, `log contains ${secret}`).not.toContain(secret);
      }
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow();
    } finally {
      await app.close();
    }
  });
});
