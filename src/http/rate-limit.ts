import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import type { Database } from '../db/database.js';
import { TooManyRequestsError } from '../errors.js';
import { SharedRateCounts, sharedRateLimitStore } from './shared-rate-limit.js';

/**
 * Routes never limited: probes (an orchestrator must always reach them), the API description
 * and its UI, and the dashboard's static page and assets. None of them serves child data.
 */
const UNLIMITED_PREFIXES = [
  '/healthz',
  '/readyz',
  '/docs',
  '/openapi.json',
  '/dashboard',
  '/app',
  '/assets',
  '/sign-in-options',
];

export function isRateLimited(routeUrl: string | undefined): boolean {
  if (routeUrl === undefined) return false;
  return !UNLIMITED_PREFIXES.some(
    (prefix) =>
      routeUrl === prefix || routeUrl.startsWith(`${prefix}/`) || routeUrl.startsWith(`${prefix}.`),
  );
}

/** The bucket a request counts against: its principal, or its client address without one. */
export function rateLimitKey(request: FastifyRequest): string {
  const principal = request.principal;
  if (principal) return `${principal.kind}:${principal.id}`;
  return `ip:${rateLimit.normalizeIP(request.ip)}`;
}

declare module 'fastify' {
  interface FastifyInstance {
    /** The request counts the rate limits share across instances (absent when both are off). */
    rateCounts?: SharedRateCounts;
  }
  interface FastifyContextConfig {
    /**
     * The route looks a child up by CPR number: besides the general limit, each principal may
     * make only `cprLookup.max` such requests per `cprLookup.windowMs` (a birth date has 10,000
     * serial numbers, so the general limit alone would let one key try them all in minutes).
     */
    cprLookup?: true;
    /**
     * How many requests the route's request counts as against the general limit (a bulk
     * request: its item count), judged after its body is validated; 1 when not given.
     */
    rateLimitCost?: (request: FastifyRequest) => number;
  }
}

interface Window {
  max: number;
  windowMs: number;
}

/**
 * A fixed-window request limit per authenticated principal (API key row id or OIDC subject),
 * falling back to the client IP (IPv6 by /64) for requests without one; and a much tighter one,
 * of its own, for routes marked `config.cprLookup`.
 *
 * The limiters run as route-level `onRequest` hooks, and Fastify runs route-level hooks after
 * the instance's: so after authentication has set `request.principal`, and before the body is
 * read. Requests whose authentication fails (401) never reach them and are not counted; the
 * role's permission is checked after them (in `preParsing`), so requests refused with 403 are
 * counted, and a flood of them is limited like any other. A refused request is a 4xx of its
 * route, so the audit plugin records it (outcome `denied`).
 *
 * The limits hold across instances on one database: each counts in memory and shares its
 * counts through the database every `syncMs` (src/http/shared-rate-limit.ts), so a request
 * costs no round trip, and several instances behind a load balancer enforce one limit (within
 * what the others received in one sync interval). Windows are fixed and aligned to the epoch.
 */
export const rateLimitPlugin = fp(
  async (
    app: FastifyInstance,
    opts: Window & {
      cprLookup: Window;
      database: Database;
      syncMs?: number | undefined;
      /** The clock the windows follow (the app's). */
      now?: (() => Date) | undefined;
    },
  ) => {
    const general = opts.max > 0;
    const cpr = opts.cprLookup.max > 0;
    if (!general && !cpr) return;
    const clock = opts.now ?? (() => new Date());
    const counts = new SharedRateCounts(opts.database, opts.syncMs, () => clock().getTime());
    app.decorate('rateCounts', counts);
    app.addHook('onClose', () => counts.close());
    await app.register(rateLimit, {
      store: sharedRateLimitStore(counts),
      // Off: the plugin still registers (for the CPR limiter) but adds no hook of its own.
      global: general,
      hook: 'onRequest',
      max: general ? opts.max : 1,
      timeWindow: opts.windowMs,
      keyGenerator: rateLimitKey,
      allowList: (request) => !isRateLimited(request.routeOptions.url),
      // RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (IETF draft) and Retry-After.
      enableDraftSpec: true,
      errorResponseBuilder: (_request, context) =>
        new TooManyRequestsError(Math.max(1, Math.ceil(context.ttl / 1000)), context.max),
    });
    if (general) {
      app.addHook('onRoute', (route) => {
        const cost = route.config?.rateLimitCost;
        if (!cost || !isRateLimited(route.url)) return;
        const charge = weightedLimit(counts, opts, cost);
        const hooks = route.preHandler;
        route.preHandler = [...(Array.isArray(hooks) ? hooks : hooks ? [hooks] : []), charge];
      });
    }
    if (!cpr) return;
    const check = app.createRateLimit({
      max: opts.cprLookup.max,
      timeWindow: opts.cprLookup.windowMs,
      keyGenerator: (request) => `cpr-lookup:${rateLimitKey(request)}`,
    });
    const cprLimit = async (request: FastifyRequest) => {
      const result = await check(request);
      if (!result.isAllowed && result.isExceeded) {
        throw new TooManyRequestsError(
          Math.max(1, Math.ceil(result.ttl / 1000)),
          result.max,
          'CPR lookup',
        );
      }
    };
    app.addHook('onRoute', (route) => {
      if (!route.config?.cprLookup) return;
      const hooks = route.onRequest;
      route.onRequest = [...(Array.isArray(hooks) ? hooks : hooks ? [hooks] : []), cprLimit];
    });
  },
  { name: 'lineal-rate-limit', dependencies: ['lineal-auth', 'lineal-errors'] },
);

/**
 * The rest of a weighted request's cost (`config.rateLimitCost`): the general limiter counted it
 * once as it arrived; once its body is known, it counts `cost − 1` more against the same bucket.
 * A request whose cost no longer fits in the window is refused whole (429, nothing done) and
 * counts once, as any refused request; one that fits is charged and its RateLimit-Remaining
 * header corrected. So a bulk of N items costs what N single requests would.
 */
function weightedLimit(
  counts: SharedRateCounts,
  window: Window,
  cost: (request: FastifyRequest) => number,
) {
  return async (request: FastifyRequest, reply: FastifyReply) => {
    const extra = Math.max(0, Math.floor(cost(request)) - 1);
    if (extra === 0) return;
    const key = rateLimitKey(request);
    const { current, ttl } = counts.peek(key, window.windowMs);
    const retryAfter = Math.max(1, Math.ceil(ttl / 1000));
    if (current + extra > window.max) throw new TooManyRequestsError(retryAfter, window.max);
    const after = counts.hit(key, window.windowMs, window.max, extra);
    reply.header('ratelimit-remaining', Math.max(0, window.max - after.current));
  };
}
