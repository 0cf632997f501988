import { JobsError } from './jobs.error.js';

/**
 * A value given to `ctx.checkpoint` that cannot be stored as JSON exactly as given (the
 * payload's rules) or that is over the checkpoint size limit. Nothing is recorded.
 */
export class InvalidCheckpointError extends JobsError {
  constructor(
    readonly jobName: string,
    /** Where the bad value is, e.g. `checkpoint.items[2]`. */
    readonly path: string,
    problem: string,
  ) {
    super(`Invalid checkpoint for job "${jobName}": ${path} ${problem}`);
  }
}
