/**
 * How long to wait before the next attempt of a failed job.
 * - `exponential` (default): `baseMs * 2^(attempt-1)`, capped at `capMs`.
 * - `fixed`: always `baseMs` (capped at `capMs`).
 * - `none`: never retry; the job fails for good at its first failure (`maxRetries` becomes 0).
 *
 * `jitter` then spreads the computed delay: `upper-half` (default) picks it uniformly
 * between 50% and 100% of that value, `none` uses it exactly.
 */
export interface RetryPolicy {
  /** Backoff kind. Default `exponential`. */
  type?: 'exponential' | 'fixed' | 'none';
  /** Delay of the first retry in milliseconds. Default 1000. */
  baseMs?: number;
  /** Longest delay in milliseconds. Default one hour. */
  capMs?: number;
  /**
   * How the computed delay is spread. `upper-half` (default): uniformly between 50% and 100%
   * of it, so jobs that failed together do not all retry at the same moment; `none`: exactly
   * the computed delay (e.g. a `fixed` policy that must wait `baseMs` to the millisecond).
   */
  jitter?: RetryJitter;
}

/** How a retry policy spreads its computed delay; see {@link RetryPolicy.jitter}. */
export type RetryJitter = 'upper-half' | 'none';

/** A retry policy with every field set. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;
