import { lookup } from 'node:dns/promises';
import http from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import { hostOf, isAllowedHost, isNonPublicAddress } from './target.js';

/** What an attempt to deliver a webhook came to. */
export interface SendResult {
  ok: boolean;
  statusCode: number | null;
  /** Why it failed (null when it succeeded); never the response body. */
  error: string | null;
  /** The start of the response body, at most EXCERPT_BYTES. */
  excerpt: string | null;
}

/** How much of a receiver's response body is kept. */
export const EXCERPT_BYTES = 256;

export interface SendOptions {
  allowHosts: readonly string[];
  /** Connect plus response (headers and the excerpt), in all. */
  timeoutMs: number;
}

/**
 * POSTs one webhook. The host name is resolved here and every address it resolves to is
 * checked (src/features/webhooks/target.ts); the connection goes to the checked address (no
 * second lookup a DNS answer could change in between). Redirects are not followed (a 3xx is a
 * failure), and the answer is read only up to a short excerpt.
 */
export async function sendWebhook(
  target: string,
  headers: Record<string, string>,
  body: string,
  options: SendOptions,
): Promise<SendResult> {
  const fail = (error: string, statusCode: number | null = null, excerpt: string | null = null) =>
    ({ ok: false, statusCode, error, excerpt }) satisfies SendResult;
  let url: URL;
  try {
    url = new URL(target);
  } catch {
    return fail('invalid URL');
  }
  const allowed = isAllowedHost(url, options.allowHosts);
  if (url.protocol !== 'https:' && !(url.protocol === 'http:' && allowed)) {
    return fail('only https targets are allowed');
  }
  const deadline = Date.now() + options.timeoutMs;
  const host = hostOf(url);
  let address: { address: string; family: number };
  try {
    const literal = isIP(host);
    const addresses =
      literal !== 0
        ? [{ address: host, family: literal }]
        : await withTimeout(lookup(host, { all: true }), options.timeoutMs, 'DNS lookup timed out');
    if (!allowed && addresses.some((a) => isNonPublicAddress(a.address))) {
      return fail('the host resolves to a private, loopback or link-local address');
    }
    const first = addresses[0];
    if (!first) return fail('the host does not resolve');
    address = first;
  } catch (error) {
    return fail(error instanceof Error ? error.message : 'DNS lookup failed');
  }
  const pinned: LookupFunction = (_hostname, lookupOptions, callback) => {
    if (lookupOptions.all) callback(null, [address]);
    else callback(null, address.address, address.family);
  };
  const remaining = Math.max(1, deadline - Date.now());
  return new Promise<SendResult>((resolve) => {
    let settled = false;
    const finish = (result: SendResult) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      request.destroy();
      resolve(result);
    };
    const client = url.protocol === 'https:' ? https : http;
    const request = client.request(
      url,
      {
        method: 'POST',
        lookup: pinned,
        headers: {
          ...headers,
          'content-type': 'application/json',
          'content-length': String(Buffer.byteLength(body)),
          'user-agent': 'lineal-webhooks',
        },
      },
      (response) => {
        const statusCode = response.statusCode ?? 0;
        const chunks: Buffer[] = [];
        let length = 0;
        const done = () => {
          const excerpt = Buffer.concat(chunks).subarray(0, EXCERPT_BYTES).toString('utf8');
          const text = excerpt.length > 0 ? excerpt : null;
          if (statusCode >= 200 && statusCode < 300) {
            finish({ ok: true, statusCode, error: null, excerpt: text });
          } else if (statusCode >= 300 && statusCode < 400) {
            finish(fail(`redirect (${statusCode}) not followed`, statusCode, text));
          } else finish(fail(`HTTP ${statusCode}`, statusCode, text));
        };
        response.on('data', (chunk: Buffer) => {
          if (length < EXCERPT_BYTES) chunks.push(chunk);
          length += chunk.length;
          if (length >= EXCERPT_BYTES) done();
        });
        response.on('end', done);
        response.on('error', done);
      },
    );
    const timer = setTimeout(
      () => finish(fail(`timed out after ${options.timeoutMs} ms`)),
      remaining,
    );
    request.on('error', (error) => finish(fail(error.message)));
    request.end(body);
  });
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(message)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}
