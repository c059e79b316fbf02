import { expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { webCsp } from '../../src/features/web/routes.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import { expectProblem } from '../support/problem.js';

describeEngines('the front end as the service serves it', (t) => {
  const get = (url: string) => t.app.inject({ method: 'GET', url });

  it('serves the app shell with a strict policy, and redirects /app to /app/', async () => {
    const bare = await get('/app');
    expect(bare.statusCode).toBe(301);
    expect(bare.headers.location).toBe('/app/');
    const shell = await get('/app/');
    expect(shell.statusCode).toBe(200);
    expect(shell.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(shell.headers['cache-control']).toBe('no-cache');
    expect(shell.headers['content-security-policy']).toBe(webCsp());
    expect(shell.headers['x-frame-options']).toBe('DENY');
    expect(shell.body).toContain('<html lang="da">');
    expect(shell.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // no inline script
    expect(shell.body).not.toMatch(/https?:\/\//); // no third-party asset
  });

  it("precaches exactly this build's shell: every URL the worker lists is served", async () => {
    const sw = await get('/app/sw.js');
    expect(sw.statusCode).toBe(200);
    expect(sw.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(sw.headers['cache-control']).toBe('no-cache');
    const manifest = /self\.__LINEAL_PRECACHE__ = (\{.*?\});/.exec(sw.body)?.[1];
    const { urls, version } = JSON.parse(manifest as string) as { urls: string[]; version: string };
    expect(version).toMatch(/^[0-9a-f]{16}$/);
    expect(urls).toContain('/app/');
    expect(urls.some((u) => /^\/assets\/app-.*\.js$/.test(u))).toBe(true);
    // The dashboard's chart library is not part of the app shell.
    expect(urls.some((u) => u.includes('dashboard'))).toBe(false);
    for (const url of urls) expect((await get(url)).statusCode, url).toBe(200);
    const asset = urls.find((u) => u.startsWith('/assets/')) as string;
    expect((await get(asset)).headers['cache-control']).toBe('public, max-age=31536000, immutable');
    const webmanifest = await get('/app/manifest.webmanifest');
    expect(webmanifest.headers['content-type']).toBe('application/manifest+json');
    expect(webmanifest.json()).toMatchObject({ start_url: '/app/', scope: '/app/' });
  });

  it('answers unknown files 404 problem+json, and keeps the pages out of the API document', async () => {
    expectProblem(await get('/assets/nope.js'), 404);
    expectProblem(await get('/app/nope.js'), 404);
    expectProblem(await get('/app/index.html'), 404);
    expectProblem(await get('/assets/..%2Fpackage.json'), 404);
    const paths = Object.keys((await get('/openapi.json')).json().paths);
    expect(paths.filter((p) => /^\/(app|assets|dashboard)/.test(p))).toEqual([]);
    expect(paths).toContain('/sign-in-options');
  });

  it('publishes no identity provider when sign-in is not configured', async () => {
    const res = await get('/sign-in-options');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ oidc: null });
    expect(res.headers['cache-control']).toBe('no-cache');
  });

  it('says how to build the front end when dist/web is missing (503, not a blank page)', async () => {
    const app = await buildApp({
      config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
      cprSecret: TEST_CPR_SECRET,
      database: t.database,
      webRoot: '/nonexistent/lineal-web',
    });
    try {
      for (const url of ['/app/', '/dashboard']) {
        const res = await app.inject({ method: 'GET', url });
        expectProblem(res, 503);
        expect(res.json().detail).toContain('npm run build');
      }
      expectProblem(await app.inject({ method: 'GET', url: '/app/sw.js' }), 404);
    } finally {
      await app.close();
    }
  });
});
