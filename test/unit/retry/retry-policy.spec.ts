import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';
import {
  checkRetryPolicy,
  mergeRetryPolicies,
  RETRY_DEFAULTS,
} from '../../../packages/nest-jobs/src/retry/retry-policy.js';

describe('retry policy: jitter', () => {
  it("defaults to 'upper-half' (the behaviour before jitter was an option)", () => {
    expect(RETRY_DEFAULTS.jitter).toBe('upper-half');
    expect(mergeRetryPolicies({ type: 'fixed' }).jitter).toBe('upper-half');
  });

  it('accepts both values, and a later layer overrides an earlier one', () => {
    expect(checkRetryPolicy('retry', { jitter: 'none' })).toEqual({
      jitter: 'none',
    });
    expect(checkRetryPolicy('retry', { jitter: 'upper-half' })).toEqual({
      jitter: 'upper-half',
    });
    expect(
      mergeRetryPolicies({ jitter: 'none' }, { baseMs: 10 }, undefined),
    ).toEqual({
      type: 'exponential',
      baseMs: 10,
      capMs: 3_600_000,
      jitter: 'none',
    });
    expect(
      mergeRetryPolicies({ jitter: 'none' }, { jitter: 'upper-half' }).jitter,
    ).toBe('upper-half');
  });

  it.each([true, false, 'full', null, 0])(
    'rejects jitter %p with an error naming the option path',
    (jitter) => {
      let caught: unknown;
      try {
        checkRetryPolicy('retry', { jitter });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(InvalidJobsOptionError);
      expect((caught as InvalidJobsOptionError).option).toBe('retry.jitter');
      expect((caught as Error).message).toContain(
        'expected one of upper-half, none',
      );
    },
  );
});
