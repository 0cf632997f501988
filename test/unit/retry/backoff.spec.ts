import { describe, expect, it } from '@jest/globals';
import { retryDelayMs } from '../../../packages/nest-jobs/src/retry/backoff.js';

const exponential = {
  type: 'exponential',
  baseMs: 1000,
  capMs: 60_000,
  jitter: 'upper-half',
} as const;

describe('retryDelayMs', () => {
  it('doubles from the base with each attempt: base * 2^(n-1), top of the jitter range', () => {
    expect(
      [1, 2, 3, 4].map((attempt) =>
        retryDelayMs(exponential, attempt, () => 1),
      ),
    ).toEqual([1000, 2000, 4000, 8000]);
  });

  it('keeps jitter within [50%, 100%] of the computed delay', () => {
    expect(retryDelayMs(exponential, 3, () => 0)).toBe(2000);
    expect(retryDelayMs(exponential, 3, () => 0.5)).toBe(3000);
    for (let i = 0; i < 200; i += 1) {
      const delay = retryDelayMs(exponential, 2)!;
      expect(delay).toBeGreaterThanOrEqual(1000);
      expect(delay).toBeLessThanOrEqual(2000);
    }
  });

  it('caps the delay, also for huge attempt numbers', () => {
    expect(retryDelayMs(exponential, 10, () => 1)).toBe(60_000);
    expect(retryDelayMs(exponential, 10_000, () => 1)).toBe(60_000);
  });

  it('fixed policy waits the base every time', () => {
    const fixed = {
      type: 'fixed',
      baseMs: 500,
      capMs: 60_000,
      jitter: 'upper-half',
    } as const;
    expect(
      [1, 2, 5].map((attempt) => retryDelayMs(fixed, attempt, () => 1)),
    ).toEqual([500, 500, 500]);
    // The default jitter applies to fixed too: a burst of failures spreads out.
    expect(retryDelayMs(fixed, 1, () => 0)).toBe(250);
  });

  it("jitter 'none' returns the computed delay exactly, for fixed and exponential", () => {
    const fixed = {
      type: 'fixed',
      baseMs: 500,
      capMs: 60_000,
      jitter: 'none',
    } as const;
    for (const random of [() => 0, () => 0.3, () => 0.999]) {
      expect(retryDelayMs(fixed, 3, random)).toBe(500);
      expect(retryDelayMs({ ...exponential, jitter: 'none' }, 3, random)).toBe(
        4000,
      );
      expect(retryDelayMs({ ...exponential, jitter: 'none' }, 30, random)).toBe(
        60_000,
      );
    }
  });

  it('none policy never retries', () => {
    expect(
      retryDelayMs(
        { type: 'none', baseMs: 1000, capMs: 1000, jitter: 'upper-half' },
        1,
      ),
    ).toBeNull();
  });
});
