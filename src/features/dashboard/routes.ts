import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import type { RouteDeps } from '../../request/route-deps.js';
import { DASHBOARD_JS } from './client.js';
import { DASHBOARD_CSS, DASHBOARD_HTML, FAVICON_SVG } from './page.js';

/**
 * Only the service's own origin: no inline script or style, no other host (the page works
 * offline), no framing, no plugins. Chart.js styles its canvases through the CSSOM, which this
 * policy allows.
 */
export const DASHBOARD_CSP = [
  "default-src 'self'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "font-src 'self'",
  "connect-src 'self'",
  "object-src 'none'",
  "base-uri 'none'",
  "form-action 'self'",
  "frame-ancestors 'none'",
].join('; ');

/** Chart.js's UMD build (it sets `window.Chart`), read from node_modules once at start-up. */
async function readChartJs(): Promise<string> {
  // The package exports only its entry points; its UMD build sits beside the CommonJS one.
  const entry = createRequire(import.meta.url).resolve('chart.js');
  const source = await readFile(join(dirname(entry), 'chart.umd.js'), 'utf8');
  // The source map is not served; drop the comment pointing at it.
  return source.replace(/\n\/\/# sourceMappingURL=\S+\s*$/, '\n');
}

interface Asset {
  type: string;
  body: string;
}

/**
 * The analyst dashboard: GET /dashboard (a static page; the analyst's key never reaches the
 * server except as the Bearer token of the page's own calls to /v1/analytics) and its assets.
 * Hidden from the OpenAPI document; no permission of its own, since it serves no data.
 */
export const dashboardRoutes: FastifyPluginAsync<RouteDeps> = async (app) => {
  const assets: Record<string, Asset> = {
    'dashboard.js': { type: 'text/javascript; charset=utf-8', body: DASHBOARD_JS },
    'dashboard.css': { type: 'text/css; charset=utf-8', body: DASHBOARD_CSS },
    'chart.umd.js': { type: 'text/javascript; charset=utf-8', body: await readChartJs() },
    'favicon.svg': { type: 'image/svg+xml', body: FAVICON_SVG },
  };

  // Encapsulated (no fastify-plugin): applies to this plugin's routes only.
  app.addHook('onSend', async (_request, reply, payload) => {
    reply.header('content-security-policy', DASHBOARD_CSP);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });

  app.get('/dashboard', { schema: { hide: true } }, async (_request, reply) =>
    reply.type('text/html; charset=utf-8').header('cache-control', 'no-store').send(DASHBOARD_HTML),
  );

  for (const [name, asset] of Object.entries(assets)) {
    app.get(`/dashboard/assets/${name}`, { schema: { hide: true } }, async (_request, reply) =>
      reply.type(asset.type).header('cache-control', 'no-cache').send(asset.body),
    );
  }
};
