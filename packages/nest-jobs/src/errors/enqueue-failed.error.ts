import { DatabaseTimeoutError } from './database-timeout.error.js';
import { JobsError } from './jobs.error.js';

/** The database refused or failed an enqueue; `cause` is the driver's error. */
export class EnqueueFailedError extends JobsError {
  /**
   * The database did not answer within `enqueueTimeoutMs` (`cause` is a
   * DatabaseTimeoutError): the jobs may or may not have been written.
   */
  readonly timedOut: boolean;

  constructor(
    readonly jobNames: readonly string[],
    cause: unknown,
  ) {
    const names = [...new Set(jobNames)];
    const shown =
      names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
    const jobs = `job${names.length > 1 ? 's' : ''}`;
    const timedOut = cause instanceof DatabaseTimeoutError;
    const reason = timedOut
      ? `timed out: ${cause.message}. The ${jobs} may or may not have been written (the insert may have committed before its answer was lost)`
      : cause instanceof Error
        ? cause.message
        : String(cause);
    super(`Failed to enqueue ${jobs} "${shown}": ${reason}`, { cause });
    this.timedOut = timedOut;
  }
}
