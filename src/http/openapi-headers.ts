import { isRateLimited } from './rate-limit.js';

/**
 * The response headers the service sends on many operations, declared once in
 * `components.headers` and referenced from each response that carries them, so that generated
 * clients can read them and the document states what the service does:
 * - `RateLimit-Limit`, `RateLimit-Remaining`, `RateLimit-Reset` on every response of a limited
 *   operation that passed authentication (src/http/rate-limit.ts: 401 is answered before the
 *   limiter runs; 414 and 431 before routing);
 * - `Retry-After` on 429 and 503;
 * - `Location` on 201 (every creating operation names what it created);
 * - `Idempotency-Replayed` on the 201 of operations that take an Idempotency-Key.
 * ETag is declared per route (src/http/conditional.ts), where the route sends it.
 */
export const SHARED_RESPONSE_HEADERS = {
  'RateLimit-Limit': {
    description:
      "The requests the caller's window allows (IETF RateLimit header fields draft), when the " +
      'deployment limits requests (RATE_LIMIT_MAX).',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Remaining': {
    description: 'The requests left in the current window.',
    schema: { type: 'integer', minimum: 0 },
  },
  'RateLimit-Reset': {
    description: 'Seconds until the current window ends and the count starts again.',
    schema: { type: 'integer', minimum: 0 },
  },
  'Retry-After': {
    description:
      'Seconds to wait before retrying: the rest of the rate-limit window (429), or a moment ' +
      'while the database restarts or fails over (503).',
    schema: { type: 'integer', minimum: 1 },
  },
  Location: {
    description: 'The path of the resource created (or of the job that will do the work).',
    schema: { type: 'string' },
  },
  'Idempotency-Replayed': {
    description:
      '`true` when this is the stored response of an earlier request with the same ' +
      'Idempotency-Key (nothing was done again); absent otherwise.',
    schema: { type: 'string', enum: ['true'] },
  },
} as const;

type Header = keyof typeof SHARED_RESPONSE_HEADERS;

/** Header names as components.headers keys (no hyphens needed, but kept readable). */
const componentName = (header: Header) => header.replaceAll('-', '');

/** Responses that never reach the rate limiter. */
const BEFORE_LIMITER = new Set(['401', '414', '431']);

interface Operation {
  parameters?: { in?: string; name?: string }[];
  responses?: Record<string, { headers?: Record<string, unknown> }>;
}

function headersOf(path: string, operation: Operation, status: string): Header[] {
  const headers: Header[] = [];
  const code = Number(status);
  if (isRateLimited(path) && path.startsWith('/v1') && !BEFORE_LIMITER.has(status)) {
    headers.push('RateLimit-Limit', 'RateLimit-Remaining', 'RateLimit-Reset');
  }
  if (code === 429 || code === 503) headers.push('Retry-After');
  if (code === 201) headers.push('Location');
  const idempotent = operation.parameters?.some(
    (p) => p.in === 'header' && p.name?.toLowerCase() === 'idempotency-key',
  );
  // A created resource's stored response (a bulk request's replays are per item, in its body).
  if (idempotent && code === 201) headers.push('Idempotency-Replayed');
  return headers;
}

/** The document with the shared response headers declared and referenced (see above). */
export function declareResponseHeaders<D extends object>(document: D): D {
  const doc = document as unknown as {
    paths?: Record<string, Record<string, Operation>>;
    components?: Record<string, unknown>;
  };
  const paths: Record<string, Record<string, Operation>> = {};
  for (const [path, item] of Object.entries(doc.paths ?? {})) {
    paths[path] = {};
    for (const [method, operation] of Object.entries(item)) {
      const responses: NonNullable<Operation['responses']> = {};
      for (const [status, response] of Object.entries(operation.responses ?? {})) {
        const add = headersOf(path, operation, status).filter(
          (header) => response.headers?.[header] === undefined,
        );
        responses[status] =
          add.length === 0
            ? response
            : {
                ...response,
                headers: {
                  ...response.headers,
                  ...Object.fromEntries(
                    add.map((header) => [
                      header,
                      { $ref: `#/components/headers/${componentName(header)}` },
                    ]),
                  ),
                },
              };
      }
      paths[path][method] = { ...operation, ...(operation.responses ? { responses } : {}) };
    }
  }
  const headers = Object.fromEntries(
    Object.entries(SHARED_RESPONSE_HEADERS).map(([name, header]) => [
      componentName(name as Header),
      header,
    ]),
  );
  return {
    ...document,
    paths,
    components: { ...doc.components, headers },
  } as D;
}
