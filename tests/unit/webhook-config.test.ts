import { describe, expect, it } from 'vitest';
import { ConfigError, DEFAULT_WEBHOOK_CONFIG, loadConfig } from '../../src/config.js';

describe('webhook configuration', () => {
  it('defaults to https-only targets, 10 s, 8 attempts from 30 s up to 6 h, a pass a second', () => {
    expect(loadConfig({}).webhooks).toEqual({
      allowHosts: [],
      timeoutMs: 10_000,
      maxAttempts: 8,
      retryBaseMs: 30_000,
      retryMaxMs: 21_600_000,
      intervalMs: 1_000,
    });
    expect(DEFAULT_WEBHOOK_CONFIG).toEqual(loadConfig({}).webhooks);
  });

  it('reads WEBHOOK_*, host names in lower case', () => {
    const config = loadConfig({
      WEBHOOK_ALLOW_HOSTS: ' 127.0.0.1, Hooks.Intern.dk ,',
      WEBHOOK_TIMEOUT_MS: '2500',
      WEBHOOK_MAX_ATTEMPTS: '3',
      WEBHOOK_RETRY_BASE_MS: '100',
      WEBHOOK_RETRY_MAX_MS: '1000',
      WEBHOOK_INTERVAL_MS: '0',
    });
    expect(config.webhooks).toEqual({
      allowHosts: ['127.0.0.1', 'hooks.intern.dk'],
      timeoutMs: 2_500,
      maxAttempts: 3,
      retryBaseMs: 100,
      retryMaxMs: 1_000,
      intervalMs: 0,
    });
  });

  it('refuses out-of-range values, naming each variable', () => {
    expect(() => loadConfig({ WEBHOOK_TIMEOUT_MS: '10', WEBHOOK_MAX_ATTEMPTS: '0' })).toThrow(
      ConfigError,
    );
    try {
      loadConfig({ WEBHOOK_TIMEOUT_MS: '10', WEBHOOK_MAX_ATTEMPTS: '0' });
    } catch (error) {
      expect((error as Error).message).toContain('WEBHOOK_TIMEOUT_MS');
      expect((error as Error).message).toContain('WEBHOOK_MAX_ATTEMPTS');
    }
  });
});
