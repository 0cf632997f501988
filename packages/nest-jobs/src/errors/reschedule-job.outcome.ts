import {
  checkOutcomeDelay,
  checkOutcomeTime,
  JobOutcomeRequest,
} from './job-outcome-request.js';

/**
 * Return (or throw) from a handler whose run succeeded to run the same job again later, at
 * a Date or in a delay in milliseconds (from now, on the database clock): self-rescheduling
 * recurring work, as the `job` crate's `JobCompletion::Reschedule*`. The row goes back to
 * `pending` as a fresh job: `attempts` returns to 0, so the next run is attempt 1 with the
 * whole retry budget. Same id, payload, queue and retry policy.
 *
 * @throws InvalidJobOutcomeError for an invalid Date, one PostgreSQL cannot store, or a
 * delay that is not an integer from 0 to 100 years.
 */
export class RescheduleJob extends JobOutcomeRequest {
  /** When the job runs again, when given as a Date (a copy: the caller's Date may change). */
  readonly runAt: Date | null;
  /** In how many milliseconds it runs again, when given as a delay. */
  readonly delayMs: number | null;

  constructor(when: Date | number) {
    const isDelay = typeof when === 'number';
    const value = isDelay
      ? checkOutcomeDelay('RescheduleJob(delayMs)', when)
      : checkOutcomeTime('RescheduleJob(runAt)', when);
    super(
      isDelay
        ? `Rescheduled in ${value} ms`
        : `Rescheduled at ${new Date(value).toISOString()}`,
    );
    this.runAt = isDelay ? null : new Date(value);
    this.delayMs = isDelay ? value : null;
  }
}
