import { MAX_DELAY_MS, MIN_RUN_AT_MS } from '../utils/schedule-limits.js';
import { InvalidJobOutcomeError } from './invalid-job-outcome.error.js';
import { JobsError } from './jobs.error.js';

/**
 * Base of the outcomes a handler asks for instead of done or failed: SnoozeJob,
 * RescheduleJob, RetryJobAfter. Throw one (from the handler or anything it calls), or
 * return one: either ends the attempt, so an attempt has exactly one outcome. An Error so
 * that lint rules and middleware treat a throw like any other.
 */
export abstract class JobOutcomeRequest extends JobsError {}

/** `value` as a delay in milliseconds a job's row can take; throws InvalidJobOutcomeError. */
export function checkOutcomeDelay(argument: string, value: unknown): number {
  if (
    typeof value !== 'number' ||
    !Number.isInteger(value) ||
    value < 0 ||
    value > MAX_DELAY_MS
  ) {
    throw new InvalidJobOutcomeError(
      argument,
      value,
      `expected an integer number of milliseconds between 0 and ${MAX_DELAY_MS}`,
    );
  }
  return value;
}

/** `value` as a time a job's row can take (epoch ms); throws InvalidJobOutcomeError. */
export function checkOutcomeTime(argument: string, value: unknown): number {
  let time = Number.NaN;
  try {
    if (value instanceof Date) time = value.getTime();
  } catch {
    // A revoked Proxy, or a Date-like whose getTime throws: not a time.
  }
  if (typeof time !== 'number' || Number.isNaN(time)) {
    throw new InvalidJobOutcomeError(argument, value, 'expected a valid Date');
  }
  if (time < MIN_RUN_AT_MS) {
    throw new InvalidJobOutcomeError(
      argument,
      value,
      'expected a Date PostgreSQL can store (from 4714-11-24 BC on)',
    );
  }
  return time;
}
