import { randomUUID } from 'node:crypto';
import type { Socket } from 'node:net';
import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { PROBLEM_CONTENT_TYPE, type Problem, problemType, statusTitle } from './problem.js';

/** The longest path parameter the router accepts; a longer one is answered 414. */
export const MAX_PARAM_LENGTH = 200;

/**
 * Where a problem raised before routing occurred. Never the URL: it could not be decoded, is
 * too long to be anything but a mistake, or was never read, and it may carry search terms.
 */
export const requestInstance = (requestId: string) => `urn:lineal:request:${requestId}`;

function preRoutingProblem(status: number, slug: string, detail: string, id: string): Problem {
  return {
    type: problemType(slug),
    title: statusTitle(status),
    status,
    detail,
    instance: requestInstance(id),
    requestId: id,
  };
}

/** The errors Fastify's router raises (its `frameworkErrors`), with the problem each becomes. */
const ROUTER_ERRORS: Record<string, { status: number; slug: string; detail: string }> = {
  FST_ERR_BAD_URL: {
    status: 400,
    slug: 'bad-url',
    detail: 'The request URL has a malformed percent-escape (not UTF-8). Encode it correctly.',
  },
  FST_ERR_MAX_PARAM_LENGTH: {
    status: 414,
    slug: 'uri-too-long',
    detail: `A path segment is longer than ${MAX_PARAM_LENGTH} characters.`,
  },
};

/**
 * Fastify's `frameworkErrors`: a URL the router cannot decode (400 `bad-url`) or a path
 * parameter over MAX_PARAM_LENGTH (414 `uri-too-long`). No hook runs for these requests, so the
 * security headers and the request id are set here; the connection is closed, because a client
 * sending such URLs is broken and anything it pipelined after is suspect.
 */
export function routerErrorHandler(
  error: FastifyError,
  request: FastifyRequest,
  reply: FastifyReply,
): void {
  const known = ROUTER_ERRORS[error.code];
  const problem = known
    ? preRoutingProblem(known.status, known.slug, known.detail, request.id)
    : preRoutingProblem(
        500,
        'internal-error',
        'An unexpected error occurred. Quote the request id when you report it.',
        request.id,
      );
  if (known) request.log.info({ status: problem.status, code: error.code }, 'request rejected');
  else request.log.error({ code: error.code }, 'router failed');
  reply
    .headers({ ...request.server.securityHeaders, 'x-request-id': request.id, connection: 'close' })
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(JSON.stringify(problem));
}

/** The errors Node's HTTP parser raises, with the problem each becomes; others are 400. */
const PARSER_ERRORS: Record<string, { status: number; slug: string; detail: string }> = {
  HPE_HEADER_OVERFLOW: {
    status: 431,
    slug: 'header-fields-too-large',
    detail: 'The request line and headers together are too large.',
  },
  ERR_HTTP_REQUEST_TIMEOUT: {
    status: 408,
    slug: 'request-timeout',
    detail: 'The request was not received in time.',
  },
};

const MALFORMED = {
  status: 400,
  slug: 'bad-request',
  detail: 'The request is not valid HTTP/1.1.',
};

/** Whether a response on this socket has begun; writing another would corrupt it. */
function responseStarted(socket: Socket): boolean {
  const inFlight = (socket as Socket & { _httpMessage?: { headersSent?: boolean } })._httpMessage;
  return inFlight?.headersSent === true;
}

/**
 * Fastify's `clientErrorHandler` (`this` is the instance): Node could not parse the request (a
 * request head over its size limit: 431; a timeout: 408; anything else: 400). There is no
 * request or reply, so the whole response is written to the socket here, as problem+json with
 * the security headers and `Connection: close`, and the socket is closed: the parser is
 * somewhere in the middle of the stream and cannot continue.
 */
export function clientErrorHandler(
  this: FastifyInstance,
  error: Error & { code?: string },
  socket: Socket,
): void {
  if (error.code === 'ECONNRESET' || socket.destroyed) return;
  try {
    const id = randomUUID();
    const known = PARSER_ERRORS[error.code ?? ''] ?? MALFORMED;
    const problem = preRoutingProblem(known.status, known.slug, known.detail, id);
    this.log.info({ status: problem.status, code: error.code }, 'request rejected by the parser');
    if (socket.writable && !responseStarted(socket)) {
      const body = JSON.stringify(problem);
      const headers: Record<string, string> = {
        ...this.securityHeaders,
        'content-type': `${PROBLEM_CONTENT_TYPE}; charset=utf-8`,
        'content-length': String(Buffer.byteLength(body)),
        'x-request-id': id,
        date: new Date().toUTCString(),
        connection: 'close',
      };
      const head = Object.entries(headers).map(([name, value]) => `${name}: ${value}\r\n`);
      socket.write(`HTTP/1.1 ${problem.status} ${problem.title}\r\n${head.join('')}\r\n${body}`);
    }
  } finally {
    socket.destroy();
  }
}
