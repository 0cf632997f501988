import { JobsError } from './jobs.error.js';

/**
 * A bulk operator action asked to touch more jobs than one call may (`limit` above the cap):
 * call it again for the next batch instead, so that no single call holds locks and writes WAL
 * without bound.
 */
export class BulkLimitError extends JobsError {
  constructor(
    readonly action: string,
    readonly limit: number,
    readonly cap: number,
  ) {
    super(
      `${action}: limit ${limit} is over the cap of ${cap} jobs per call; call again for the rest`,
    );
  }
}
