import { checkOutcomeDelay, JobOutcomeRequest } from './job-outcome-request.js';

/**
 * Throw (or return) from a handler to run the job again in `delayMs` without using up an
 * attempt: the row goes back to `pending`, due `delayMs` from now on the database clock,
 * and the next run has the same attempt number (as River's `JobSnooze`). For "not yet":
 * a resource not ready, a rate limit of your own. Nothing bounds how often a job snoozes:
 * bound it in the handler (e.g. on `ctx.createdAt`) if it may wait for ever.
 *
 * @throws InvalidJobOutcomeError unless `delayMs` is an integer from 0 to 100 years.
 */
export class SnoozeJob extends JobOutcomeRequest {
  readonly delayMs: number;

  constructor(delayMs: number) {
    const checked = checkOutcomeDelay('SnoozeJob(delayMs)', delayMs);
    super(`Snoozed for ${checked} ms`);
    this.delayMs = checked;
  }
}
