import { MS_PER_YEAR } from '../jobs.constants.js';

/** Longest delay accepted wherever a delay is given (enqueue's `delay`, a snooze...). */
export const MAX_DELAY_MS = 100 * MS_PER_YEAR;

/**
 * The earliest time PostgreSQL's timestamptz can hold (4714-11-24 BC, its first day). The
 * latest Date (year 275760) is below its upper end (294276 AD): no upper check needed.
 */
export const MIN_RUN_AT_MS = Date.UTC(-4713, 10, 24);
