import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openSecret, sealSecret } from '../../src/features/webhooks/secret-box.js';
import { sendWebhook } from '../../src/features/webhooks/send.js';
import { isNonPublicAddress, targetUrlProblems } from '../../src/features/webhooks/target.js';

describe('webhook targets', () => {
  it('knows the non-public addresses', () => {
    for (const address of [
      '127.0.0.1',
      '10.1.2.3',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.1',
      '169.254.169.254',
      '100.64.0.1',
      '0.0.0.0',
      '::1',
      '::',
      'fe80::1',
      'fd00::1',
      '::ffff:127.0.0.1',
      '::ffff:10.0.0.1',
      'not-an-address',
    ]) {
      expect(isNonPublicAddress(address), address).toBe(true);
    }
    for (const address of ['8.8.8.8', '172.32.0.1', '93.184.216.34', '2a00:1450:4001::1']) {
      expect(isNonPublicAddress(address), address).toBe(false);
    }
  });

  it('accepts https to public hosts, http and private addresses only for allowed hosts', () => {
    expect(targetUrlProblems('https://hooks.example.dk/lineal', [])).toEqual([]);
    expect(targetUrlProblems('http://127.0.0.1:8080/x', ['127.0.0.1'])).toEqual([]);
    expect(targetUrlProblems('https://[::1]/x', ['::1'])).toEqual([]);
    const codes = (url: string, allow: string[] = []) =>
      targetUrlProblems(url, allow).map((p) => p.code);
    expect(codes('http://hooks.example.dk/')).toEqual(['https_required']);
    expect(codes('ftp://hooks.example.dk/')).toEqual(['https_required']);
    expect(codes('https://10.0.0.5/')).toEqual(['private_address']);
    expect(codes('https://169.254.169.254/latest/meta-data')).toEqual(['private_address']);
    expect(codes('https://localhost/')).toEqual(['private_address']);
    expect(codes('http://127.0.0.1/')).toEqual(['https_required', 'private_address']);
    expect(codes('https://user:pw@hooks.example.dk/#x')).toEqual(['credentials', 'fragment']);
    expect(codes('not a url')).toEqual(['invalid_url']);
  });
});

describe('sending a webhook', () => {
  const server = createServer((_req, res) => {
    res.writeHead(200, { 'content-type': 'text/plain' });
    res.end('x'.repeat(1000));
  });
  let port = 0;
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const options = { allowHosts: [] as string[], timeoutMs: 2_000 };

  it('refuses a host that resolves to a private address unless it is allowed', async () => {
    const refused = await sendWebhook(`https://localhost:${port}/`, {}, '{}', options);
    expect(refused).toEqual({
      ok: false,
      statusCode: null,
      error: 'the host resolves to a private, loopback or link-local address',
      excerpt: null,
    });
    const http = await sendWebhook(`http://127.0.0.1:${port}/`, {}, '{}', options);
    expect(http.error).toBe('only https targets are allowed');
  });

  it('keeps only a short excerpt of the response', async () => {
    const sent = await sendWebhook(`http://127.0.0.1:${port}/`, {}, '{}', {
      ...options,
      allowHosts: ['127.0.0.1'],
    });
    expect(sent).toEqual({ ok: true, statusCode: 200, error: null, excerpt: 'x'.repeat(256) });
  });
});

describe('sealing webhook secrets', () => {
  it('opens what it sealed, only with the same deployment secret', () => {
    const sealed = sealSecret('whsec_abc', 'deployment-one');
    expect(sealed).toMatch(/^v1\.[A-Za-z0-9+/=]+$/);
    expect(sealed).not.toBe(sealSecret('whsec_abc', 'deployment-one'));
    expect(openSecret(sealed, 'deployment-one')).toBe('whsec_abc');
    expect(() => openSecret(sealed, 'deployment-two')).toThrow();
    expect(() => openSecret('whsec_abc', 'deployment-one')).toThrow('not a sealed webhook secret');
  });
});
