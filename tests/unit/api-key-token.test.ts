import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  generateToken,
  hashToken,
  parseToken,
  tokenMatches,
} from '../../src/auth/api-key-token.js';

describe('API key tokens', () => {
  it('have a recognisable prefix, a public key id and 256 bits of secret', () => {
    const { token, keyId, hash } = generateToken();
    expect(token).toMatch(/^lnl_[0-9a-f]{16}_[A-Za-z0-9_-]{43}$/);
    expect(parseToken(token)).toEqual({ keyId });
    expect(hash).toHaveLength(32);
    expect(tokenMatches(token, hash)).toBe(true);
  });

  it('are unique', () => {
    const tokens = new Set(Array.from({ length: 1000 }, () => generateToken().token));
    expect(tokens.size).toBe(1000);
  });

  it('reject malformed tokens', () => {
    for (const bad of [
      '',
      'lnl_',
      'lnl_0123456789abcdef_short',
      'lnx_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'lnl_0123456789ABCDEF_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA',
      'lnl_0123456789abcdef_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA ',
    ]) {
      expect(parseToken(bad), bad).toBeUndefined();
    }
  });

  it('never match a hash of a different token (property)', () => {
    const { token, hash } = generateToken();
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 80 }), (other) => {
        fc.pre(other !== token);
        expect(tokenMatches(other, hash)).toBe(false);
      }),
    );
  });

  it('change their hash with any single changed character (property)', () => {
    const { token, hash } = generateToken();
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: token.length - 1 }),
        fc.constantFrom(...'abcdefABCDEF0123456789_-'),
        (index, replacement) => {
          fc.pre(token[index] !== replacement);
          const changed = token.slice(0, index) + replacement + token.slice(index + 1);
          expect(tokenMatches(changed, hash)).toBe(false);
          expect(hashToken(changed).equals(hash)).toBe(false);
        },
      ),
    );
  });

  it('do not match a stored hash of the wrong length', () => {
    const { token } = generateToken();
    expect(tokenMatches(token, new Uint8Array(16))).toBe(false);
  });
});
