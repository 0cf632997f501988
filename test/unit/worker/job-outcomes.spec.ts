import { describe, expect, it } from '@jest/globals';
import {
  InvalidJobOutcomeError,
  RescheduleJob,
  RetryJobAfter,
  SnoozeJob,
} from 'nest-jobs';

describe('SnoozeJob, RescheduleJob, RetryJobAfter: argument checks', () => {
  it.each([-1, 0.5, Number.NaN, Infinity, 1e300, '5', null, undefined, 10n])(
    'refuses the delay %p',
    (delay) => {
      expect(() => new SnoozeJob(delay as number)).toThrow(
        InvalidJobOutcomeError,
      );
      expect(() => new RetryJobAfter(delay as number)).toThrow(
        InvalidJobOutcomeError,
      );
    },
  );

  it('refuses an invalid Date and one PostgreSQL cannot store', () => {
    expect(() => new RescheduleJob(new Date(Number.NaN))).toThrow(
      /RescheduleJob\(runAt\): expected a valid Date/,
    );
    expect(() => new RescheduleJob(new Date(-8.64e15))).toThrow(
      /from 4714-11-24 BC on/,
    );
    expect(() => new RescheduleJob({} as Date)).toThrow(InvalidJobOutcomeError);
  });

  it('keeps a copy of the Date: changing the caller’s changes nothing', () => {
    const at = new Date('2030-01-01T00:00:00Z');
    const reschedule = new RescheduleJob(at);
    at.setFullYear(2040);
    expect(reschedule.runAt!.toISOString()).toBe('2030-01-01T00:00:00.000Z');
    expect(reschedule.delayMs).toBeNull();
  });

  it('accepts the limits', () => {
    expect(new SnoozeJob(0).delayMs).toBe(0);
    expect(new RescheduleJob(5).delayMs).toBe(5);
    expect(new RetryJobAfter(100, new Error('429')).cause).toBeInstanceOf(
      Error,
    );
  });
});
