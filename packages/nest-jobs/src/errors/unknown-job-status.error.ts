import { JobsError } from './jobs.error.js';

/** A string that is not one of the four job states. */
export class UnknownJobStatusError extends JobsError {
  constructor(readonly value: string) {
    super(
      `Unknown job status ${JSON.stringify(value)}: expected one of pending, running, completed, failed`,
    );
  }
}
