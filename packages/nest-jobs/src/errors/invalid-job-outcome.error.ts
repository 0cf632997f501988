import { describeValue } from './invalid-options.error.js';
import { JobsError } from './jobs.error.js';

/**
 * A snooze, reschedule or retry-after asked with an argument the job's row cannot take (a
 * negative, fractional or non-finite delay, an invalid Date, a time PostgreSQL cannot
 * store). Thrown by the outcome's constructor, in the handler; an outcome tampered with
 * after it was built is refused the same way by the worker. Either way the attempt fails
 * with this error (and is retried by the job's retry policy): nothing is sent to SQL.
 */
export class InvalidJobOutcomeError extends JobsError {
  constructor(
    /** The argument, e.g. `SnoozeJob(delayMs)`. */
    readonly argument: string,
    readonly value: unknown,
    expectation: string,
  ) {
    super(
      `Invalid job outcome ${argument}: ${expectation}, got ${describeValue(value)}`,
    );
  }
}
