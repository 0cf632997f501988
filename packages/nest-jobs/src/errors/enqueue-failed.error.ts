import { JobsError } from './jobs.error.js';

/** The database refused or failed an enqueue; `cause` is the driver's error. */
export class EnqueueFailedError extends JobsError {
  constructor(
    readonly jobNames: readonly string[],
    cause: unknown,
  ) {
    const names = [...new Set(jobNames)];
    const shown =
      names.slice(0, 5).join(', ') + (names.length > 5 ? ', ...' : '');
    super(
      `Failed to enqueue job${names.length > 1 ? 's' : ''} "${shown}": ${cause instanceof Error ? cause.message : String(cause)}`,
      { cause },
    );
  }
}
