import { JobsError } from './jobs.error.js';

/** A string that is not one of the job states. */
export class UnknownJobStatusError extends JobsError {
  constructor(
    readonly value: string,
    /** The known states, from JobStatus (the one list of them). */
    readonly expected: readonly string[],
  ) {
    super(
      `Unknown job status ${JSON.stringify(value)}: expected one of ${expected.join(', ')}`,
    );
  }
}
