import { describe, expect, it } from '@jest/globals';
import { InvalidJobsOptionError } from '../../../packages/nest-jobs/src/errors/invalid-options.error.js';
import { InvalidScheduleError } from '../../../packages/nest-jobs/src/errors/invalid-schedule.error.js';
import { defineSchedule } from '../../../packages/nest-jobs/src/cron/schedule-definition.js';
import { resolveSchedulesOptions } from '../../../packages/nest-jobs/src/cron/schedules.options.js';

describe('schedules module option', () => {
  it('applies the defaults, takes false as off, and names a bad field', () => {
    expect(resolveSchedulesOptions(undefined)).toEqual({
      enabled: true,
      pollIntervalMs: 1000,
      batchSize: 100,
    });
    expect(resolveSchedulesOptions(false).enabled).toBe(false);
    expect(() => resolveSchedulesOptions({ pollIntervalMs: 5 })).toThrow(
      /"schedules.pollIntervalMs"/,
    );
    expect(() => resolveSchedulesOptions({ batch: 1 })).toThrow(
      InvalidJobsOptionError,
    );
  });
});

describe('defineSchedule', () => {
  const base = { name: 'nightly', job: 'reports.build', cron: '0 3 * * *' };

  it('applies the defaults and hashes the definition (equal definitions, equal hashes)', () => {
    const one = defineSchedule(base, 1024);
    expect(one).toMatchObject({
      timeZone: 'UTC',
      payloadJson: '{}',
      version: 1,
      settings: {
        missed: 'latest',
        missedLimit: 100,
        overlap: 'skip',
        graceMs: 60_000,
      },
    });
    expect(defineSchedule({ ...base }, 1024).hash).toBe(one.hash);
    expect(defineSchedule({ ...base, payload: { a: 1 } }, 1024).hash).not.toBe(
      one.hash,
    );
    expect(defineSchedule({ ...base, version: 3 }, 1024).hash).toBe(one.hash);
  });

  it('names the schedule, the declaring handler and the field', () => {
    const error = (() => {
      try {
        defineSchedule(
          { ...base, timeZone: 'Nowhere/Land' },
          1024,
          'Reports#build',
        );
      } catch (caught) {
        return caught as InvalidScheduleError;
      }
      throw new Error('expected a throw');
    })();
    expect(error).toBeInstanceOf(InvalidScheduleError);
    expect(error.schedule).toBe('nightly');
    expect(error.field).toBe('timeZone');
    expect(error.message).toContain('(@Recurring on Reports#build)');
    expect(() =>
      defineSchedule({ ...base, payload: 'x'.repeat(2000) }, 1024),
    ).toThrow(/"nightly".*payload/);
    expect(() => defineSchedule({ ...base, missedLimit: 0 }, 1024)).toThrow(
      /missedLimit/,
    );
    expect(() => defineSchedule({ ...base, version: 0 }, 1024)).toThrow(
      /version/,
    );
  });
});
