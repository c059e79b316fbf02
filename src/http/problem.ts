import { STATUS_CODES } from 'node:http';
import { z } from 'zod';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

export const FieldErrorSchema = z
  .object({
    path: z.string().describe('Where the problem is, e.g. `body.unitIds.0` or `query.limit`.'),
    message: z.string(),
    code: z.string().optional().describe('A machine-readable reason, e.g. `too_small`.'),
  })
  .meta({ id: 'FieldError' });
export type FieldError = z.infer<typeof FieldErrorSchema>;

/** RFC 9457 problem details, with the request id and (for validation) every failing field. */
export const ProblemSchema = z
  .object({
    type: z.string().describe('A URI identifying the problem type.'),
    title: z.string(),
    status: z.number().int(),
    detail: z.string(),
    instance: z
      .string()
      .describe(
        'The request path the problem occurred on (never its query string), or ' +
          '`urn:lineal:request:<requestId>` for a request whose URL is not repeated (400 ' +
          '`bad-url`, 414, 431).',
      ),
    requestId: z.string(),
    errors: z.array(FieldErrorSchema).optional(),
  })
  .meta({ id: 'Problem', description: 'RFC 9457 problem details.' });
export type Problem = z.infer<typeof ProblemSchema>;

export const problemType = (slug: string) => `urn:lineal:problem:${slug}`;

export function statusTitle(status: number): string {
  return STATUS_CODES[status] ?? 'Error';
}

const defaultDescriptions: Record<number, string> = {
  400: 'The request is malformed or fails validation.',
  401: 'No valid API key was presented.',
  403: "The key's role may not perform this action.",
  404: 'No such resource in your municipality.',
  405: 'The path exists but not with this method.',
  409: 'The request conflicts with the current state.',
  412: 'If-Match does not hold: the resource has changed since it was read (or does not exist); nothing was changed.',
  428: 'If-Match is missing where the deployment requires it (REQUIRE_IF_MATCH); nothing was changed.',
  413: 'The request body is too large.',
  415: 'The request body has an unsupported content type.',
  422: 'The request is well-formed but breaks a rule.',
  429: 'Too many requests: the rate limit is used up; retry after `Retry-After` seconds.',
  500: 'An unexpected error occurred.',
  503: 'The database is unavailable for a moment (a restart, a failover) or not ready: retry after `Retry-After` seconds.',
};

export function problemResponse(status: number, schema: z.ZodType = ProblemSchema) {
  return {
    description: defaultDescriptions[status] ?? statusTitle(status),
    content: { [PROBLEM_CONTENT_TYPE]: { schema } },
  };
}

/** Route response entries for the given problem statuses, for a route's `schema.response`. */
export function problemResponses<const S extends number>(
  ...statuses: S[]
): Record<S, ReturnType<typeof problemResponse>> {
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(s)])) as Record<
    S,
    ReturnType<typeof problemResponse>
  >;
}

/** Statuses any authenticated `/v1` route can answer with. */
export const AUTHENTICATED_PROBLEMS = [400, 401, 403, 429, 500, 503] as const;
