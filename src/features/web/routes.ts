import type { FastifyPluginAsync, FastifyReply } from 'fastify';
import { ProblemError } from '../../errors.js';
import { defaultWebRoot, readWebFiles, type WebFile } from './files.js';

/**
 * The policy of the front-end pages: the service's own origin only (no third-party asset, no
 * inline script or style), plus the identity provider's origin for the sign-in's discovery and
 * token requests. No framing, no plugins, no base URL.
 */
export function webCsp(identityProviderOrigin?: string): string {
  const connect = ["'self'", ...(identityProviderOrigin ? [identityProviderOrigin] : [])];
  return [
    "default-src 'self'",
    "script-src 'self'",
    "style-src 'self'",
    "img-src 'self'",
    "font-src 'self'",
    `connect-src ${connect.join(' ')}`,
    "worker-src 'self'",
    "manifest-src 'self'",
    "object-src 'none'",
    "base-uri 'none'",
    "form-action 'self'",
    "frame-ancestors 'none'",
  ].join('; ');
}

/** The dashboard's policy (no identity provider: it signs in with a pasted key only). */
export const DASHBOARD_CSP = webCsp();

/** The front end was not built (dist/web is missing): say how to fix it. */
class NotBuiltError extends ProblemError {
  constructor() {
    super(
      503,
      'web-not-built',
      'Service Unavailable',
      'The web front end has not been built: run `npm run build` (it writes dist/web).',
    );
  }
}

/**
 * The staff app (/app/) and the analyst dashboard (/dashboard), served from the front-end
 * build (dist/web) with a strict Content-Security-Policy. Hidden from the OpenAPI document;
 * they serve no data (the pages call the API with the user's own credentials).
 *
 * Caching: file names under /assets/ carry a content hash and are immutable; the pages, the
 * manifest and the service worker are revalidated on every load (no-cache), so a deployment
 * reaches every device at its next start.
 */
export const webRoutes: FastifyPluginAsync<{
  root?: string | undefined;
  identityProviderOrigin?: string | undefined;
}> = async (app, opts) => {
  const files = await readWebFiles(opts.root ?? defaultWebRoot());
  const appCsp = webCsp(opts.identityProviderOrigin);

  app.addHook('onSend', async (request, reply, payload) => {
    const csp =
      request.url.startsWith('/dashboard') || request.url.startsWith('/parents')
        ? DASHBOARD_CSP
        : appCsp;
    reply.header('content-security-policy', csp);
    reply.header('x-content-type-options', 'nosniff');
    reply.header('referrer-policy', 'no-referrer');
    reply.header('x-frame-options', 'DENY');
    return payload;
  });

  const missing = (url: string) =>
    new ProblemError(404, 'not-found', 'Not Found', `No file ${url} in the front end.`);

  function send(reply: FastifyReply, file: WebFile | undefined, cache: string) {
    if (!file) throw new NotBuiltError();
    return reply.type(file.type).header('cache-control', cache).send(file.body);
  }

  const page = { schema: { hide: true } };
  // `ignoreTrailingSlash` makes /app and /app/ one route: redirect only the bare one.
  app.get('/app/', page, async (request, reply) =>
    request.url.split('?')[0] === '/app'
      ? reply.redirect('/app/', 301)
      : send(reply, files.get('/app/index.html'), 'no-cache'),
  );
  app.get('/dashboard', page, async (_request, reply) =>
    send(reply, files.get('/dashboard/index.html'), 'no-store'),
  );
  // The parent view (issue 18): its link carries the one-time code in the fragment.
  app.get('/parents/', page, async (request, reply) =>
    request.url.split('?')[0] === '/parents'
      ? reply.redirect('/parents/', 301)
      : send(reply, files.get('/parents/index.html'), 'no-store'),
  );
  app.get<{ Params: { file: string } }>('/app/:file', page, async (request, reply) => {
    const file = files.get(`/app/${request.params.file}`);
    if (!file || request.params.file === 'index.html')
      throw missing(request.url.split('?')[0] ?? '');
    // The worker may control /app/ (its own directory): no Service-Worker-Allowed needed.
    return send(reply, file, 'no-cache');
  });
  app.get<{ Params: { file: string } }>('/assets/:file', page, async (request, reply) => {
    const file = files.get(`/assets/${request.params.file}`);
    if (!file) throw missing(request.url.split('?')[0] ?? '');
    return send(reply, file, 'public, max-age=31536000, immutable');
  });
};
