import { generateKeyPairSync } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import Provider from 'oidc-provider';
import type { Browser, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { OidcConfig } from '../../src/config.js';
import { axeViolations, daysFromToday, hasChromium, launchChromium } from '../support/browser.js';
import { describeEngines } from '../support/engines.js';
import { createRound, createScreeningTenant } from '../support/factories.js';

/**
 * Sign-in with a real OpenID provider (npm oidc-provider) on loopback: the app runs the
 * authorization code flow with PKCE, gets a JWT access token for the API's audience with the
 * lineal claims, and uses it like an API key.
 */
const AUDIENCE = 'https://api.lineal.test';
const CLIENT_ID = 'lineal-staff-app';
/** The user's subject at the identity provider (lineal takes a UUID `sub`). */
const SUBJECT = '7f0c2b8e-3c1d-4e5f-9a6b-1c2d3e4f5a6b';

let idpServer: Server;
let issuer = '';
let handler: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => {
  res.statusCode = 503;
  res.end();
};
/** The claims the provider puts in the next access tokens (set once the tenant exists). */
const account = { municipality: '', units: [] as string[] };

beforeAll(async () => {
  idpServer = createServer((req, res) => handler(req, res));
  await new Promise<void>((resolve) => idpServer.listen(0, '127.0.0.1', resolve));
  issuer = `http://127.0.0.1:${(idpServer.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise((resolve) => idpServer?.close(resolve));
});

/** The identity provider, once the app's address (its redirect URI) is known. */
function startProvider(appOrigin: string): Provider {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const jwk = {
    ...privateKey.export({ format: 'jwk' }),
    kid: 'test-key',
    alg: 'RS256',
    use: 'sig',
  };
  const provider = new Provider(issuer, {
    clients: [
      {
        client_id: CLIENT_ID,
        token_endpoint_auth_method: 'none',
        redirect_uris: [`${appOrigin}/app/`],
        post_logout_redirect_uris: [`${appOrigin}/app/`],
        grant_types: ['authorization_code'],
        response_types: ['code'],
      },
    ],
    jwks: { keys: [jwk as never] },
    pkce: { required: () => true },
    cookies: { keys: ['a-test-cookie-key-that-is-long-enough'] },
    features: {
      devInteractions: { enabled: true },
      resourceIndicators: {
        enabled: true,
        defaultResource: () => AUDIENCE,
        useGrantedResource: () => true,
        getResourceServerInfo: () => ({
          scope: 'openid',
          audience: AUDIENCE,
          accessTokenTTL: 600,
          accessTokenFormat: 'jwt',
          jwt: { sign: { alg: 'RS256' } },
        }),
      },
    },
    findAccount: (_ctx, sub) => ({ accountId: sub, claims: () => ({ sub }) }),
    extraTokenClaims: () => ({
      municipality: account.municipality,
      lineal_role: 'unit_staff',
      lineal_units: account.units,
    }),
  });
  handler = provider.callback();
  return provider;
}

(hasChromium ? describeEngines : () => undefined)(
  'the staff app signs in with the identity provider',
  (t) => {
    let browser: Browser;
    let page: Page;
    let appOrigin: string;
    let unitName: string;

    beforeAll(async () => {
      t.clock.set(new Date());
      const s = await createScreeningTenant(t);
      await createRound(t, s.admin.token, s.topi, {
        name: 'Forår',
        windowStart: daysFromToday(-7),
        windowEnd: daysFromToday(7),
      });
      account.municipality = s.municipality.id;
      account.units = [s.unit.id];
      unitName = s.unit.name;
      await t.app.listen({ host: '127.0.0.1', port: 0 });
      appOrigin = `http://127.0.0.1:${(t.app.server.address() as AddressInfo).port}`;
      startProvider(appOrigin);
      browser = await launchChromium();
      page = await (await browser.newContext({ viewport: { width: 820, height: 900 } })).newPage();
    }, 120_000);

    afterAll(async () => {
      await browser?.close();
    });

    it('publishes the sign-in options, then runs code + PKCE to a working session', {
      timeout: 90_000,
    }, async () => {
      const options = await t.app.inject({ method: 'GET', url: '/sign-in-options' });
      expect(options.json()).toEqual({
        oidc: { issuer, clientId: CLIENT_ID, scope: 'openid', resource: AUDIENCE },
      });
      // The identity provider's origin is the only other origin the app may connect to.
      const shell = await t.app.inject({ method: 'GET', url: '/app/' });
      expect(String(shell.headers['content-security-policy'])).toContain(
        `connect-src 'self' ${issuer}`,
      );

      await page.goto(`${appOrigin}/app/`);
      await page.click('button:text("Log ind med kommunens login")');
      // The provider's own (development) login and consent pages.
      await page.waitForURL(`${issuer}/**`);
      await page.fill('input[name="login"]', SUBJECT);
      await page.fill('input[name="password"]', 'anything');
      await page.click('button[type="submit"]');
      const consent = page.locator('button:text("Continue")');
      await page.waitForURL(
        (url) => url.origin === appOrigin || url.pathname.includes('/interaction'),
      );
      if (await consent.isVisible().catch(() => false)) await consent.click();
      await page.waitForURL(`${appOrigin}/app/**`);
      await page.waitForSelector('.round-link a');
      expect(await page.textContent('h2')).toBe(unitName);
      // No code or state left in the address bar, and a bearer JWT for the API in the session.
      expect(new URL(page.url()).search).toBe('');
      const session = JSON.parse(
        String(await page.evaluate('localStorage.getItem("lineal.session")')),
      );
      expect(session.kind).toBe('oidc');
      expect(session.token.split('.')).toHaveLength(3);
      const me = await t.app.inject({
        method: 'GET',
        url: '/v1/me',
        headers: { authorization: `Bearer ${session.token}` },
      });
      expect(me.json().principal).toMatchObject({
        kind: 'oidc',
        id: SUBJECT,
        role: 'unit_staff',
        unitIds: account.units,
      });
      expect(await axeViolations(page)).toEqual([]);
      // Sign-out ends the provider's session too (RP-initiated logout), and comes back.
      await page.click('button:text("Log ud")');
      await page.waitForURL(`${issuer}/**`);
      await page.click('button:text("Yes, sign me out")');
      await page.waitForURL(`${appOrigin}/app/**`);
      await page.waitForSelector('#api-key');
      expect(await page.evaluate('localStorage.getItem("lineal.session")')).toBeNull();
      // The next person at this tablet is asked to log in, not signed in as Mette.
      await page.click('button:text("Log ind med kommunens login")');
      await page.waitForURL(`${issuer}/**`);
      await page.waitForSelector('input[name="login"]');
    });
  },
  {
    oidc: (): OidcConfig => ({
      issuer,
      audience: AUDIENCE,
      jwksUrl: `${issuer}/jwks`,
      algorithms: ['RS256'],
      claims: { municipality: 'municipality', role: 'lineal_role', units: 'lineal_units' },
      clockToleranceSeconds: 30,
      app: { clientId: CLIENT_ID, scope: 'openid' },
    }),
  },
);
