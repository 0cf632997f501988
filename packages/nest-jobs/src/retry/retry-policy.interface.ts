/**
 * How long to wait before the next attempt of a failed job.
 * - `exponential` (default): `baseMs * 2^(attempt-1)`, capped at `capMs`, with full jitter
 *   in the upper half (the delay is between 50% and 100% of the computed value).
 * - `fixed`: always `baseMs` (with the same jitter).
 * - `none`: never retry; the job fails for good at its first failure (`maxRetries` becomes 0).
 */
export interface RetryPolicy {
  /** Backoff kind. Default `exponential`. */
  type?: 'exponential' | 'fixed' | 'none';
  /** Delay of the first retry in milliseconds. Default 1000. */
  baseMs?: number;
  /** Longest delay in milliseconds. Default one hour. */
  capMs?: number;
}

/** A retry policy with every field set. */
export type ResolvedRetryPolicy = Required<RetryPolicy>;
