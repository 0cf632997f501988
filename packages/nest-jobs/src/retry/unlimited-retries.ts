import { optionError, type OptionFailure } from '../utils/option-checks.js';

/**
 * `maxRetries: Infinity` as stored: the largest `integer`. `attempts` never exceeds it (the
 * claim's `attempts + 1` would overflow first, after 2^31 attempts), so the retry decision
 * (`attempt > maxRetries`) and lease rescue (`attempts > max_retries`) both keep retrying
 * without a change to either, and instances of the previous version agree with them.
 */
export const UNLIMITED_RETRIES_STORED = 2_147_483_647;

/** The most finite retries accepted. */
export const MAX_FINITE_RETRIES = 1_000_000;

/** Checks a `maxRetries` option: an integer from 0 to 1,000,000, or `Infinity`. */
export function checkMaxRetries(
  option: string,
  value: unknown,
  fail: OptionFailure = optionError,
): number {
  if (
    value === Number.POSITIVE_INFINITY ||
    (typeof value === 'number' &&
      Number.isInteger(value) &&
      value >= 0 &&
      value <= MAX_FINITE_RETRIES)
  )
    return value;
  throw fail(
    option,
    value,
    `expected an integer between 0 and ${MAX_FINITE_RETRIES}, or Infinity (retry for ever)`,
  );
}

/** `maxRetries` as the column stores it. */
export function toStoredMaxRetries(maxRetries: number): number {
  return maxRetries === Number.POSITIVE_INFINITY
    ? UNLIMITED_RETRIES_STORED
    : maxRetries;
}

/** The column's `max_retries` as handlers and events see it (`Infinity` for unlimited). */
export function fromStoredMaxRetries(stored: number): number {
  return stored === UNLIMITED_RETRIES_STORED
    ? Number.POSITIVE_INFINITY
    : stored;
}
