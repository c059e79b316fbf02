import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.js';

describe('loadConfig', () => {
  it('defaults to the embedded engine on 127.0.0.1:3000 with ./data', () => {
    const config = loadConfig({});
    expect(config.port).toBe(3000);
    expect(config.host).toBe('127.0.0.1');
    expect(config.database).toEqual({ engine: 'pglite', dataDir: './data' });
    expect(config.bodyLimitBytes).toBe(1024 * 1024);
  });

  it('selects PostgreSQL when DATABASE_URL is set, migrating through the same URL by default', () => {
    const config = loadConfig({
      DATABASE_URL: 'postgres://app:pw@db:5432/lineal',
      LINEAL_CPR_SECRET: 'x'.repeat(32),
    });
    expect(config.database).toEqual({
      engine: 'postgres',
      url: 'postgres://app:pw@db:5432/lineal',
      migrationUrl: 'postgres://app:pw@db:5432/lineal',
      poolMax: 10,
      allowRlsBypass: false,
      pooler: 'none',
    });
  });

  it('accepts a multi-host DATABASE_URL (libpq host list, target_session_attrs)', () => {
    const url =
      'postgres://app:pw@127.0.0.1:6501,127.0.0.1:6502/lineal?target_session_attrs=read-write';
    const config = loadConfig({ DATABASE_URL: url, LINEAL_CPR_SECRET: 'x'.repeat(32) });
    expect(config.database).toMatchObject({ engine: 'postgres', url, migrationUrl: url });
    expect(
      loadConfig({
        DATABASE_URL: 'postgres://db/lineal',
        DATABASE_MIGRATION_URL: 'postgresql://owner@[::1]:5432,[::2]:5433/lineal',
        LINEAL_CPR_SECRET: 'x'.repeat(32),
      }).database,
    ).toMatchObject({ migrationUrl: 'postgresql://owner@[::1]:5432,[::2]:5433/lineal' });
  });

  it.each([
    ['postgres://h1:5432,h2:99999/lineal', 'port "99999"'],
    ['postgres://h1,h2/lineal?target_session_attrs=standby', 'target_session_attrs=standby'],
    ['postgres://h1,,h2/lineal', 'empty'],
    ['postgres:/h1/lineal', 'must be a postgres://'],
    ['postgres://db lineal', 'must be a postgres://'],
  ])('rejects DATABASE_URL %s, saying why', (url, reason) => {
    expect(() => loadConfig({ DATABASE_URL: url, LINEAL_CPR_SECRET: 'x'.repeat(32) })).toThrow(
      `DATABASE_URL: must be a postgres:// or postgresql:// URL`,
    );
    expect(() => loadConfig({ DATABASE_URL: url, LINEAL_CPR_SECRET: 'x'.repeat(32) })).toThrow(
      reason,
    );
  });

  it('takes a read replica (DATABASE_REPLICA_URL) and its lag bound, only with DATABASE_URL', () => {
    const base = { DATABASE_URL: 'postgres://db/lineal', LINEAL_CPR_SECRET: 'x'.repeat(32) };
    expect(loadConfig(base).database).not.toHaveProperty('replica');
    expect(
      loadConfig({ ...base, DATABASE_REPLICA_URL: 'postgres://replica/lineal' }).database,
    ).toMatchObject({ replica: { url: 'postgres://replica/lineal', maxLagSeconds: 30 } });
    expect(
      loadConfig({
        ...base,
        DATABASE_REPLICA_URL: 'postgres://replica/lineal',
        DATABASE_REPLICA_MAX_LAG_SECONDS: '5',
      }).database,
    ).toMatchObject({ replica: { maxLagSeconds: 5 } });
    expect(() => loadConfig({ ...base, DATABASE_REPLICA_URL: 'mysql://replica/x' })).toThrow(
      'DATABASE_REPLICA_URL: must be a postgres://',
    );
    expect(() =>
      loadConfig({
        ...base,
        DATABASE_REPLICA_URL: 'postgres://r/l',
        DATABASE_REPLICA_MAX_LAG_SECONDS: '0',
      }),
    ).toThrow('DATABASE_REPLICA_MAX_LAG_SECONDS');
    expect(() => loadConfig({ DATABASE_REPLICA_URL: 'postgres://replica/lineal' })).toThrow(
      'DATABASE_REPLICA_URL: has no effect without DATABASE_URL',
    );
  });

  it('requires If-Match on changes only with REQUIRE_IF_MATCH', () => {
    expect(loadConfig({}).etag).toEqual({ requireIfMatch: false });
    expect(loadConfig({ REQUIRE_IF_MATCH: 'true' }).etag).toEqual({ requireIfMatch: true });
    expect(() => loadConfig({ REQUIRE_IF_MATCH: 'sometimes' })).toThrow(ConfigError);
  });

  it('treats empty variables as unset', () => {
    expect(loadConfig({ DATABASE_URL: '', PORT: '' }).database.engine).toBe('pglite');
  });

  it('reports every invalid variable at once', () => {
    let caught: unknown;
    try {
      loadConfig({
        PORT: 'abc',
        LOG_LEVEL: 'loud',
        DATABASE_URL: 'mysql://x/y',
        BODY_LIMIT_BYTES: '10',
        DATABASE_ALLOW_RLS_BYPASS: 'maybe',
        LINEAL_CPR_SECRET: 'short',
      });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConfigError);
    const problems = (caught as ConfigError).problems;
    expect(problems.map((p) => p.split(':')[0]).sort()).toEqual([
      'BODY_LIMIT_BYTES',
      'DATABASE_ALLOW_RLS_BYPASS',
      'DATABASE_URL',
      'LINEAL_CPR_SECRET',
      'LOG_LEVEL',
      'PORT',
    ]);
    expect((caught as Error).message).toContain('PORT');
    expect((caught as Error).message).toContain('DATABASE_URL: must be a postgres://');
  });

  it('requires a CPR key with PostgreSQL', () => {
    expect(() => loadConfig({ DATABASE_URL: 'postgres://db/lineal' })).toThrow(
      /LINEAL_CPR_SECRET: required with DATABASE_URL/,
    );
    expect(loadConfig({}).cprSecret).toBeUndefined();
  });

  it('rejects out-of-range ports', () => {
    expect(() => loadConfig({ PORT: '70000' })).toThrow(/PORT/);
  });

  describe('OIDC sign-in', () => {
    const oidcEnv = {
      OIDC_ISSUER: 'https://login.kommune.example/realms/lineal',
      OIDC_AUDIENCE: 'lineal-api',
      OIDC_JWKS_URL: 'https://login.kommune.example/realms/lineal/protocol/openid-connect/certs',
    };

    it('is off unless OIDC_ISSUER is set', () => {
      expect(loadConfig({}).oidc).toBeUndefined();
      expect(loadConfig({ OIDC_ISSUER: '' }).oidc).toBeUndefined();
    });

    it('has defaults for the algorithms, claim names and clock tolerance', () => {
      expect(loadConfig(oidcEnv).oidc).toEqual({
        issuer: oidcEnv.OIDC_ISSUER,
        audience: 'lineal-api',
        jwksUrl: oidcEnv.OIDC_JWKS_URL,
        algorithms: ['RS256', 'ES256', 'PS256'],
        claims: { municipality: 'municipality', role: 'lineal_role', units: 'lineal_units' },
        clockToleranceSeconds: 30,
      });
    });

    it("publishes the staff app's client with OIDC_APP_CLIENT_ID (and an https issuer)", () => {
      expect(loadConfig({ ...oidcEnv, OIDC_APP_CLIENT_ID: 'lineal-app' }).oidc?.app).toEqual({
        clientId: 'lineal-app',
        scope: 'openid',
      });
      expect(
        loadConfig({
          ...oidcEnv,
          OIDC_APP_CLIENT_ID: 'lineal-app',
          OIDC_APP_SCOPE: 'openid profile',
        }).oidc?.app?.scope,
      ).toBe('openid profile');
      expect(loadConfig(oidcEnv).oidc?.app).toBeUndefined();
      for (const issuer of ['lineal-idp', 'http://idp.example']) {
        expect(() =>
          loadConfig({ ...oidcEnv, OIDC_ISSUER: issuer, OIDC_APP_CLIENT_ID: 'lineal-app' }),
        ).toThrow(/OIDC_ISSUER: must be an https URL/);
      }
      expect(() => loadConfig({ OIDC_APP_CLIENT_ID: 'lineal-app' })).toThrow(
        /OIDC_APP_CLIENT_ID: has no effect without OIDC_ISSUER/,
      );
    });

    it('takes its algorithms, claim names and clock tolerance from the environment', () => {
      const oidc = loadConfig({
        ...oidcEnv,
        OIDC_JWKS_URL: 'http://127.0.0.1:8080/jwks',
        OIDC_ALGORITHMS: ' ES384 , EdDSA ',
        OIDC_CLAIM_MUNICIPALITY: 'kommunekode',
        OIDC_CLAIM_ROLE: 'roles_lineal',
        OIDC_CLAIM_UNITS: 'institutioner',
        OIDC_CLOCK_TOLERANCE_SECONDS: '0',
      }).oidc;
      expect(oidc).toMatchObject({
        jwksUrl: 'http://127.0.0.1:8080/jwks',
        algorithms: ['ES384', 'EdDSA'],
        claims: { municipality: 'kommunekode', role: 'roles_lineal', units: 'institutioner' },
        clockToleranceSeconds: 0,
      });
      for (const host of ['localhost', '[::1]', '127.0.0.2']) {
        expect(loadConfig({ ...oidcEnv, OIDC_JWKS_URL: `http://${host}/jwks` }).oidc).toBeDefined();
      }
    });

    it('requires the audience and JWKS URL with the issuer, reporting every problem at once', () => {
      let caught: unknown;
      try {
        loadConfig({ OIDC_ISSUER: 'https://idp.example', PORT: 'abc' });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(ConfigError);
      expect((caught as ConfigError).problems).toEqual([
        expect.stringMatching(/^PORT:/),
        'OIDC_AUDIENCE: required with OIDC_ISSUER',
        'OIDC_JWKS_URL: required with OIDC_ISSUER',
      ]);
    });

    it('rejects HMAC algorithms, none and unknown algorithms', () => {
      let caught: unknown;
      try {
        loadConfig({ ...oidcEnv, OIDC_ALGORITHMS: 'RS256,HS256,none,XX1' });
      } catch (error) {
        caught = error;
      }
      const problems = (caught as ConfigError).problems;
      expect(problems).toHaveLength(3);
      expect(problems[0]).toMatch(/^OIDC_ALGORITHMS: HS256 is not allowed/);
      expect(problems[1]).toMatch(/^OIDC_ALGORITHMS: none is not allowed/);
      expect(problems[2]).toMatch(/^OIDC_ALGORITHMS: XX1 is not allowed/);
      for (const value of ['HS512', ',', 'hs256']) {
        expect(() => loadConfig({ ...oidcEnv, OIDC_ALGORITHMS: value })).toThrow(/OIDC_ALGORITHMS/);
      }
    });

    it('accepts the JWKS over https, or http only on a loopback host', () => {
      for (const url of [
        'http://idp.example/jwks',
        'http://10.0.0.1/jwks',
        'ftp://x/jwks',
        'nope',
      ]) {
        expect(() => loadConfig({ ...oidcEnv, OIDC_JWKS_URL: url })).toThrow(/OIDC_JWKS_URL/);
      }
    });

    it('rejects an out-of-range clock tolerance', () => {
      for (const value of ['-1', '301', '1.5', 'soon']) {
        expect(() => loadConfig({ ...oidcEnv, OIDC_CLOCK_TOLERANCE_SECONDS: value })).toThrow(
          /OIDC_CLOCK_TOLERANCE_SECONDS/,
        );
      }
    });

    it('refuses OIDC settings without OIDC_ISSUER (a typo would silently turn sign-in off)', () => {
      expect(() =>
        loadConfig({ OIDC_AUDIENCE: 'lineal-api', OIDC_ISSUR: 'https://idp.example' }),
      ).toThrow(/OIDC_AUDIENCE: has no effect without OIDC_ISSUER[\s\S]*OIDC_ISSUR:/);
    });
  });
});
