/**
 * Sign-in with the municipality's identity provider: OpenID Connect authorization code flow
 * with PKCE (S256) for a public client, using oauth4webapi. The service publishes the issuer
 * and the app's client id (GET /sign-in-options); the access token it gets is what the API
 * verifies (OIDC_ISSUER/OIDC_AUDIENCE). The verifier, state and nonce live in sessionStorage
 * for the round trip only.
 */
import * as oauth from 'oauth4webapi';
import type { SignedIn } from './session.js';

export interface OidcOptions {
  issuer: string;
  clientId: string;
  scope: string;
  /** The API's audience, asked for as an RFC 8707 resource indicator. */
  resource: string | null;
}

export interface SignInConfig {
  oidc: OidcOptions | null;
}

const PENDING = 'lineal.oidc.pending';

export async function fetchSignInConfig(): Promise<SignInConfig> {
  const response = await fetch('/sign-in-options');
  if (!response.ok) throw new Error(`sign-in options: HTTP ${response.status}`);
  return (await response.json()) as SignInConfig;
}

/** Plain http is accepted for an identity provider on this machine only (development, tests). */
function options(issuer: URL) {
  const local = ['localhost', '127.0.0.1', '[::1]'].includes(issuer.hostname);
  return local ? { [oauth.allowInsecureRequests]: true } : {};
}

async function discover(issuer: URL): Promise<oauth.AuthorizationServer> {
  const response = await oauth.discoveryRequest(issuer, { algorithm: 'oidc', ...options(issuer) });
  return oauth.processDiscoveryResponse(issuer, response);
}

const redirectUri = () => `${location.origin}/app/`;

export async function startOidcSignIn(oidc: OidcOptions): Promise<void> {
  const issuer = new URL(oidc.issuer);
  const as = await discover(issuer);
  if (!as.authorization_endpoint)
    throw new Error('the identity provider has no authorization endpoint');
  const verifier = oauth.generateRandomCodeVerifier();
  const state = oauth.generateRandomState();
  const nonce = oauth.generateRandomNonce();
  sessionStorage.setItem(PENDING, JSON.stringify({ verifier, state, nonce, oidc }));
  const url = new URL(as.authorization_endpoint);
  url.searchParams.set('client_id', oidc.clientId);
  url.searchParams.set('redirect_uri', redirectUri());
  url.searchParams.set('response_type', 'code');
  url.searchParams.set('scope', oidc.scope);
  url.searchParams.set('code_challenge', await oauth.calculatePKCECodeChallenge(verifier));
  url.searchParams.set('code_challenge_method', 'S256');
  url.searchParams.set('state', state);
  url.searchParams.set('nonce', nonce);
  if (oidc.resource) url.searchParams.set('resource', oidc.resource);
  location.assign(url.href);
}

/**
 * Back from the identity provider (…/app/?code=…&state=…): checks the state, exchanges the
 * code (with the PKCE verifier) for tokens, and removes the parameters from the address bar.
 * Undefined when this page load is not such a return.
 */
export async function completeOidcSignIn(): Promise<SignedIn | undefined> {
  const params = new URLSearchParams(location.search);
  if (!params.has('state') || !(params.has('code') || params.has('error'))) return undefined;
  const raw = sessionStorage.getItem(PENDING);
  sessionStorage.removeItem(PENDING);
  history.replaceState(null, '', `${location.pathname}${location.hash}`);
  if (!raw) throw new Error('no sign-in was started in this tab');
  const pending = JSON.parse(raw) as {
    verifier: string;
    state: string;
    nonce: string;
    oidc: OidcOptions;
  };
  const issuer = new URL(pending.oidc.issuer);
  const as = await discover(issuer);
  const client: oauth.Client = { client_id: pending.oidc.clientId };
  const callback = oauth.validateAuthResponse(as, client, params, pending.state);
  const response = await oauth.authorizationCodeGrantRequest(
    as,
    client,
    oauth.None(),
    callback,
    redirectUri(),
    pending.verifier,
    {
      ...options(issuer),
      ...(pending.oidc.resource
        ? { additionalParameters: { resource: pending.oidc.resource } }
        : {}),
    },
  );
  const tokens = await oauth.processAuthorizationCodeResponse(as, client, response, {
    expectedNonce: pending.nonce,
    requireIdToken: true,
  });
  return {
    kind: 'oidc',
    token: tokens.access_token,
    ...(tokens.expires_in ? { expiresAt: Date.now() + tokens.expires_in * 1000 } : {}),
    ...(tokens.id_token ? { idToken: tokens.id_token } : {}),
  };
}

/**
 * Where to send the browser to end the session at the identity provider too (RP-initiated
 * logout), or undefined when the provider offers no end-session endpoint. On a shared tablet
 * this is what keeps the next user from being signed in as the previous one.
 */
export async function endSessionUrl(
  oidc: OidcOptions,
  idToken: string | undefined,
): Promise<string | undefined> {
  const as = await discover(new URL(oidc.issuer));
  if (!as.end_session_endpoint) return undefined;
  const url = new URL(as.end_session_endpoint);
  url.searchParams.set('client_id', oidc.clientId);
  url.searchParams.set('post_logout_redirect_uri', redirectUri());
  if (idToken) url.searchParams.set('id_token_hint', idToken);
  return url.href;
}
