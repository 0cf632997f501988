import type { ResolvedRetryPolicy } from './retry-policy.interface.js';

/**
 * Delay before the retry that follows failed attempt `attempt` (1-based), or null when the
 * policy never retries. Exponential: `base * 2^(attempt-1)`, capped; fixed: `base`, capped.
 * Jitter `upper-half` keeps the delay in [50%, 100%] of that value so failed bursts do not
 * retry in lockstep; `none` returns it exactly. `random` is injectable so the formula is
 * testable.
 */
export function retryDelayMs(
  policy: ResolvedRetryPolicy,
  attempt: number,
  random: () => number = Math.random,
): number | null {
  if (policy.type === 'none') return null;
  const exponent = Math.max(0, attempt - 1);
  const raw =
    policy.type === 'fixed'
      ? policy.baseMs
      : policy.baseMs * 2 ** Math.min(exponent, 52);
  const capped = Math.min(raw, policy.capMs);
  if (policy.jitter === 'none') return capped;
  return Math.round(capped * (0.5 + random() * 0.5));
}

/** Reconnection and outcome-rewrite delays: from 250 ms, doubling, at most 10 s. */
export const RECONNECT_BACKOFF = { baseMs: 250, capMs: 10_000 } as const;

/**
 * Delay before reconnecting or rewriting after `failures` failures in a row (1-based):
 * capped exponential, no jitter (one connection per process, nothing to spread).
 */
export function reconnectDelayMs(
  backoff: { baseMs: number; capMs: number },
  failures: number,
): number {
  return Math.min(
    backoff.capMs,
    backoff.baseMs * 2 ** Math.min(Math.max(failures, 1) - 1, 10),
  );
}
