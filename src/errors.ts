/** One failing field of a request (problem+json `errors[]`). */
export interface FieldError {
  /** Where the problem is, e.g. `body.unitIds.0` or `query.limit`. */
  path: string;
  message: string;
  /** A machine-readable reason, e.g. `too_small`. */
  code?: string | undefined;
}

/**
 * The one error vocabulary: domain and service code throws these; the error handler turns
 * them into RFC 9457 problem responses. `detail` must be safe to show to the caller.
 */
export class ProblemError extends Error {
  constructor(
    readonly status: number,
    readonly slug: string,
    readonly title: string,
    readonly detail: string,
    readonly errors?: FieldError[],
    readonly headers?: Record<string, string>,
  ) {
    super(detail);
    this.name = new.target.name;
  }
}

export class BadRequestError extends ProblemError {
  constructor(detail: string, errors?: FieldError[]) {
    super(400, 'bad-request', 'Bad Request', detail, errors);
  }
}

export class UnauthorizedError extends ProblemError {
  constructor(detail: string, reason?: 'invalid_token') {
    const challenge = reason ? `Bearer realm="lineal", error="${reason}"` : 'Bearer realm="lineal"';
    super(401, 'unauthorized', 'Unauthorized', detail, undefined, {
      'www-authenticate': challenge,
    });
  }
}

export class ForbiddenError extends ProblemError {
  constructor(detail: string) {
    super(403, 'forbidden', 'Forbidden', detail);
  }
}

export class NotFoundError extends ProblemError {
  constructor(resource: string, id?: string) {
    super(
      404,
      'not-found',
      'Not Found',
      id ? `No ${resource} with id ${id} in your scope.` : `No such ${resource} in your scope.`,
    );
  }
}

export class ConflictError extends ProblemError {
  constructor(detail: string, slug = 'conflict') {
    super(409, slug, 'Conflict', detail);
  }
}

/** Well-formed input that breaks a rule (422), naming each failing field. */
export class ValidationFailedError extends ProblemError {
  constructor(detail: string, errors: FieldError[]) {
    super(422, 'validation-failed', 'Unprocessable Content', detail, errors);
  }
}

/**
 * The caller's rate limit is used up (429); `Retry-After` says in how many seconds the window
 * resets. The limiter sets the RateLimit headers itself; Retry-After is repeated here so the
 * problem stays correct even where the limiter's headers are turned off.
 */
export class TooManyRequestsError extends ProblemError {
  constructor(retryAfterSeconds: number, limit: number, what = 'request') {
    super(
      429,
      'too-many-requests',
      'Too Many Requests',
      `Rate limit of ${limit} ${what}s exceeded; retry in ${retryAfterSeconds} s.`,
      undefined,
      { 'retry-after': String(retryAfterSeconds) },
    );
  }
}

/**
 * A precondition of the request does not hold (412): an If-Match naming a version of the
 * resource that is no longer the current one. Nothing was changed.
 */
export class PreconditionFailedError extends ProblemError {
  constructor(detail: string) {
    super(412, 'precondition-failed', 'Precondition Failed', detail);
  }
}

/** A change sent without the If-Match the deployment requires (428, REQUIRE_IF_MATCH). */
export class PreconditionRequiredError extends ProblemError {
  constructor(detail: string) {
    super(428, 'precondition-required', 'Precondition Required', detail);
  }
}
