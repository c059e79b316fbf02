import fc from 'fast-check';
import { parse as pgParse } from 'pg-connection-string';
import { describe, expect, it } from 'vitest';
import {
  ConnectionStringError,
  describeConnectionString,
  formatConnectionString,
  parseConnectionString,
  urlForHost,
} from '../../src/connection-string.js';

describe('parseConnectionString: libpq host lists that node-postgres cannot read', () => {
  it('reads a host list with target_session_attrs, ports in order', () => {
    const cs = parseConnectionString(
      'postgres://app:pw@10.0.0.1:6501,db2.example:6502,db3/lineal?target_session_attrs=read-write&sslmode=disable',
    );
    expect(cs.hosts).toEqual([
      { host: '10.0.0.1', port: 6501 },
      { host: 'db2.example', port: 6502 },
      { host: 'db3', port: 5432 },
    ]);
    expect(cs).toMatchObject({
      targetSessionAttrs: 'read-write',
      user: 'app',
      password: 'pw',
      database: 'lineal',
      params: { sslmode: 'disable' },
    });
    // What node-postgres gets per host: the same URL with one host, without target_session_attrs.
    const one = urlForHost(cs, cs.hosts[1] as { host: string; port: number });
    expect(one).toBe('postgres://app:pw@db2.example:6502/lineal?sslmode=disable');
    expect(pgParse(one)).toMatchObject({
      user: 'app',
      password: 'pw',
      host: 'db2.example',
      port: '6502',
      database: 'lineal',
      sslmode: 'disable',
    });
  });

  it('reads IPv6 addresses in brackets, with and without a port', () => {
    expect(parseConnectionString('postgresql://[::1]:5433,[fe80::2]/db').hosts).toEqual([
      { host: '::1', port: 5433 },
      { host: 'fe80::2', port: 5432 },
    ]);
    expect(() => parseConnectionString('postgres://::1:5432/db')).toThrow(/brackets/);
  });

  it('decodes percent-encoded credentials and keeps them encoded for node-postgres', () => {
    const cs = parseConnectionString('postgres://us%40er:p%3Aw%2F%40d@h1:1,h2:2/db');
    expect([cs.user, cs.password]).toEqual(['us@er', 'p:w/@d']);
    const one = pgParse(urlForHost(cs, { host: 'h2', port: 2 }));
    expect([one.user, one.password, one.host, one.port]).toEqual(['us@er', 'p:w/@d', 'h2', '2']);
  });

  it('leaves a single-host URL as node-postgres reads it', () => {
    for (const url of [
      'postgres://app:pw@db:5432/lineal',
      'postgres://db/lineal',
      'postgresql://a%20b:c%23d@127.0.0.1:6000/x?sslmode=disable&application_name=lineal',
      'postgres://[::1]:5433/db',
    ]) {
      const cs = parseConnectionString(url);
      expect(cs.hosts).toHaveLength(1);
      expect(cs.targetSessionAttrs).toBe('any');
      const host = cs.hosts[0] as { host: string; port: number };
      const expected = pgParse(url);
      expect(host).toEqual({ host: expected.host, port: Number(expected.port || 5432) });
      expect({ ...pgParse(urlForHost(cs, host)), port: '' }).toEqual({ ...expected, port: '' });
    }
  });

  it.each([
    ['http://db/lineal', /postgres:\/\//],
    ['not a url', /postgres:\/\//],
    ['postgres://h1:5432,h2:0/db', /port "0"/],
    ['postgres://h1:5432,h2:65536/db', /port "65536"/],
    ['postgres://h1:5432,h2:5x/db', /port "5x"/],
    ['postgres://h1:5432,,h3/db', /empty/],
    ['postgres://h1,h2/db?target_session_attrs=standby', /standby is not supported/],
    ['postgres://h1/db?target_session_attrs=read-only', /read-only is not supported/],
    ['postgres://h1,h2/db?host=h3', /host=/],
    ['postgres://u%zz@h1,h2/db', /percent-encoding/],
  ])('rejects %s', (url, message) => {
    expect(() => parseConnectionString(url)).toThrow(ConnectionStringError);
    expect(() => parseConnectionString(url)).toThrow(message);
  });

  it('describes where it points without the password', () => {
    const cs = parseConnectionString('postgres://app:secret@h1:6501,[::1]/lineal');
    expect(describeConnectionString(cs)).toBe(
      'PostgreSQL database lineal on h1:6501,[::1]:5432 as app',
    );
  });

  it('never puts the password in an error', () => {
    expect(() => parseConnectionString('postgres://u:secret@h1,h2:99999/db')).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining('secret') }),
    );
  });

  it('reads back what formatConnectionString writes (property)', () => {
    const label = fc.stringMatching(/^[a-z][a-z0-9-]{0,10}$/);
    const host = fc.oneof(
      fc.array(label, { minLength: 1, maxLength: 3 }).map((parts) => parts.join('.')),
      fc.ipV4(),
      fc.ipV6(),
    );
    const parts = fc.record({
      hosts: fc.array(fc.record({ host, port: fc.integer({ min: 1, max: 65535 }) }), {
        minLength: 1,
        maxLength: 4,
      }),
      targetSessionAttrs: fc.constantFrom('any' as const, 'read-write' as const),
      user: fc.string({ minLength: 1 }),
      password: fc.string(),
      database: fc.string({ minLength: 1 }),
      params: fc.dictionary(
        fc.constantFrom('sslmode', 'application_name', 'connect_timeout'),
        fc.string(),
      ),
    });
    fc.assert(
      fc.property(parts, (p) => {
        const cs = parseConnectionString(formatConnectionString(p));
        expect(cs.hosts).toEqual(p.hosts);
        expect(cs.targetSessionAttrs).toBe(p.targetSessionAttrs);
        expect([cs.user, cs.password, cs.database]).toEqual([p.user, p.password, p.database]);
        expect(cs.params).toEqual(p.params);
      }),
      { numRuns: 300 },
    );
  });
});
