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
    });
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
});
