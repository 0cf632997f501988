import { JobsError } from './jobs.error.js';

/** An operator action that the job's current state does not allow (e.g. deleting a running job). */
export class JobStateError extends JobsError {
  constructor(
    readonly jobId: string,
    /** What was asked: `cancel`, `retry`, `delete`, `runNow`. */
    readonly action: string,
    /** The job's state when it was asked. */
    readonly status: string,
    /** The states in which the action is allowed. */
    readonly allowed: readonly string[],
  ) {
    super(
      `Cannot ${action} job ${jobId}: it is ${status} (${action} applies to ${allowed.join(' or ')} jobs)`,
    );
  }
}
