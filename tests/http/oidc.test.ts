import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import {
  type CryptoKey,
  exportJWK,
  generateKeyPair,
  type JWTPayload,
  SignJWT,
  UnsecuredJWT,
} from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/app.js';
import { loadConfig, type OidcConfig } from '../../src/config.js';
import { describeEngines, TEST_CPR_SECRET } from '../support/engines.js';
import {
  createChild,
  createKey,
  createMunicipality,
  createTenant,
  createUnit,
} from '../support/factories.js';
import { expectProblem } from '../support/problem.js';

const ISSUER = 'https://login.kommune.example/realms/lineal';
const AUDIENCE = 'lineal-api';
/** A namespaced municipality claim, to show the claim names are configurable. */
const MUNICIPALITY_CLAIM = 'https://lineal.example/municipality';

interface KeyPair {
  publicKey: CryptoKey;
  privateKey: CryptoKey;
}
let rsa: KeyPair;
let ec: KeyPair;
/** Not published in the JWKS. */
let stranger: KeyPair;
let server: Server;
let baseUrl: string;
let jwksRequests = 0;

function oidcConfig(jwksPath = '/jwks'): OidcConfig {
  const config = loadConfig({
    OIDC_ISSUER: ISSUER,
    OIDC_AUDIENCE: AUDIENCE,
    OIDC_JWKS_URL: `${baseUrl}${jwksPath}`,
    OIDC_CLAIM_MUNICIPALITY: MUNICIPALITY_CLAIM,
  }).oidc;
  if (!config) throw new Error('OIDC config expected');
  return config;
}

// File-level hooks run before describeEngines builds its apps, which read oidcConfig().
beforeAll(async () => {
  rsa = await generateKeyPair('RS256');
  ec = await generateKeyPair('ES256');
  stranger = await generateKeyPair('RS256');
  const jwks = {
    keys: [
      { ...(await exportJWK(rsa.publicKey)), kid: 'rsa-1', alg: 'RS256', use: 'sig' },
      { ...(await exportJWK(ec.publicKey)), kid: 'ec-1', alg: 'ES256', use: 'sig' },
    ],
  };
  server = createServer((req, res) => {
    if (req.url === '/jwks') {
      jwksRequests += 1;
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(jwks));
    } else {
      res.writeHead(500).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((resolve) => server?.close(() => resolve()));
});

describeEngines(
  'sign-in with an identity provider (OIDC)',
  (t) => {
    const seconds = () => Math.floor(t.clock.now().getTime() / 1000);

    /** A signed access token: valid claims unless overridden (`undefined` removes a claim). */
    async function token(
      claims: Record<string, unknown>,
      header: { alg?: string; kid?: string; key?: CryptoKey | Uint8Array } = {},
    ): Promise<string> {
      const payload: Record<string, unknown> = {
        iss: ISSUER,
        aud: AUDIENCE,
        sub: randomUUID(),
        iat: seconds(),
        exp: seconds() + 300,
        ...claims,
      };
      for (const [name, value] of Object.entries(payload)) {
        if (value === undefined) delete payload[name];
      }
      const alg = header.alg ?? 'RS256';
      return new SignJWT(payload as JWTPayload)
        .setProtectedHeader({ alg, kid: header.kid ?? (alg === 'ES256' ? 'ec-1' : 'rsa-1') })
        .sign(header.key ?? (alg === 'ES256' ? ec.privateKey : rsa.privateKey));
    }

    async function expectRejected(jwt: string, detail: RegExp) {
      const res = await t.call('GET', '/v1/me', { token: jwt });
      const problem = expectProblem(res, 401);
      expect(res.headers['www-authenticate']).toBe('Bearer realm="lineal", error="invalid_token"');
      expect(problem.detail).toMatch(detail);
      expect(res.body).not.toContain(jwt);
      return problem;
    }

    let municipality: { id: string; code: string };
    let admin: { token: string };
    let unitA: { id: string };
    let unitB: { id: string };
    let fetchesBefore = 0;
    beforeAll(async () => {
      fetchesBefore = jwksRequests;
      ({ municipality, admin } = await createTenant(t));
      unitA = await createUnit(t, admin.token);
      unitB = await createUnit(t, admin.token);
    });

    const claimsFor = (role: string, extra: Record<string, unknown> = {}) => ({
      [MUNICIPALITY_CLAIM]: municipality.code,
      lineal_role: role,
      ...extra,
    });

    it('a valid token signs in: /v1/me reports the subject, role, municipality and units', async () => {
      const sub = randomUUID();
      const jwt = await token(claimsFor('unit_staff', { sub, lineal_units: [unitA.id] }));
      const res = await t.call('GET', '/v1/me', { token: jwt });
      expect(res.statusCode, res.body).toBe(200);
      const body = res.json();
      expect(body.principal).toEqual({
        kind: 'oidc',
        id: sub,
        role: 'unit_staff',
        municipalityId: municipality.id,
        unitIds: [unitA.id],
      });
      expect(body.permissions).toContain('child:write');
      expect(body.permissions).not.toContain('unit:write');
    });

    it('names the municipality by its code or by its id', async () => {
      for (const ref of [municipality.code, municipality.id, municipality.id.toUpperCase()]) {
        const jwt = await token(claimsFor('analyst', { [MUNICIPALITY_CLAIM]: ref }));
        const res = await t.call('GET', '/v1/me', { token: jwt });
        expect(res.statusCode, res.body).toBe(200);
        expect(res.json().principal.municipalityId).toBe(municipality.id);
      }
    });

    it('acts on real routes in its municipality, limited to its units', async () => {
      const inA = await createChild(t, admin.token, { unitId: unitA.id });
      const inB = await createChild(t, admin.token, { unitId: unitB.id });
      const staff = await token(claimsFor('unit_staff', { lineal_units: [unitA.id] }));

      const units = await t.call('GET', '/v1/units', { token: staff });
      expect(units.statusCode, units.body).toBe(200);
      const unitIds = units.json().items.map((u: { id: string }) => u.id);
      expect(unitIds).toEqual(expect.arrayContaining([unitA.id, unitB.id]));

      const children = await t.call('GET', '/v1/children', { token: staff });
      expect(children.statusCode, children.body).toBe(200);
      const childIds = children.json().items.map((c: { id: string }) => c.id);
      expect(childIds).toContain(inA.id);
      expect(childIds).not.toContain(inB.id);

      // A write that records the principal (idempotency keys are stored per principal).
      const created = await t.call('POST', '/v1/children', {
        token: staff,
        headers: { 'idempotency-key': randomUUID() },
        body: {
          externalRef: `oidc-${randomUUID()}`,
          birthDate: '2022-03-01',
          enrolment: { unitId: unitA.id, startDate: '2025-08-01' },
        },
      });
      expect(created.statusCode, created.body).toBe(201);

      // Another municipality's administrator sees none of it.
      const other = await createMunicipality(t);
      const otherAdmin = await token({
        [MUNICIPALITY_CLAIM]: other.code,
        lineal_role: 'municipality_admin',
      });
      const otherUnits = await t.call('GET', '/v1/units', { token: otherAdmin });
      expect(otherUnits.statusCode, otherUnits.body).toBe(200);
      expect(otherUnits.json().items).toEqual([]);
    });

    it('the permission table applies: an analyst gets 403 on a write route', async () => {
      const analyst = await token(claimsFor('analyst'), { alg: 'ES256' });
      expect((await t.call('GET', '/v1/me', { token: analyst })).statusCode).toBe(200);
      const res = await t.call('POST', '/v1/units', {
        token: analyst,
        body: { name: 'Nope', kind: 'kindergarten' },
      });
      expect(expectProblem(res, 403).detail).toMatch(/analyst.*unit:write/);
    });

    it('401 for the wrong issuer or audience', async () => {
      await expectRejected(
        await token(claimsFor('analyst', { iss: 'https://evil.example' })),
        /issuer/,
      );
      await expectRejected(await token(claimsFor('analyst', { aud: 'another-api' })), /audience/);
    });

    it('401 for an expired or not-yet-valid token, with the configured clock tolerance', async () => {
      await expectRejected(
        await token(claimsFor('analyst', { iat: seconds() - 7200, exp: seconds() - 3600 })),
        /expired/,
      );
      await expectRejected(
        await token(claimsFor('analyst', { nbf: seconds() + 3600 })),
        /not valid yet/,
      );
      await expectRejected(await token(claimsFor('analyst', { exp: undefined })), /exp claim/);
      // Within the 30 seconds of tolerance: still accepted.
      const late = await token(claimsFor('analyst', { exp: seconds() - 10 }));
      expect((await t.call('GET', '/v1/me', { token: late })).statusCode).toBe(200);
    });

    it('401 for a signature by another key, under a known or an unknown kid', async () => {
      await expectRejected(
        await token(claimsFor('analyst'), { kid: 'rsa-1', key: stranger.privateKey }),
        /signature is not valid/,
      );
      await expectRejected(
        await token(claimsFor('analyst'), { kid: 'rotated-away', key: stranger.privateKey }),
        /not signed with any of the identity provider's keys/,
      );
    });

    it('401 for alg none, HS256 and a malformed token', async () => {
      const unsigned = new UnsecuredJWT({
        ...claimsFor('municipality_admin'),
        sub: randomUUID(),
      })
        .setIssuer(ISSUER)
        .setAudience(AUDIENCE)
        .setIssuedAt(seconds())
        .setExpirationTime(seconds() + 300)
        .encode();
      await expectRejected(unsigned, /algorithm is not allowed/);

      const hmac = await token(claimsFor('municipality_admin'), {
        alg: 'HS256',
        key: new TextEncoder().encode('a shared secret of at least 32 bytes!'),
      });
      await expectRejected(hmac, /algorithm is not allowed/);

      // Signatures are checked before anything else is read from the token.
      await expectRejected('eyJhbGciOiJSUzI1NiJ9.e30.AAAA', /signature is not valid/);
      await expectRejected('not-a-token', /malformed/);
      await expectRejected('a.b', /malformed/);
    });

    it('401 without a usable subject', async () => {
      await expectRejected(await token(claimsFor('analyst', { sub: undefined })), /sub claim/);
      await expectRejected(
        await token(claimsFor('analyst', { sub: 'user@kommune.example' })),
        /sub claim must be a UUID/,
      );
    });

    it('401 for a missing, unknown or ungrantable role', async () => {
      await expectRejected(
        await token({ [MUNICIPALITY_CLAIM]: municipality.code }),
        /no role claim \(lineal_role\)/,
      );
      await expectRejected(await token(claimsFor('superuser')), /not a known role/);
      await expectRejected(await token(claimsFor(['analyst'] as never)), /not a known role/);
      await expectRejected(
        await token(claimsFor('platform_admin')),
        /platform_admin cannot be granted/,
      );
    });

    it('401 for an unknown or missing municipality', async () => {
      await expectRejected(
        await token(claimsFor('analyst', { [MUNICIPALITY_CLAIM]: '998' })),
        /municipality is unknown/,
      );
      await expectRejected(
        await token(claimsFor('analyst', { [MUNICIPALITY_CLAIM]: randomUUID() })),
        /municipality is unknown/,
      );
      await expectRejected(
        await token(claimsFor('analyst', { [MUNICIPALITY_CLAIM]: 'København' })),
        /id or 3-digit code/,
      );
      await expectRejected(
        await token({ lineal_role: 'analyst' }),
        /no municipality claim \(https:\/\/lineal.example\/municipality\)/,
      );
    });

    it('401 for units outside the municipality, and for units that do not fit the role', async () => {
      const other = await createTenant(t);
      const foreignUnit = await createUnit(t, other.admin.token);
      await expectRejected(
        await token(claimsFor('unit_leader', { lineal_units: [unitA.id, foreignUnit.id] })),
        /1 unit\(s\) that are not in its municipality/,
      );
      await expectRejected(
        await token(claimsFor('unit_staff', { lineal_units: [randomUUID()] })),
        /not in its municipality/,
      );
      await expectRejected(
        await token(claimsFor('unit_staff', { lineal_units: ['Solsikken'] })),
        /array of unit ids/,
      );
      await expectRejected(await token(claimsFor('unit_staff')), /at least one unit/);
      await expectRejected(
        await token(claimsFor('unit_leader', { lineal_units: [] })),
        /at least one unit/,
      );
      await expectRejected(
        await token(claimsFor('municipality_admin', { lineal_units: [unitA.id] })),
        /whole municipality/,
      );
    });

    it('API keys keep working next to access tokens', async () => {
      const analyst = await createKey(t, municipality.id, 'analyst', { token: admin.token });
      const res = await t.call('GET', '/v1/me', { token: analyst.token });
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json().principal).toMatchObject({ kind: 'api_key', id: analyst.id });
      expect((await t.call('GET', '/v1/municipalities')).statusCode).toBe(200);
      const malformedKey = await t.call('GET', '/v1/me', { token: 'lnl_123_abc' });
      expect(expectProblem(malformedKey, 401).detail).toMatch(/API key is malformed/);
    });

    it('fetched the JWKS once and cached it (an unknown kid may refetch it once)', () => {
      const fetches = jwksRequests - fetchesBefore;
      expect(fetches).toBeGreaterThanOrEqual(1);
      expect(fetches).toBeLessThanOrEqual(2);
    });

    describe('other configurations', () => {
      async function appWith(oidc: OidcConfig | undefined): Promise<FastifyInstance> {
        return buildApp({
          config: { bodyLimitBytes: 64 * 1024, trustProxy: false },
          cprSecret: TEST_CPR_SECRET,
          database: t.database,
          now: t.clock.now,
          oidc,
        });
      }

      it('an issuer bound to other municipalities (OIDC_MUNICIPALITIES) cannot name this one', async () => {
        const bound = await appWith({ ...oidcConfig(), municipalities: ['998'] });
        const open = await appWith({ ...oidcConfig(), municipalities: [municipality.code] });
        try {
          const jwt = await token(claimsFor('analyst'));
          const ask = (app: FastifyInstance) =>
            app.inject({
              method: 'GET',
              url: '/v1/me',
              headers: { authorization: `Bearer ${jwt}` },
            });
          expect(expectProblem(await ask(bound), 401).detail).toMatch(/may name/);
          expect((await ask(open)).statusCode).toBe(200);
        } finally {
          await bound.close();
          await open.close();
        }
      });

      it('without OIDC configured, a JWT is rejected with 401', async () => {
        const app = await appWith(undefined);
        try {
          const jwt = await token(claimsFor('analyst'));
          const res = await app.inject({
            method: 'GET',
            url: '/v1/me',
            headers: { authorization: `Bearer ${jwt}` },
          });
          expect(expectProblem(res, 401).detail).toMatch(
            /not a valid API key.*identity provider is not configured/,
          );
          const key = await app.inject({
            method: 'GET',
            url: '/v1/me',
            headers: { authorization: `Bearer ${t.platformToken}` },
          });
          expect(key.statusCode).toBe(200);
        } finally {
          await app.close();
        }
      });

      it('503 when the JWKS cannot be fetched (not the caller’s fault)', async () => {
        const app = await appWith(oidcConfig('/unavailable'));
        try {
          const jwt = await token(claimsFor('analyst'));
          const res = await app.inject({
            method: 'GET',
            url: '/v1/me',
            headers: { authorization: `Bearer ${jwt}` },
          });
          expect(expectProblem(res, 503).detail).toMatch(/signing keys could not be fetched/);
        } finally {
          await app.close();
        }
      });
    });
  },
  { oidc: () => oidcConfig() },
);
