import cors from '@fastify/cors';
import helmet, { type FastifyHelmetOptions } from '@fastify/helmet';
import Fastify, { type FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/**
 * The Content-Security-Policy of every response that does not bring its own: JSON, problems and
 * exports are never rendered, so nothing may load and nothing may frame them. The dashboard
 * (src/features/dashboard) and Swagger UI (/docs) set their own policy in `onSend` hooks of their
 * encapsulated plugins, which run after this root hook and replace the header.
 */
export const API_CSP = "default-src 'none'; frame-ancestors 'none'";

/** Request headers a browser client may send (preflight `Access-Control-Allow-Headers`). */
export const CORS_ALLOWED_HEADERS = [
  'Authorization',
  'Content-Type',
  'Idempotency-Key',
  'X-Request-Id',
];

/** Response headers a browser client may read besides the CORS-safelisted ones. */
export const CORS_EXPOSED_HEADERS = [
  'X-Request-Id',
  'Location',
  'Retry-After',
  'RateLimit-Limit',
  'RateLimit-Remaining',
  'RateLimit-Reset',
  'Content-Disposition',
  'Allow',
  'WWW-Authenticate',
];

const HELMET_OPTIONS: FastifyHelmetOptions = {
  // Set per response below, so the dashboard's and the docs' own policies stay intact.
  contentSecurityPolicy: false,
  crossOriginResourcePolicy: { policy: 'same-origin' },
  referrerPolicy: { policy: 'no-referrer' },
  // Only honoured over TLS (i.e. behind the terminating proxy); harmless otherwise.
  strictTransportSecurity: { maxAge: 365 * 24 * 60 * 60, includeSubDomains: true },
  xFrameOptions: { action: 'deny' },
};

declare module 'fastify' {
  interface FastifyInstance {
    /**
     * The security headers of a response that bypasses the hooks (an error Fastify or Node
     * raises before routing, see src/http/pre-routing-errors.ts): what helmet and the `onSend`
     * hook below give every other API response.
     */
    securityHeaders: Readonly<Record<string, string>>;
  }
}

/**
 * The headers helmet sets with HELMET_OPTIONS, read once from a throw-away instance (they depend
 * on the options only, no nonces), so helmet's options stay the one place they are decided.
 */
async function helmetHeaders(): Promise<Record<string, string>> {
  const probe = Fastify({ logger: false });
  await probe.register(helmet, HELMET_OPTIONS);
  probe.get('/', async (_request, reply) => reply.getHeaders());
  try {
    return (await probe.inject({ method: 'GET', url: '/' })).json();
  } finally {
    await probe.close();
  }
}

/**
 * Security headers on every response (helmet), `Cache-Control: no-store` wherever a route does
 * not choose its own caching (all of `/v1`: child data must not sit in proxies or browser
 * caches), and CORS only when origins are configured.
 *
 * Register before every other plugin and route: hooks of the root instance reach only the
 * plugins registered after them (Swagger UI, the dashboard).
 */
export const securityPlugin = fp(
  async (app: FastifyInstance, opts: { corsOrigins: readonly string[] }) => {
    await app.register(helmet, HELMET_OPTIONS);
    app.decorate('securityHeaders', {
      ...(await helmetHeaders()),
      'content-security-policy': API_CSP,
      'cache-control': 'no-store',
    });

    app.addHook('onSend', async (_request, reply, payload) => {
      if (!reply.hasHeader('content-security-policy')) {
        reply.header('content-security-policy', API_CSP);
      }
      // Routes that want caching say so themselves (the dashboard's assets, Swagger UI's files);
      // every other response, and every /v1 one (none sets another), is not stored anywhere.
      if (!reply.hasHeader('cache-control')) reply.header('cache-control', 'no-store');
      return payload;
    });

    // Off unless configured: then no Access-Control-* header is ever sent.
    if (opts.corsOrigins.length > 0) {
      const allowed = new Set(opts.corsOrigins);
      await app.register(cors, {
        // Exact origins only. Any other origin (or none) gets no CORS headers at all, and its
        // preflight falls through to the usual 404/405 problem.
        origin: (origin, callback) =>
          callback(null, origin !== undefined && allowed.has(origin) ? origin : false),
        methods: ['GET', 'HEAD', 'POST', 'PATCH'],
        allowedHeaders: CORS_ALLOWED_HEADERS,
        exposedHeaders: CORS_EXPOSED_HEADERS,
        // Bearer tokens, never cookies.
        credentials: false,
        maxAge: 600,
        strictPreflight: true,
      });
    }
  },
  { name: 'lineal-security' },
);
