import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { retryDelayAfterFailure } from '../../../packages/nest-jobs/src/retry/retry-decision.js';
import { mergeRetryPolicies } from '../../../packages/nest-jobs/src/retry/retry-policy.js';
import {
  checkMaxRetries,
  fromStoredMaxRetries,
  toStoredMaxRetries,
  UNLIMITED_RETRIES_STORED,
} from '../../../packages/nest-jobs/src/retry/unlimited-retries.js';

describe('maxRetries: Infinity', () => {
  it('is accepted beside the finite range, and nothing else unbounded is', () => {
    expect(checkMaxRetries('maxRetries', Infinity)).toBe(Infinity);
    expect(checkMaxRetries('maxRetries', 0)).toBe(0);
    expect(checkMaxRetries('maxRetries', 1_000_000)).toBe(1_000_000);
    for (const bad of [-Infinity, 1_000_001, NaN, 1.5, '3', null])
      expect(() => checkMaxRetries('maxRetries', bad)).toThrow(
        InvalidJobsOptionError,
      );
  });

  it('is stored as the largest integer and read back as Infinity', () => {
    expect(toStoredMaxRetries(Infinity)).toBe(2_147_483_647);
    expect(fromStoredMaxRetries(UNLIMITED_RETRIES_STORED)).toBe(Infinity);
    expect(toStoredMaxRetries(3)).toBe(3);
    expect(fromStoredMaxRetries(3)).toBe(3);
  });

  it('retries after any attempt, the backoff staying within its cap', () => {
    const policy = mergeRetryPolicies({
      type: 'exponential',
      baseMs: 1000,
      capMs: 60_000,
      jitter: 'none',
    });
    for (const attempt of [1, 30, 1_000_000, 2_000_000_000]) {
      const delay = retryDelayAfterFailure(
        { attempt, maxRetries: Infinity, retryPolicy: null },
        false,
        policy,
        undefined,
      );
      expect(delay).toBe(Math.min(60_000, 1000 * 2 ** (attempt - 1)));
    }
    // A fatal error still ends it.
    expect(
      retryDelayAfterFailure(
        { attempt: 5, maxRetries: Infinity, retryPolicy: null },
        true,
        policy,
        undefined,
      ),
    ).toBe(null);
  });
});
