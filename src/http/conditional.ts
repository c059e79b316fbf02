import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { z } from 'zod';
import { PreconditionRequiredError } from '../errors.js';
import { entityTagOf, formatEntityTag, ifNoneMatchHolds, parseEntityTags } from './etag.js';

// Conditional requests on a route: the ETag of what it answers, 304 for a GET whose
// If-None-Match names it, and the header and response schemas that document them.

const entityTagList = () =>
  z
    .string()
    .refine(
      (value) => parseEntityTags(value) !== null,
      'must be * or a comma-separated list of quoted entity tags ("…" or W/"…")',
    )
    .optional();

/** The request headers of a changing route (PATCH, PUT) of a resource with an ETag. */
export const IfMatchHeadersSchema = z.looseObject({
  'if-match': entityTagList().describe(
    'Change only if the resource is still the version you read: its ETag (or `*` for any ' +
      'existing version). Otherwise 412 and nothing changes. Without it the change is made ' +
      'whatever the current version.',
  ),
});

/**
 * The request headers of a PUT that may create its resource: If-Match, or `If-None-Match: *`
 * to create it only if it does not exist yet.
 */
export const PutHeadersSchema = IfMatchHeadersSchema.extend({
  'if-none-match': z
    .literal('*')
    .optional()
    .describe('`*`: create only, 412 if the resource exists already.'),
});

/** The request headers of a reading route (GET) of a resource with an ETag. */
export const IfNoneMatchHeadersSchema = z.looseObject({
  'if-none-match': entityTagList().describe(
    'The ETag(s) of the version(s) you hold: 304 without a body when one is still current.',
  ),
});

/** The ETag response header, as documented on every response that carries it. */
export const etagHeaderDocs = {
  ETag: {
    type: 'string',
    description:
      'Strong entity tag of this version of the resource; send it back in If-Match to change ' +
      'the resource only if nobody has changed it since, or in If-None-Match to read it only ' +
      'if it has changed.',
  },
} as const;

/** A route response of a resource with an ETag: `schema` as JSON, with the ETag header. */
export function taggedResponse<S extends z.ZodType>(schema: S, description: string) {
  return {
    description,
    headers: etagHeaderDocs,
    content: { 'application/json': { schema } },
  };
}

/** The 304 response of a GET with If-None-Match (no body). */
export const notModifiedResponse = {
  description: 'Not Modified: the version named in If-None-Match is still current (no body).',
  headers: etagHeaderDocs,
  content: {},
};

/**
 * Answers `body` with its ETag; for a GET or HEAD whose If-None-Match names the current
 * version, 304 without a body instead.
 */
export function sendTagged<T>(
  request: FastifyRequest,
  reply: FastifyReply,
  body: T,
  tag = entityTagOf(body),
): FastifyReply {
  reply.header('etag', formatEntityTag(tag));
  const header = request.headers['if-none-match'];
  if ((request.method === 'GET' || request.method === 'HEAD') && typeof header === 'string') {
    const condition = parseEntityTags(header);
    if (condition !== null && !ifNoneMatchHolds(condition, tag)) return reply.code(304).send();
  }
  return reply.send(body);
}

const conditionalWrites = new Set<unknown>([IfMatchHeadersSchema, PutHeadersSchema]);

/**
 * REQUIRE_IF_MATCH: every change of a resource with an ETag (the routes whose headers schema is
 * IfMatchHeadersSchema or PutHeadersSchema) must say which version it changes: without If-Match
 * (or, on a creating PUT, `If-None-Match: *`) it is 428 before anything is read or written.
 */
export const requireIfMatchPlugin = fp(
  async (app: FastifyInstance) => {
    app.addHook('onRoute', (route) => {
      if (!conditionalWrites.has(route.schema?.headers)) return;
      const existing = route.preHandler ? [route.preHandler].flat() : [];
      route.preHandler = [...existing, requireIfMatchHeader];
    });
  },
  { name: 'lineal-require-if-match' },
);

async function requireIfMatchHeader(request: FastifyRequest): Promise<void> {
  if (request.headers['if-match'] !== undefined) return;
  if (request.method === 'PUT' && request.headers['if-none-match'] === '*') return;
  throw new PreconditionRequiredError(
    'This service requires If-Match on every change: send the ETag of the version you read ' +
      '(GET it first)' +
      (request.method === 'PUT' ? ', or If-None-Match: * to create it.' : '.'),
  );
}
