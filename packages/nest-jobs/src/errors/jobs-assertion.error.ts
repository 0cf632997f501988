import { JobsError } from './jobs.error.js';

/**
 * An assertion of `nest-jobs/testing` that did not hold (expectEnqueued, waitForJob...): a
 * plain error, so any test runner reports it, whose message says what was expected and what
 * was found, line by line.
 */
export class JobsAssertionError extends JobsError {
  constructor(
    message: string,
    /** What the assertion looked for. */
    readonly expected: unknown,
    /** What it found instead. */
    readonly actual: unknown,
  ) {
    super(message);
  }
}
