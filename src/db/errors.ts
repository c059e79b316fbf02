/** Recognises PostgreSQL errors the same way on pg and PGlite (both carry SQLSTATE in `code`). */
interface PgLikeError {
  code?: unknown;
  constraint?: unknown;
}

export function isUniqueViolation(error: unknown, constraint?: string): boolean {
  const e = error as PgLikeError | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    e.code === '23505' &&
    (constraint === undefined || e.constraint === constraint)
  );
}

/** Node socket errors that mean the database server could not be reached or went away. */
const UNAVAILABLE_NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/**
 * SQLSTATEs of a server that is going away, not there yet, or not the primary: connection
 * exceptions (class 08), admin/crash shutdown and "starting up" (57P01-57P03), too many
 * connections (53300) and a read-only transaction (25006: connected to a standby after a
 * failover). A retry later can succeed; the transaction was rolled back.
 */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '53300', '25006']);

/** pg's own messages for a connection that broke or could not be made in time. */
const UNAVAILABLE_MESSAGES =
  /^(Connection terminated|Client has encountered a connection error|timeout exceeded when trying to connect|Client was closed and is not queryable|Connection terminated due to connection timeout)/;

/** Whether an error means "the database is unavailable right now" (a 503), not a bug (a 500). */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  // Connecting to a name with several addresses fails with one error per address.
  if (error instanceof AggregateError && error.errors.some(isDatabaseUnavailable)) return true;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string') {
    if (UNAVAILABLE_NETWORK_CODES.has(code) || UNAVAILABLE_SQLSTATES.has(code)) return true;
    if (/^08[0-9A-Z]{3}$/.test(code)) return true;
  }
  return typeof message === 'string' && UNAVAILABLE_MESSAGES.test(message);
}
