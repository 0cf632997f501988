import { InvalidJobOutcomeError } from '../errors/invalid-job-outcome.error.js';
import {
  checkOutcomeDelay,
  checkOutcomeTime,
  type JobOutcomeRequest,
} from '../errors/job-outcome-request.js';
import { RescheduleJob } from '../errors/reschedule-job.outcome.js';
import { RetryJobAfter } from '../errors/retry-job-after.outcome.js';
import { SnoozeJob } from '../errors/snooze-job.outcome.js';

/** What a handler's SnoozeJob, RescheduleJob or RetryJobAfter asks, read once and checked. */
export type RequestedOutcome =
  | { readonly kind: 'snooze'; readonly delayMs: number }
  | {
      readonly kind: 'reschedule';
      readonly runAt: Date | null;
      readonly delayMs: number | null;
    }
  | {
      readonly kind: 'retry';
      readonly delayMs: number;
      readonly error: RetryJobAfter;
    };

/**
 * Reads `request` into plain values, checked again: the constructors checked their
 * arguments, but the object reached the worker through the handler, which may have
 * changed its fields (or subclassed it with getters that answer anything). Each field is
 * read once, so what was checked is what is written. Throws InvalidJobOutcomeError.
 */
export function readOutcomeRequest(
  request: JobOutcomeRequest,
): RequestedOutcome {
  if (request instanceof SnoozeJob) {
    return {
      kind: 'snooze',
      delayMs: checkOutcomeDelay('SnoozeJob(delayMs)', request.delayMs),
    };
  }
  if (request instanceof RescheduleJob) {
    const runAt: unknown = request.runAt;
    if (runAt !== null) {
      return {
        kind: 'reschedule',
        runAt: new Date(checkOutcomeTime('RescheduleJob(runAt)', runAt)),
        delayMs: null,
      };
    }
    return {
      kind: 'reschedule',
      runAt: null,
      delayMs: checkOutcomeDelay('RescheduleJob(delayMs)', request.delayMs),
    };
  }
  if (request instanceof RetryJobAfter) {
    return {
      kind: 'retry',
      delayMs: checkOutcomeDelay('RetryJobAfter(delayMs)', request.delayMs),
      error: request,
    };
  }
  throw new InvalidJobOutcomeError(
    'outcome',
    request,
    'expected a SnoozeJob, RescheduleJob or RetryJobAfter (JobOutcomeRequest is not meant to be extended)',
  );
}
