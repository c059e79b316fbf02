import type { FastifyReply, FastifyRequest } from 'fastify';
import { z } from 'zod';
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
