/**
 * The staff app's service worker (served as /app/sw.js, scope /app/). It precaches the app
 * shell of this build (the list and version are written in by the build, vite.config.ts), so
 * the app opens without a connection; it never caches API answers (the app keeps the open
 * round's roster in IndexedDB itself, and clears it on sign-out).
 *
 * Shell files are served cache-first (their names carry a content hash); the app's page is
 * served network-first, so a new deployment is picked up when online.
 */
const worker = self as unknown as ServiceWorkerGlobalScope & {
  /** Set by the build in the first line of sw.js: this build's shell and its version. */
  __LINEAL_PRECACHE__?: { urls: string[]; version: string };
};

const { urls, version } = worker.__LINEAL_PRECACHE__ ?? { urls: [], version: 'dev' };
const CACHE = `lineal-app-${version}`;
const SHELL_URL = '/app/';

worker.addEventListener('install', (event) => {
  event.waitUntil(
    (async () => {
      const cache = await caches.open(CACHE);
      await cache.addAll(urls);
      await worker.skipWaiting();
    })(),
  );
});

worker.addEventListener('activate', (event) => {
  event.waitUntil(
    (async () => {
      for (const name of await caches.keys()) {
        if (name.startsWith('lineal-app-') && name !== CACHE) await caches.delete(name);
      }
      await worker.clients.claim();
    })(),
  );
});

/** The app's page: from the network when it answers, else the cached shell. */
async function page(request: Request): Promise<Response> {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(CACHE);
      await cache.put(SHELL_URL, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(SHELL_URL);
    if (cached) return cached;
    throw error;
  }
}

worker.addEventListener('fetch', (event) => {
  const request = event.request;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== worker.location.origin) return;
  if (request.mode === 'navigate' && (url.pathname === '/app' || url.pathname === '/app/')) {
    event.respondWith(page(request));
    return;
  }
  if (url.pathname.startsWith('/assets/') || url.pathname.startsWith('/app/')) {
    event.respondWith(
      (async () => (await caches.match(request, { ignoreSearch: true })) ?? fetch(request))(),
    );
  }
  // Everything else (the API) goes to the network as usual.
});
