import { checkOutcomeDelay, JobOutcomeRequest } from './job-outcome-request.js';

/**
 * Throw from a handler to fail this attempt and retry in `delayMs` instead of the backoff's
 * delay (e.g. an HTTP 429's `Retry-After`). It is a failure: it uses up an attempt, is
 * recorded in `last_error` and the attempt history (with `cause`), and when no retry is
 * left (or the retry policy is `none`) the job fails for good as with any error.
 *
 * @throws InvalidJobOutcomeError unless `delayMs` is an integer from 0 to 100 years.
 */
export class RetryJobAfter extends JobOutcomeRequest {
  readonly delayMs: number;

  constructor(delayMs: number, cause?: unknown) {
    const checked = checkOutcomeDelay('RetryJobAfter(delayMs)', delayMs);
    super(
      `Retry requested in ${checked} ms`,
      cause === undefined ? undefined : { cause },
    );
    this.delayMs = checked;
  }
}
