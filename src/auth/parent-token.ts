import { randomBytes, randomUUID } from 'node:crypto';
import { hashToken } from './api-key-token.js';

/**
 * The parent view's credentials (issue 18), shaped like API keys: a recognisable prefix, a public
 * id that finds the stored row, and a 256-bit secret; only the SHA-256 of the whole string is
 * stored.
 *
 * - A link code, `lnpl_<link id: 32 hex>_<secret>`, travels in the fragment of the link the unit
 *   hands out (`/parents/#lnpl_…`): browsers never send a fragment to a server, so it stays out
 *   of access logs and Referer headers. It is exchanged once for a session.
 * - A session token, `lnps_<session id: 32 hex>_<secret>`, is the parent's bearer token until the
 *   session expires or is revoked.
 */
const LINK_PATTERN = /^lnpl_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;
const SESSION_PATTERN = /^lnps_([0-9a-f]{32})_([A-Za-z0-9_-]{43})$/;

export interface ParentCredential {
  /** The row id (a uuid). */
  id: string;
  token: string;
  hash: Buffer;
}

const hex = (uuid: string) => uuid.replaceAll('-', '');
const uuidOf = (h: string) =>
  `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;

function generate(prefix: 'lnpl' | 'lnps'): ParentCredential {
  const id = randomUUID();
  const token = `${prefix}_${hex(id)}_${randomBytes(32).toString('base64url')}`;
  return { id, token, hash: hashToken(token) };
}

export const generateLinkCode = () => generate('lnpl');
export const generateSessionToken = () => generate('lnps');

function parse(pattern: RegExp, token: string): { id: string; hash: Buffer } | undefined {
  const match = pattern.exec(token);
  return match?.[1] ? { id: uuidOf(match[1]), hash: hashToken(token) } : undefined;
}

/** The link id and hash of a well-formed link code, or undefined. */
export const parseLinkCode = (code: string) => parse(LINK_PATTERN, code);
/** The session id and hash of a well-formed session token, or undefined. */
export const parseSessionToken = (token: string) => parse(SESSION_PATTERN, token);
