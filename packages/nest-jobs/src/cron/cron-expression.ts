import { Cron } from 'croner';

/**
 * A parsed cron expression in a time zone: five fields (minute precision) or six (seconds
 * first). Parsing and the next occurrence come from croner, whose DST rules apply: a
 * fixed-time expression (one value each for second, minute and hour, e.g. `30 2 * * *`)
 * whose time falls in a spring-forward gap runs at the first valid time after the gap, and
 * once when a fall-back repeats its time; any other expression (e.g. `*\/15 * * * *`) skips
 * the times of a gap and runs at both instants of a repeated time.
 */
export interface CronExpression {
  readonly source: string;
  readonly timeZone: string;
  /** The first occurrence strictly after `afterMs` (epoch ms), or null when there is none. */
  next(afterMs: number): number | null;
  /** Up to `count` occurrences strictly before `beforeMs`, oldest first. */
  previous(beforeMs: number, count: number): number[];
}

/** Why an expression or a time zone was refused (the caller's error names the schedule). */
export class CronParseProblem extends Error {}

/**
 * Parses `source` for `timeZone` (an IANA name such as `Europe/Berlin`, or `UTC`).
 * @throws CronParseProblem saying what is wrong with the expression or the zone.
 */
export function parseCronExpression(
  source: string,
  timeZone: string,
): CronExpression {
  checkTimeZone(timeZone);
  let cron: Cron;
  try {
    // No callback: croner computes dates and never starts a timer.
    cron = new Cron(source, {
      timezone: timeZone,
      mode: '5-or-6-parts',
      paused: true,
    });
  } catch (error) {
    throw new CronParseProblem(
      `is not a cron expression of 5 or 6 fields: ${error instanceof Error ? error.message : String(error)}`,
    );
  }
  return {
    source,
    timeZone,
    next: (afterMs) => cron.nextRun(new Date(afterMs))?.getTime() ?? null,
    previous: (beforeMs, count) =>
      cron
        .previousRuns(count, new Date(beforeMs - 1))
        .map((date) => date.getTime())
        .filter((ms) => ms < beforeMs)
        .reverse(),
  };
}

/** @throws CronParseProblem when the runtime does not know `timeZone`. */
function checkTimeZone(timeZone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone });
  } catch {
    throw new CronParseProblem(
      `has an unknown time zone ${JSON.stringify(timeZone)} (expected an IANA name such as "Europe/Berlin", or "UTC")`,
    );
  }
}
