import { JobsError } from './jobs.error.js';

/**
 * A value given to `ctx.progress` that cannot be stored as JSON exactly as given (the
 * payload's rules: no NaN, BigInt, cycle, function, U+0000...) or that is over the size
 * limit. Thrown by `ctx.progress` in the handler; nothing is recorded.
 */
export class InvalidProgressError extends JobsError {
  constructor(
    readonly jobName: string,
    /** Where the bad value is, e.g. `progress.items[2]`. */
    readonly path: string,
    problem: string,
  ) {
    super(`Invalid progress for job "${jobName}": ${path} ${problem}`);
  }
}
