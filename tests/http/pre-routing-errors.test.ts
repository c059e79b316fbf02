import type { AddressInfo } from 'node:net';
import { connect } from 'node:net';
import { Writable } from 'node:stream';
import type { FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { createPlatformAdminKey } from '../../src/features/api-keys/bootstrap.js';
import type { Problem } from '../../src/http/problem.js';
import { createLogger } from '../../src/logging.js';
import { openTestDatabase, TEST_CPR_SECRET } from '../support/engines.js';

/**
 * Errors Fastify and Node raise before a request reaches a route (a URL that cannot be decoded,
 * an over-long path parameter, a request head over Node's limit) and the usual client errors
 * (404, 405, 413, 415), seen on a real socket: app.inject cannot send a 16 KB request head, and
 * only a socket shows whether the server closes the connection. Pure HTTP, so one engine.
 */

interface RawResponse {
  statusLine: string;
  headers: Record<string, string>;
  body: string;
  /** The server closed the connection after the response. */
  closed: boolean;
}

/** Sends `head` (and `body`) on a fresh connection; reads one response and whether it closes. */
function rawRequest(port: number, head: string, body = ''): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let data = Buffer.alloc(0);
    let parsed: Omit<RawResponse, 'closed'> | undefined;
    let settleTimer: NodeJS.Timeout | undefined;
    const finish = (closed: boolean) => {
      clearTimeout(settleTimer);
      socket.destroy();
      if (parsed) resolve({ ...parsed, closed });
      else reject(new Error(`no complete response: ${data.toString('latin1').slice(0, 200)}`));
    };
    const tryParse = () => {
      const text = data.toString('latin1');
      const end = text.indexOf('\r\n\r\n');
      if (end === -1 || parsed) return;
      const [statusLine = '', ...lines] = text.slice(0, end).split('\r\n');
      const headers: Record<string, string> = {};
      for (const line of lines) {
        const colon = line.indexOf(':');
        headers[line.slice(0, colon).trim().toLowerCase()] = line.slice(colon + 1).trim();
      }
      const length = Number(headers['content-length']);
      const rest = data.subarray(Buffer.byteLength(text.slice(0, end + 4), 'latin1'));
      if (!Number.isFinite(length) || rest.length < length) return;
      parsed = { statusLine, headers, body: rest.subarray(0, length).toString('utf8') };
      // A connection kept alive stays open: give the server a moment to close it.
      settleTimer = setTimeout(() => finish(false), 300);
    };
    socket.on('data', (chunk: Buffer) => {
      data = Buffer.concat([data, chunk]);
      tryParse();
    });
    socket.on('end', () => finish(true));
    socket.on('error', (error) => (parsed ? finish(true) : reject(error)));
    socket.write(head);
    if (body) socket.write(body);
  });
}

const get = (path: string, extraHeaders = '') =>
  `GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${extraHeaders}\r\n`;

/** Headers that describe this one response rather than the server's policy. */
const PER_RESPONSE = new Set([
  'date',
  'content-length',
  'content-type',
  'connection',
  'keep-alive',
  'x-request-id',
  'allow',
]);

describe('errors raised before routing', () => {
  let app: FastifyInstance;
  let drop: () => Promise<void>;
  let port: number;
  let token: string;
  /** The security headers of an ordinary problem response (a 404 from the router). */
  let usual: Record<string, string>;
  const logLines: string[] = [];

  beforeAll(async () => {
    const opened = await openTestDatabase('pglite');
    drop = opened.drop;
    app = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database: opened.database,
      logger: createLogger(
        'trace',
        new Writable({
          write(chunk, _encoding, done) {
            logLines.push(String(chunk));
            done();
          },
        }),
      ),
    });
    token = (await createPlatformAdminKey(opened.database, 'pre-routing test')).token;
    await app.listen({ host: '127.0.0.1', port: 0 });
    port = (app.server.address() as AddressInfo).port;
    const notFound = await rawRequest(port, get('/v1/no-such-thing'));
    usual = Object.fromEntries(
      Object.entries(notFound.headers).filter(([name]) => !PER_RESPONSE.has(name)),
    );
  });

  afterAll(async () => {
    await app?.close();
    await drop?.();
  });

  /** A problem+json response with the usual security headers that does not echo `secrets`. */
  function expectProblem(res: RawResponse, status: number, secrets: string[] = []): Problem {
    expect(res.statusLine, res.body).toMatch(new RegExp(`^HTTP/1\\.1 ${status} `));
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.headers['x-content-type-options']).toBe('nosniff');
    expect(res.headers).toMatchObject(usual);
    const problem = JSON.parse(res.body) as Problem;
    expect(problem).toMatchObject({
      status,
      title: expect.any(String),
      detail: expect.any(String),
    });
    expect(problem.requestId).toBe(res.headers['x-request-id']);
    for (const secret of secrets) expect(res.body).not.toContain(secret);
    return problem;
  }

  it('the usual headers include the security headers', () => {
    expect(usual).toMatchObject({
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
    expect(usual['content-security-policy']).toContain("default-src 'none'");
  });

  it('400 bad-url for a malformed percent-escape, without the URL, closing', async () => {
    const res = await rawRequest(port, get('/v1/children/%E0%A4%A?search=Jensen'));
    const problem = expectProblem(res, 400, ['Jensen', '%E0', 'children']);
    expect(problem.type).toBe('urn:lineal:problem:bad-url');
    expect(res.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('414 uri-too-long for an over-long path parameter, without the URL, closing', async () => {
    const long = `0101901234${'a'.repeat(300)}`;
    const res = await rawRequest(port, get(`/v1/children/${long}?search=Jensen`));
    const problem = expectProblem(res, 414, ['Jensen', '0101901234', 'children']);
    expect(problem.type).toBe('urn:lineal:problem:uri-too-long');
    expect(res.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('431 header-fields-too-large for a 16 KB URL, without the URL, closing', async () => {
    const res = await rawRequest(port, get(`/v1/children?search=Jensen${'x'.repeat(16 * 1024)}`));
    const problem = expectProblem(res, 431, ['Jensen', 'children']);
    expect(problem.type).toBe('urn:lineal:problem:header-fields-too-large');
    expect(res.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('431 also for one over-long header', async () => {
    const res = await rawRequest(
      port,
      get('/v1/me', `x-filler: Jensen${'y'.repeat(20 * 1024)}\r\n`),
    );
    const problem = expectProblem(res, 431, ['Jensen', '/v1/me']);
    expect(problem.type).toBe('urn:lineal:problem:header-fields-too-large');
    expect(res.closed).toBe(true);
  });

  it('400 bad-request for a request Node cannot parse, closing', async () => {
    const res = await rawRequest(port, 'GET /v1/me?search=Jensen HTTP/1.1\r\nHost 127\r\n\r\n');
    const problem = expectProblem(res, 400, ['Jensen']);
    expect(problem.type).toBe('urn:lineal:problem:bad-request');
    expect(res.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('404 and 405 are problems with the usual headers', async () => {
    const notFound = await rawRequest(port, get('/v1/no-such-thing?search=Jensen'));
    expect(expectProblem(notFound, 404, ['Jensen']).instance).toBe('/v1/no-such-thing');
    const wrongMethod = await rawRequest(
      port,
      `DELETE /v1/municipalities HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer ${token}\r\n\r\n`,
    );
    expectProblem(wrongMethod, 405);
    expect(wrongMethod.headers.allow).toBe('GET, HEAD, POST');
  });

  it('413 for a body over the limit, closing instead of reading the rest', async () => {
    const head =
      'POST /v1/municipalities HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${token}\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${10 * 1024 * 1024}\r\n\r\n`;
    const res = await rawRequest(port, head, '{"code":"101","name":"');
    const problem = expectProblem(res, 413);
    expect(problem.type).toBe('urn:lineal:problem:payload-too-large');
    expect(res.headers.connection).toBe('close');
    expect(res.closed).toBe(true);
  });

  it('415 for a body that is not JSON', async () => {
    const body = 'code=101';
    const head =
      'POST /v1/municipalities HTTP/1.1\r\nHost: 127.0.0.1\r\n' +
      `Authorization: Bearer ${token}\r\nContent-Type: application/x-www-form-urlencoded\r\n` +
      `Content-Length: ${body.length}\r\n\r\n`;
    const problem = expectProblem(await rawRequest(port, head, body), 415);
    expect(problem.type).toBe('urn:lineal:problem:unsupported-media-type');
  });

  it('logs the rejections without the URL', async () => {
    logLines.length = 0;
    const secret = 'Ingrid-Testbarn';
    await rawRequest(port, get(`/v1/children/%E0%A4%A?search=${secret}`));
    await rawRequest(port, get(`/v1/children/${secret}${'a'.repeat(300)}`));
    await rawRequest(port, get(`/v1/children?search=${secret}${'x'.repeat(16 * 1024)}`));
    const log = logLines.join('');
    expect(log).not.toContain(secret);
    expect(log).not.toContain('/v1/children');
    const rejected = logLines.map((line) => JSON.parse(line)).filter((l) => l.status >= 400);
    expect(rejected.map((l) => [l.status, l.code])).toEqual([
      [400, 'FST_ERR_BAD_URL'],
      [414, 'FST_ERR_MAX_PARAM_LENGTH'],
      [431, 'HPE_HEADER_OVERFLOW'],
    ]);
  });

  it('documents 413, 414, 415 and 431 on every operation where they can occur', () => {
    const document = app.swagger() as unknown as {
      paths: Record<string, Record<string, { responses: Record<string, unknown> }>>;
    };
    const missing: string[] = [];
    for (const [path, operations] of Object.entries(document.paths)) {
      for (const [method, operation] of Object.entries(operations)) {
        const expected = ['431'];
        if (path.includes('{')) expected.push('414');
        if (['post', 'put', 'patch', 'delete'].includes(method)) expected.push('413', '415');
        for (const status of expected) {
          if (!(status in operation.responses)) missing.push(`${method} ${path}: ${status}`);
        }
      }
    }
    expect(missing).toEqual([]);
    const childResponses = document.paths['/v1/children/{childId}']?.get?.responses ?? {};
    expect(JSON.stringify(childResponses['431'])).toContain('header-fields-too-large');
    expect(JSON.stringify(childResponses['414'])).toContain('uri-too-long');
  });
});
