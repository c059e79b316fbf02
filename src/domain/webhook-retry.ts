/**
 * When a failed webhook delivery is tried again: exponential backoff with jitter, and a dead
 * letter after the last attempt. Pure: the clock and the random draw are arguments.
 */
export interface RetryPolicy {
  /** Attempts in all, the first included; the delivery is dead when the last one fails. */
  maxAttempts: number;
  /** The delay after the first failure; doubled after each further one. */
  baseMs: number;
  /** No delay is longer. */
  maxMs: number;
}

/**
 * The delay after `failedAttempts` failures (≥ 1): `base · 2^(failedAttempts−1)`, capped at
 * `maxMs`, of which the first half is fixed and the second half random ("equal jitter"): the
 * delays grow, and instances that failed together do not all retry at the same moment.
 * `random` is a draw from [0, 1).
 */
export function retryDelayMs(failedAttempts: number, policy: RetryPolicy, random: number): number {
  const exponent = Math.min(Math.max(failedAttempts, 1) - 1, 40);
  const capped = Math.min(policy.baseMs * 2 ** exponent, policy.maxMs);
  const half = capped / 2;
  return Math.round(half + half * Math.min(Math.max(random, 0), 1));
}

export type AfterFailure = { status: 'dead' } | { status: 'pending'; nextAttemptAt: Date };

/** What becomes of a delivery whose attempt number `attempts` (1 = the first) failed at `now`. */
export function afterFailure(
  attempts: number,
  policy: RetryPolicy,
  now: Date,
  random: number,
): AfterFailure {
  if (attempts >= policy.maxAttempts) return { status: 'dead' };
  return {
    status: 'pending',
    nextAttemptAt: new Date(now.getTime() + retryDelayMs(attempts, policy, random)),
  };
}
