import { JobsError } from './jobs.error.js';

/**
 * A test clock asked to move back in time: leases, retries and retention already written
 * against the later time would become inconsistent (a lease renewed into the past).
 */
export class ClockBackwardsError extends JobsError {
  constructor(
    /** Where the clock is. */
    readonly current: Date,
    /** Where it was asked to go. */
    readonly requested: Date,
  ) {
    super(
      `The test clock cannot move backwards: it is at ${current.toISOString()}, asked for ${requested.toISOString()} ` +
        `(${current.getTime() - requested.getTime()} ms earlier). Pin an earlier time before anything is enqueued, or create a new app`,
    );
  }
}
