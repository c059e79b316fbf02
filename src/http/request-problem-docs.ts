import { maxHeaderSize } from 'node:http';
import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';
import { MAX_PARAM_LENGTH } from './pre-routing-errors.js';
import { AUTHENTICATED_PROBLEMS, problemResponse } from './problem.js';

/** Methods whose request body Fastify reads (and so may refuse: 413, 415). */
const BODY_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const descriptions: Record<number, string> = {
  414:
    `A path parameter is longer than ${MAX_PARAM_LENGTH} characters ` +
    '(`urn:lineal:problem:uri-too-long`); the connection is closed.',
  431:
    `The request line and headers together are over ${maxHeaderSize / 1024} KiB ` +
    '(`urn:lineal:problem:header-fields-too-large`); the connection is closed.',
};

/** The OpenAPI security requirement of every `/v1` operation: a bearer token. */
const BEARER_SECURITY = [{ bearerAuth: [] }];

/**
 * Documents, in one place rather than per route, that every `/v1` operation takes a bearer token
 * and may answer the problems of any authenticated request (400, 401, 403, 429, 500, 503); and
 * the problems an operation can answer because of the shape of the request rather than its
 * meaning: 431 on every operation (a request head over
 * Node's limit), 414 on every operation with path parameters (one over MAX_PARAM_LENGTH), and 413
 * and 415 on every operation whose method carries a body (any body is read, and refused when too
 * large or not JSON, even where the operation expects none). Register before the routes.
 */
export const requestProblemDocsPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      if (!route.schema || route.schema.hide) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const statuses: number[] = [431];
      if (route.url.startsWith('/v1')) {
        route.schema.security ??= BEARER_SECURITY;
        statuses.push(...AUTHENTICATED_PROBLEMS);
      } else {
        // Probes and documents: no credentials (stated, so a linter or generator need not guess).
        route.schema.security ??= [];
      }
      if (route.url.includes(':')) statuses.push(414);
      if (methods.some((method) => BODY_METHODS.has(method))) statuses.push(413, 415);
      // A fresh object: routes may share one response map.
      const response = { ...(route.schema.response as Record<number, unknown> | undefined) };
      for (const status of statuses) {
        response[status] ??= {
          ...problemResponse(status),
          ...(descriptions[status] ? { description: descriptions[status] } : {}),
        };
      }
      route.schema.response = response;
    });
  },
  { name: 'lineal-request-problem-docs' },
);
