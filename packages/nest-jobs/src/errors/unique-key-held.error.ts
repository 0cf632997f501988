import { JobsError } from './jobs.error.js';

/**
 * An operator action would move a job back to pending while another job holds its unique
 * key (a newer job with the same key waits or runs): the job is left as it was.
 */
export class UniqueKeyHeldError extends JobsError {
  constructor(
    readonly jobId: string,
    /** What was asked: `retry`. */
    readonly action: string,
    /** The job that holds the key now. */
    readonly heldBy: string,
  ) {
    super(
      `Cannot ${action} job ${jobId}: job ${heldBy} holds its unique key now (retry it once that job has left the key's states, or delete one of them)`,
    );
  }
}
