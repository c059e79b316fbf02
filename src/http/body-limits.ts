import type { FastifyInstance } from 'fastify';
import fp from 'fastify-plugin';

/** The body limit of every route not listed below (never more than BODY_LIMIT_BYTES). */
export const SMALL_BODY_LIMIT_BYTES = 64 * 1024;

/**
 * Routes that may take up to BODY_LIMIT_BYTES (default 1 MiB), because a valid body can
 * legitimately exceed 64 KiB:
 * - ruler definitions: up to 101 levels and 200 items, each with Danish and English labels of up
 *   to 200 characters (several hundred KB at the schema's maxima);
 * - action-guide definitions: up to 90 steps, each with a title and a description in Danish
 *   and English (up to 200 characters each) and its conditions;
 * - assessments and their corrections: a joint rating and up to 10 raters' own ratings, each
 *   answering up to 200 items by key (about 15 KB per rating at the maxima), plus free texts.
 * Every other write is a small object (a few KB at most), except the bulk routes below and the
 * roster import (POST /v1/imports), which sets its own limit (IMPORT_MAX_BYTES) and reads its
 * file as a stream.
 */
export const LARGE_BODY_ROUTES: readonly string[] = [
  'POST /v1/rulers',
  'POST /v1/rulers/:rulerId/versions',
  'POST /v1/action-guides',
  'POST /v1/action-guides/:guideId/versions',
  'POST /v1/assessments',
  'POST /v1/assessments/:assessmentId/corrections',
];

/**
 * Bulk routes take up to BULK_BODY_LIMIT_FACTOR × BODY_LIMIT_BYTES (8 MiB by default): up to 300
 * items, each a body of its single route (an assessment of a class's child is usually 0.5-3 KB;
 * 8 MiB leaves about 28 KB an item). Their item count is limited by the route itself.
 */
export const BULK_BODY_ROUTES: readonly string[] = ['POST /v1/assessments/bulk'];
export const BULK_BODY_LIMIT_FACTOR = 8;

/**
 * Per-route request body limits, decided centrally in one table rather than by a `bodyLimit`
 * on each route: the limits of the whole API can be reviewed in one place, a new route gets the
 * small limit without anyone remembering to set one (fail small), and the feature route files
 * stay untouched. A route that does set its own `bodyLimit` keeps it. A body over the limit is
 * answered 413 (FST_ERR_CTP_BODY_TOO_LARGE → problem `payload-too-large`) before it is parsed.
 *
 * Start-up fails when the table names a route that does not exist, so a renamed route cannot
 * silently fall back to the small limit.
 */
export const bodyLimitsPlugin = fp(
  async (app: FastifyInstance, opts: { bodyLimitBytes: number }) => {
    const large = new Set(LARGE_BODY_ROUTES);
    const bulk = new Set(BULK_BODY_ROUTES);
    const seen = new Set<string>();
    const small = Math.min(SMALL_BODY_LIMIT_BYTES, opts.bodyLimitBytes);

    app.addHook('onRoute', (route) => {
      if (route.bodyLimit !== undefined) return;
      const methods = Array.isArray(route.method) ? route.method : [route.method];
      const keys = methods.map((method) => `${method} ${route.url}`);
      for (const key of keys) if (large.has(key) || bulk.has(key)) seen.add(key);
      route.bodyLimit = keys.some((key) => large.has(key)) ? opts.bodyLimitBytes : small;
      if (keys.some((key) => bulk.has(key))) {
        route.bodyLimit = opts.bodyLimitBytes * BULK_BODY_LIMIT_FACTOR;
      }
    });

    app.addHook('onReady', async () => {
      const missing = [...LARGE_BODY_ROUTES, ...BULK_BODY_ROUTES].filter((key) => !seen.has(key));
      if (missing.length > 0) {
        throw new Error(`Body limit table names routes that do not exist: ${missing.join(', ')}`);
      }
    });
  },
  { name: 'lineal-body-limits' },
);
