import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * API key tokens: `lnl_<key id: 16 hex>_<secret: 43 base64url chars (256 bits)>`.
 * The prefix makes a leaked key recognisable (secret scanners, logs); the key id is public and
 * finds the stored row; only the SHA-256 of the whole token is stored. A slow password hash is
 * not needed: the secret has 256 bits of entropy, so it cannot be guessed from its hash.
 */
const TOKEN_PATTERN = /^lnl_([0-9a-f]{16})_([A-Za-z0-9_-]{43})$/;

export interface GeneratedToken {
  token: string;
  keyId: string;
  hash: Buffer;
}

export function hashToken(token: string): Buffer {
  return createHash('sha256').update(token, 'utf8').digest();
}

export function generateToken(): GeneratedToken {
  const keyId = randomBytes(8).toString('hex');
  const secret = randomBytes(32).toString('base64url');
  const token = `lnl_${keyId}_${secret}`;
  return { token, keyId, hash: hashToken(token) };
}

/** The key id of a well-formed token, or undefined. */
export function parseToken(token: string): { keyId: string } | undefined {
  const match = TOKEN_PATTERN.exec(token);
  return match?.[1] ? { keyId: match[1] } : undefined;
}

/** Constant-time comparison of a presented token with a stored hash. */
export function tokenMatches(token: string, storedHash: Uint8Array): boolean {
  const presented = hashToken(token);
  return presented.length === storedHash.length && timingSafeEqual(presented, storedHash);
}
