import rateLimit from '@fastify/rate-limit';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import fp from 'fastify-plugin';
import { TooManyRequestsError } from './errors.js';

/**
 * Routes never limited: probes (an orchestrator must always reach them), the API description
 * and its UI, and the dashboard's static page and assets. None of them serves child data.
 */
const UNLIMITED_PREFIXES = ['/healthz', '/readyz', '/docs', '/openapi.json', '/dashboard'];

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

/**
 * A fixed-window request limit per authenticated principal (API key row id or OIDC subject),
 * falling back to the client IP (IPv6 by /64) for requests without one.
 *
 * The limiter runs as a route-level `onRequest` hook, and Fastify runs route-level hooks after
 * the instance's: so after authentication has set `request.principal`, and before the body is
 * read. Requests whose authentication fails (401/403) never reach it and are not counted.
 *
 * The counters live in this process's memory: with several instances behind a load balancer
 * each counts on its own (the effective limit is `max` × instances); give the plugin a shared
 * store (e.g. its Redis store) for one limit across instances.
 */
export const rateLimitPlugin = fp(
  async (app: FastifyInstance, opts: { max: number; windowMs: number }) => {
    if (opts.max <= 0) return;
    await app.register(rateLimit, {
      global: true,
      hook: 'onRequest',
      max: opts.max,
      timeWindow: opts.windowMs,
      keyGenerator: rateLimitKey,
      allowList: (request) => !isRateLimited(request.routeOptions.url),
      // RateLimit-Limit, RateLimit-Remaining, RateLimit-Reset (IETF draft) and Retry-After.
      enableDraftSpec: true,
      errorResponseBuilder: (_request, context) =>
        new TooManyRequestsError(Math.max(1, Math.ceil(context.ttl / 1000)), context.max),
    });
  },
  { name: 'lineal-rate-limit', dependencies: ['lineal-auth', 'lineal-errors'] },
);
