import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { afterFailure, type RetryPolicy, retryDelayMs } from '../../src/domain/webhook-retry.js';

const policy: RetryPolicy = { maxAttempts: 5, baseMs: 1_000, maxMs: 10_000 };
const arbPolicy = fc
  .record({
    maxAttempts: fc.integer({ min: 1, max: 50 }),
    baseMs: fc.integer({ min: 10, max: 3_600_000 }),
    maxMs: fc.integer({ min: 10, max: 7 * 86_400_000 }),
  })
  .filter((p) => p.maxMs >= p.baseMs);
const arbRandom = fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true });

describe('webhook retry backoff', () => {
  it('doubles from the base, with half of the delay random, up to the cap', () => {
    expect(retryDelayMs(1, policy, 0)).toBe(500);
    expect(retryDelayMs(1, policy, 0.5)).toBe(750);
    expect(retryDelayMs(2, policy, 0)).toBe(1_000);
    expect(retryDelayMs(3, policy, 0.5)).toBe(3_000);
    expect(retryDelayMs(4, policy, 0.999)).toBe(7_996);
    expect(retryDelayMs(5, policy, 0)).toBe(5_000);
    expect(retryDelayMs(30, policy, 0.5)).toBe(7_500);
  });

  it('stays between half and all of the capped exponential delay', () => {
    fc.assert(
      fc.property(arbPolicy, fc.integer({ min: 1, max: 100 }), arbRandom, (p, n, r) => {
        const full = Math.min(p.baseMs * 2 ** Math.min(n - 1, 40), p.maxMs);
        const delay = retryDelayMs(n, p, r);
        expect(delay).toBeGreaterThanOrEqual(Math.floor(full / 2));
        expect(delay).toBeLessThanOrEqual(Math.ceil(full));
      }),
    );
  });

  it('never shrinks the lower bound as failures grow (with the same draw)', () => {
    fc.assert(
      fc.property(arbPolicy, fc.integer({ min: 1, max: 60 }), arbRandom, (p, n, r) => {
        expect(retryDelayMs(n + 1, p, r)).toBeGreaterThanOrEqual(retryDelayMs(n, p, r));
      }),
    );
  });

  it('is dead after the last attempt, pending with the delay before it', () => {
    const now = new Date('2026-12-05T00:00:00.000Z');
    expect(afterFailure(1, policy, now, 0.5)).toEqual({
      status: 'pending',
      nextAttemptAt: new Date('2026-12-05T00:00:00.750Z'),
    });
    expect(afterFailure(4, policy, now, 0)).toEqual({
      status: 'pending',
      nextAttemptAt: new Date('2026-12-05T00:00:04.000Z'),
    });
    expect(afterFailure(5, policy, now, 0)).toEqual({ status: 'dead' });
    fc.assert(
      fc.property(arbPolicy, fc.integer({ min: 1, max: 60 }), arbRandom, (p, n, r) => {
        const after = afterFailure(n, p, now, r);
        expect(after.status).toBe(n >= p.maxAttempts ? 'dead' : 'pending');
        if (after.status === 'pending') {
          expect(after.nextAttemptAt.getTime()).toBeGreaterThan(now.getTime());
        }
      }),
    );
  });
});
