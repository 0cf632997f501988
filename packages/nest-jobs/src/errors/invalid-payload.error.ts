import { JobsError } from './jobs.error.js';

/**
 * A payload that cannot be stored as JSON exactly as given (circular, BigInt, function,
 * symbol, undefined, non-finite number, Map/Set...), or that is over the size limit.
 * `path` locates the bad value, e.g. `payload.user.tags`.
 */
export class InvalidPayloadError extends JobsError {
  constructor(
    readonly jobName: string,
    readonly path: string,
    /** What is wrong at `path`, e.g. `is NaN, which JSON cannot represent`. */
    readonly problem: string,
  ) {
    super(`Invalid payload for job "${jobName}": ${path} ${problem}`);
  }
}
