/**
 * The signed-in session: an API key pasted by the user, or the identity provider's access
 * token (OIDC authorization code + PKCE, oidc.ts). Kept in localStorage so the app works after
 * a reload without a connection; sign-out removes it together with everything else the app
 * stored (storage.ts clearAll).
 */
import { clearAll } from './storage.js';

export interface SignedIn {
  kind: 'api_key' | 'oidc';
  token: string;
  /** For OIDC: when the access token expires (ms since epoch). */
  expiresAt?: number;
  /** For OIDC: the id token, sent as id_token_hint at the provider's sign-out. */
  idToken?: string;
}

const KEY = 'lineal.session';

export function loadSession(): SignedIn | undefined {
  try {
    const raw = localStorage.getItem(KEY);
    if (!raw) return undefined;
    const parsed = JSON.parse(raw) as SignedIn;
    return typeof parsed.token === 'string' && parsed.token ? parsed : undefined;
  } catch {
    return undefined;
  }
}

export function saveSession(session: SignedIn): void {
  localStorage.setItem(KEY, JSON.stringify(session));
}

/** Forgets the session only (it ended: an expired sign-in, a revoked key); the outbox stays. */
export function forgetSession(): void {
  localStorage.removeItem(KEY);
}

/** Removes the session and everything stored for it (the language choice stays). */
export async function signOut(): Promise<void> {
  const lang = localStorage.getItem('lineal.lang');
  localStorage.clear();
  sessionStorage.clear();
  if (lang) localStorage.setItem('lineal.lang', lang);
  await clearAll();
}
