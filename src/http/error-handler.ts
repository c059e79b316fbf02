import type { FastifyError, FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { hasZodFastifySchemaValidationErrors } from 'fastify-type-provider-zod';
import Router, { type HTTPMethod } from 'find-my-way';
import { isDatabaseUnavailable } from '../db/errors.js';
import { ProblemError } from '../errors.js';
import {
  type FieldError,
  PROBLEM_CONTENT_TYPE,
  type Problem,
  problemType,
  statusTitle,
} from './problem.js';

/** The request path without its query string (query strings may carry search terms). */
export function requestPath(request: FastifyRequest): string {
  const url = request.raw.url ?? request.url;
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}

export function buildProblem(
  request: FastifyRequest,
  status: number,
  slug: string,
  detail: string,
  extra: { title?: string; errors?: FieldError[] } = {},
): Problem {
  return {
    type: slug === 'about:blank' ? slug : problemType(slug),
    title: extra.title ?? statusTitle(status),
    status,
    detail,
    instance: requestPath(request),
    requestId: String(request.id),
    ...(extra.errors ? { errors: extra.errors } : {}),
  };
}

export function sendProblem(reply: FastifyReply, problem: Problem): FastifyReply {
  return reply.status(problem.status).type(PROBLEM_CONTENT_TYPE).send(problem);
}

/** Fastify's own client errors, with the problem slug each one becomes. */
const fastifyClientErrors: Record<string, string> = {
  FST_ERR_CTP_BODY_TOO_LARGE: 'payload-too-large',
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'unsupported-media-type',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'bad-request',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'malformed-json',
  FST_ERR_CTP_INVALID_JSON_BODY: 'malformed-json',
};

const contextNames: Record<string, string> = {
  body: 'body',
  querystring: 'query',
  params: 'path',
  headers: 'header',
};

function validationErrors(error: FastifyError): FieldError[] {
  const context = contextNames[error.validationContext ?? ''] ?? error.validationContext ?? '';
  return (error.validation ?? []).map((issue) => {
    const segments = issue.instancePath.split('/').filter(Boolean);
    return {
      path: [context, ...segments].filter(Boolean).join('.'),
      message: issue.message ?? 'is invalid',
      code: issue.keyword,
    };
  });
}

/** Seconds a client is asked to wait when the database is unavailable (a restart takes ~1-5 s). */
export const DATABASE_RETRY_AFTER_SECONDS = 2;

function toProblem(error: FastifyError, request: FastifyRequest): Problem {
  if (error instanceof ProblemError) {
    return buildProblem(request, error.status, error.slug, error.detail, {
      title: error.title,
      ...(error.errors ? { errors: error.errors } : {}),
    });
  }
  if (hasZodFastifySchemaValidationErrors(error) || error.validation) {
    const errors = validationErrors(error);
    return buildProblem(
      request,
      400,
      'validation-error',
      `The request ${contextNames[error.validationContext ?? ''] ?? 'input'} is invalid: ${errors.length} problem(s).`,
      { errors },
    );
  }
  if (error instanceof SyntaxError || error.code === 'FST_ERR_CTP_INVALID_JSON_BODY') {
    return buildProblem(request, 400, 'malformed-json', 'The request body is not valid JSON.');
  }
  if (isDatabaseUnavailable(error)) {
    return buildProblem(
      request,
      503,
      'database-unavailable',
      'The database is unavailable for a moment. Retry after the seconds in Retry-After, with ' +
        'the same Idempotency-Key, so that a request that did complete is replayed, not repeated.',
    );
  }
  const status = error.statusCode ?? 500;
  if (status >= 400 && status < 500) {
    const slug = fastifyClientErrors[error.code] ?? 'about:blank';
    return buildProblem(request, status, slug, error.message);
  }
  return buildProblem(
    request,
    500,
    'internal-error',
    'An unexpected error occurred. Quote the request id when you report it.',
  );
}

/**
 * Every error leaves as RFC 9457 problem+json: typed domain errors, validation errors (every
 * failing field), Fastify's client errors (400/413/415), unknown routes (404) and known paths
 * with the wrong method (405 with `Allow`). A 5xx never reveals anything internal.
 */
export const errorHandlerPlugin = fp(
  async (app: FastifyInstance) => {
    // A second router holding every route's path, to tell 405 from 404 on a miss.
    const known = Router();
    const methodsByPath = new Map<string, Set<string>>();
    app.addHook('onRoute', (route) => {
      // The CORS preflight catch-all (OPTIONS *) would make every unknown path a 405.
      if (route.url === '*') return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      for (const method of methods) {
        if (!methodsByPath.has(route.url)) {
          methodsByPath.set(route.url, new Set());
          known.on('GET', route.url, () => {}, { url: route.url });
        }
        methodsByPath.get(route.url)?.add(method);
      }
    });

    app.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = toProblem(error, request);
      if (problem.status === 503) {
        request.log.warn({ code: error.code }, 'database unavailable: answered 503');
        reply.header('retry-after', String(DATABASE_RETRY_AFTER_SECONDS));
      } else if (problem.status >= 500) {
        request.log.error({ err: error }, 'request failed');
      } else if (problem.status !== 401 && problem.status !== 404) {
        request.log.info({ status: problem.status, code: error.code }, 'request rejected');
      }
      if (error instanceof ProblemError && error.headers) reply.headers(error.headers);
      return sendProblem(reply, problem);
    });

    app.setNotFoundHandler((request, reply) => {
      const path = requestPath(request);
      const match = known.find('GET' as HTTPMethod, path);
      const allowed = match ? methodsByPath.get((match.store as { url: string }).url) : undefined;
      if (allowed && allowed.size > 0) {
        const allow = [...allowed].sort().join(', ');
        reply.header('allow', allow);
        return sendProblem(
          reply,
          buildProblem(
            request,
            405,
            'about:blank',
            `${request.method} is not allowed on ${path}. Allowed: ${allow}.`,
          ),
        );
      }
      return sendProblem(
        reply,
        buildProblem(request, 404, 'about:blank', `No route ${request.method} ${path}.`),
      );
    });
  },
  { name: 'lineal-errors' },
);
