import { describe, expect, it } from '@jest/globals';
import {
  CronParseProblem,
  parseCronExpression,
} from '../../../packages/nest-jobs/src/cron/cron-expression.js';
import {
  MAX_OCCURRENCES_PER_TICK,
  planDueOccurrences,
  type DuePolicy,
} from '../../../packages/nest-jobs/src/cron/due-occurrences.js';

const ms = (iso: string) => Date.parse(iso);
const iso = (values: readonly number[]) =>
  values.map((value) => new Date(value).toISOString());

/** The next `count` occurrences after `from`, as ISO strings (UTC). */
function nextOccurrences(
  cron: string,
  zone: string,
  from: string,
  count: number,
): string[] {
  const expression = parseCronExpression(cron, zone);
  const found: number[] = [];
  let at: number | null = ms(from);
  while (found.length < count && at !== null) {
    at = expression.next(at);
    if (at !== null) found.push(at);
  }
  return iso(found);
}

describe('parseCronExpression: next occurrence, a function of expression, zone and instant', () => {
  it('reads 5 fields (minutes) and 6 fields (seconds first)', () => {
    expect(
      nextOccurrences('*/15 * * * *', 'UTC', '2026-01-01T00:07:00Z', 2),
    ).toEqual(['2026-01-01T00:15:00.000Z', '2026-01-01T00:30:00.000Z']);
    expect(
      nextOccurrences('*/2 * * * * *', 'UTC', '2026-01-01T00:00:00Z', 3),
    ).toEqual([
      '2026-01-01T00:00:02.000Z',
      '2026-01-01T00:00:04.000Z',
      '2026-01-01T00:00:06.000Z',
    ]);
  });

  it('is strictly after the instant, also when the instant is an occurrence', () => {
    const expression = parseCronExpression('0 * * * *', 'UTC');
    expect(expression.next(ms('2026-01-01T01:00:00Z'))).toBe(
      ms('2026-01-01T02:00:00Z'),
    );
    expect(iso(expression.previous(ms('2026-01-01T03:00:00Z'), 2))).toEqual([
      '2026-01-01T01:00:00.000Z',
      '2026-01-01T02:00:00.000Z',
    ]);
  });

  it('reads the expression in the zone', () => {
    expect(
      nextOccurrences(
        '0 9 * * *',
        'America/New_York',
        '2026-01-10T00:00:00Z',
        1,
      ),
    ).toEqual(['2026-01-10T14:00:00.000Z']);
    expect(
      nextOccurrences(
        '0 9 * * *',
        'America/New_York',
        '2026-07-10T00:00:00Z',
        1,
      ),
    ).toEqual(['2026-07-10T13:00:00.000Z']);
  });

  describe('DST in Europe/Berlin (2026-03-29 02:00 -> 03:00, 2026-10-25 03:00 -> 02:00)', () => {
    it('a fixed time in the spring gap runs at the first valid time after it, once', () => {
      expect(
        nextOccurrences(
          '30 2 * * *',
          'Europe/Berlin',
          '2026-03-28T00:00:00Z',
          3,
        ),
      ).toEqual([
        '2026-03-28T01:30:00.000Z', // 02:30 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST: 02:30 does not exist that day
        '2026-03-30T00:30:00.000Z', // 02:30 CEST
      ]);
    });

    it('a fixed time the autumn repeats runs once, at its first instant', () => {
      expect(
        nextOccurrences(
          '30 2 * * *',
          'Europe/Berlin',
          '2026-10-24T12:00:00Z',
          2,
        ),
      ).toEqual([
        '2026-10-25T00:30:00.000Z', // 02:30 CEST; 02:30 CET (01:30Z) is not a second run
        '2026-10-26T01:30:00.000Z',
      ]);
    });

    it('an interval skips the times of the gap and runs at both instants of a repeated time', () => {
      expect(
        nextOccurrences(
          '*/30 * * * *',
          'Europe/Berlin',
          '2026-03-29T00:00:00Z',
          3,
        ),
      ).toEqual([
        '2026-03-29T00:30:00.000Z', // 01:30 CET
        '2026-03-29T01:00:00.000Z', // 03:00 CEST (02:00 and 02:30 do not exist)
        '2026-03-29T01:30:00.000Z',
      ]);
      expect(
        nextOccurrences(
          '*/30 * * * *',
          'Europe/Berlin',
          '2026-10-24T23:59:00Z',
          4,
        ),
      ).toEqual([
        '2026-10-25T00:00:00.000Z', // 02:00 CEST
        '2026-10-25T00:30:00.000Z', // 02:30 CEST
        '2026-10-25T01:00:00.000Z', // 02:00 CET
        '2026-10-25T01:30:00.000Z', // 02:30 CET
      ]);
    });
  });

  it('DST in America/New_York: 02:30 on 2026-03-08 does not exist, runs at 03:00 EDT', () => {
    expect(
      nextOccurrences(
        '30 2 * * *',
        'America/New_York',
        '2026-03-07T12:00:00Z',
        2,
      ),
    ).toEqual(['2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('refuses bad expressions and unknown zones with a problem that says which', () => {
    for (const bad of [
      '61 * * * *',
      '* * * *',
      '* * * * * * *',
      'every day',
      '',
    ])
      expect(() => parseCronExpression(bad, 'UTC')).toThrow(CronParseProblem);
    expect(() => parseCronExpression('* * * * *', 'Mars/Olympus')).toThrow(
      /unknown time zone "Mars\/Olympus"/,
    );
  });

  it('an expression with no future occurrence has no next', () => {
    expect(parseCronExpression('0 0 30 2 *', 'UTC').next(0)).toBeNull();
  });
});

describe('planDueOccurrences: what a tick enqueues, from the stored next run and now', () => {
  const everyMinute = parseCronExpression('* * * * *', 'UTC');
  const policy = (
    missed: DuePolicy['missed'],
    extra: Partial<DuePolicy> = {},
  ) => ({
    missed,
    missedLimit: 100,
    graceMs: 60_000,
    ...extra,
  });

  it('an on-time occurrence is enqueued and the next run moves past now', () => {
    const plan = planDueOccurrences(
      everyMinute,
      ms('2026-01-01T10:00:00Z'),
      ms('2026-01-01T10:00:00.400Z'),
      policy('skip'),
    );
    expect(iso(plan.enqueue)).toEqual(['2026-01-01T10:00:00.000Z']);
    expect(plan.skipped).toEqual([]);
    expect(plan.nextRunMs).toBe(ms('2026-01-01T10:01:00Z'));
  });

  it('after downtime: skip enqueues no missed one, latest the latest, all the latest up to the limit', () => {
    const next = ms('2026-01-01T10:00:00Z');
    const now = ms('2026-01-01T10:10:30Z'); // 10:00..10:09 missed; 10:10 on time (grace 60 s)
    const skip = planDueOccurrences(everyMinute, next, now, policy('skip'));
    expect(iso(skip.enqueue)).toEqual(['2026-01-01T10:10:00.000Z']);
    expect(skip.skipped).toHaveLength(10);
    const tight = { graceMs: 10_000 };
    const latest = planDueOccurrences(
      everyMinute,
      next,
      now,
      policy('latest', tight),
    );
    expect(iso(latest.enqueue)).toEqual(['2026-01-01T10:10:00.000Z']);
    expect(latest.skipped).toHaveLength(10);
    const lateTick = ms('2026-01-01T10:10:45Z');
    const onlyMissed = planDueOccurrences(
      everyMinute,
      next,
      lateTick,
      policy('latest', tight),
    );
    expect(iso(onlyMissed.enqueue)).toEqual(['2026-01-01T10:10:00.000Z']);
    expect(iso(onlyMissed.skipped)).toHaveLength(10);
    const all = planDueOccurrences(
      everyMinute,
      next,
      now,
      policy('all', { missedLimit: 3, ...tight }),
    );
    expect(iso(all.enqueue)).toEqual([
      '2026-01-01T10:08:00.000Z',
      '2026-01-01T10:09:00.000Z',
      '2026-01-01T10:10:00.000Z',
    ]);
    expect(all.skipped).toHaveLength(8);
    for (const plan of [skip, latest, all])
      expect(plan.nextRunMs).toBe(ms('2026-01-01T10:11:00Z'));
  });

  it('a per-second schedule down for a day: bounded work, the policy still finds the latest', () => {
    const everySecond = parseCronExpression('* * * * * *', 'UTC');
    const next = ms('2026-01-01T00:00:00Z');
    const now = ms('2026-01-02T00:00:00.500Z');
    const latest = planDueOccurrences(
      everySecond,
      next,
      now,
      policy('latest', { graceMs: 0 }),
    );
    expect(latest.skippedUnlisted).toBe(true);
    expect(iso(latest.enqueue)).toEqual(['2026-01-02T00:00:00.000Z']);
    expect(latest.skipped.length).toBeLessThanOrEqual(MAX_OCCURRENCES_PER_TICK);
    expect(latest.nextRunMs).toBe(ms('2026-01-02T00:00:01Z'));
    const all = planDueOccurrences(
      everySecond,
      next,
      now,
      policy('all', { missedLimit: 5, graceMs: 0 }),
    );
    expect(all.enqueue).toHaveLength(5);
    expect(iso(all.enqueue).at(-1)).toBe('2026-01-02T00:00:00.000Z');
  });

  it('DST with an injected clock: the Berlin spring gap enqueues 03:00 once, the autumn repeat twice for an interval', () => {
    const fixed = parseCronExpression('30 2 * * *', 'Europe/Berlin');
    const spring = planDueOccurrences(
      fixed,
      ms('2026-03-29T01:00:00Z'),
      ms('2026-03-29T01:00:05Z'),
      policy('latest'),
    );
    expect(iso(spring.enqueue)).toEqual(['2026-03-29T01:00:00.000Z']);
    expect(spring.nextRunMs).toBe(ms('2026-03-30T00:30:00Z'));
    const interval = parseCronExpression('*/30 * * * *', 'Europe/Berlin');
    // All instances down across the repeated hour: 'all' enqueues both 02:00 and both 02:30.
    const autumn = planDueOccurrences(
      interval,
      ms('2026-10-25T00:00:00Z'),
      ms('2026-10-25T01:30:10Z'),
      policy('all', { graceMs: 0 }),
    );
    expect(iso(autumn.enqueue)).toEqual([
      '2026-10-25T00:00:00.000Z',
      '2026-10-25T00:30:00.000Z',
      '2026-10-25T01:00:00.000Z',
      '2026-10-25T01:30:00.000Z',
    ]);
  });
});
