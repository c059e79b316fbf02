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
