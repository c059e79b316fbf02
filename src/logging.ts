import type { FastifyReply, FastifyRequest } from 'fastify';
import pino, { type Logger, type LoggerOptions } from 'pino';

/**
 * Logs never carry child data: requests are logged as method, route pattern and path (no query
 * string, no headers, no body), errors without the driver's `detail`/`where` fields (which can
 * quote row values), and credentials are redacted should anything log headers anyway.
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
      req: (request: FastifyRequest) => {
        const url = request.raw?.url ?? request.url ?? '';
        const q = url.indexOf('?');
        return {
          method: request.method,
          route: request.routeOptions?.url,
          path: q === -1 ? url : url.slice(0, q),
          remoteAddress: request.ip,
        };
      },
      res: (reply: FastifyReply) => ({ statusCode: reply.statusCode }),
      err: (error: Error & { code?: string; statusCode?: number }) => ({
        type: error.name,
        message: error.message,
        code: error.code,
        statusCode: error.statusCode,
        stack: error.stack,
      }),
    },
  };
}

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return destination ? pino(loggerOptions(level), destination) : pino(loggerOptions(level));
}
