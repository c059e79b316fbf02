import type { FastifyReply, FastifyRequest } from 'fastify';
import pino, { type Logger, type LoggerOptions } from 'pino';

type LoggedError = Error & {
  code?: string;
  statusCode?: number;
  /** PostgreSQL errors (pg and PGlite alike): a SQLSTATE `code`, a `severity`, identifiers. */
  severity?: string;
  constraint?: string;
  table?: string;
  column?: string;
};

/**
 * PostgreSQL quotes offending values in some messages (`invalid input syntax for type uuid:
 * "…"`, `value "…" is out of range`); identifiers come back as the separate, safe fields.
 */
function withoutQuotedValues(message: string): string {
  return message.replace(/"[^"]*"/g, '"[redacted]"');
}

/**
 * Logs never carry child data. A request is logged as its method and route pattern
 * (`/v1/children/:childId`), never its path: paths carry child ids, and an unmatched one can carry
 * anything typed into a URL (a CPR number), so unmatched requests are logged with `route: null`.
 * No query string, headers or body either. Errors are logged without the driver's
 * `detail`/`where` fields (which quote row values), database messages with their quoted values
 * redacted, and credentials are redacted should anything log headers anyway.
 */
export function loggerOptions(level: string): LoggerOptions {
  return {
    level,
    redact: {
      paths: [
        'req.headers.authorization',
        'req.headers.cookie',
        'headers.authorization',
        'authorization',
        'token',
        '*.token',
      ],
      censor: '[redacted]',
    },
    serializers: {
      req: (request: FastifyRequest) => ({
        method: request.method,
        route: request.routeOptions?.url ?? null,
        remoteAddress: request.ip,
      }),
      res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
      err: (error: LoggedError) => {
        if (typeof error.severity !== 'string') {
          return {
            type: error.name,
            message: error.message,
            code: error.code,
            statusCode: error.statusCode,
            stack: error.stack,
          };
        }
        const message = withoutQuotedValues(error.message);
        return {
          type: error.name,
          message,
          code: error.code,
          constraint: error.constraint,
          table: error.table,
          column: error.column,
          stack: error.stack?.split(error.message).join(message),
        };
      },
    },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
