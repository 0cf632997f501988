import type { JobsClock } from '../clock/jobs-clock.js';
import { ClockBackwardsError } from '../errors/clock-backwards.error.js';
import { optionError } from '../utils/option-checks.js';

/** Latest time the clock takes: 9999-12-31T23:59:59.999Z (ISO text PostgreSQL reads as is). */
const MAX_CLOCK_MS = 253_402_300_799_999;

/**
 * A clock that moves the database's time with the process's: once pinned, every statement
 * of nest-jobs takes its time from it (enqueue delays, claims, backoff retries, leases,
 * retention), so what a test advances past becomes due at once, without waiting. Pinned
 * time stands still until moved. Never backwards.
 *
 * ```ts
 * jobs.clock.advance(30_000);   // pins at now + 30 s when not pinned yet
 * await jobs.drain();           // the retry due in 30 s runs now
 * ```
 */
export class TestClock {
  constructor(private readonly clock: JobsClock) {}

  /** Whether a time is pinned (else nest-jobs runs on the real time). */
  get pinned(): boolean {
    return this.clock.isPinned;
  }

  /** The time nest-jobs works by now. */
  now(): Date {
    return new Date(this.clock.now());
  }

  /**
   * Pins the time at `at`. The first pin may be any time; later ones never earlier than the
   * pinned time.
   * @throws ClockBackwardsError when `at` is earlier than the pinned time;
   * InvalidJobsOptionError when `at` is not a valid Date or epoch milliseconds (1970-9999).
   */
  set(at: Date | number): Date {
    const ms = checkTime(at);
    if (this.clock.isPinned && ms < this.clock.now())
      throw new ClockBackwardsError(this.now(), new Date(ms));
    this.clock.pin(ms);
    return this.now();
  }

  /**
   * Moves the time `ms` milliseconds ahead (from the real time when nothing is pinned yet)
   * and pins it there; a worker that runs claims and rescues what became due at once.
   * @throws ClockBackwardsError for a negative `ms`; InvalidJobsOptionError when `ms` is
   * not a finite integer.
   */
  advance(ms: number): Date {
    if (typeof ms !== 'number' || !Number.isSafeInteger(ms))
      throw optionError('ms', ms, 'expected an integer number of milliseconds');
    const from = this.clock.now();
    if (ms < 0)
      throw new ClockBackwardsError(new Date(from), new Date(from + ms));
    return this.set(from + ms);
  }

  /** Back to the real time (the database's `now()`). */
  reset(): void {
    this.clock.pin(null);
  }
}

function checkTime(at: unknown): number {
  let ms = Number.NaN;
  try {
    ms = at instanceof Date ? at.getTime() : typeof at === 'number' ? at : NaN;
  } catch {
    // A Date-like whose getTime throws: not a time.
  }
  if (!Number.isInteger(ms) || ms < 0 || ms > MAX_CLOCK_MS)
    throw optionError(
      'at',
      at,
      'expected a valid Date (or epoch milliseconds) between 1970 and 9999',
    );
  return ms;
}
