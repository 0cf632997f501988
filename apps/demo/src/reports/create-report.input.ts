import { optionalInteger } from '../common/input-fields.js';

/** Body of POST /reports. */
export interface CreateReportInput {
  /** Count the primes up to this number. */
  upTo: number;
  /**
   * Milliseconds before the job may start. Handed to nest-jobs unchecked on purpose: its
   * InvalidJobsOptionError for a bad value becomes a 400 through JobsErrorsFilter.
   */
  delay?: unknown;
}

/** Default of `upTo`: about 1.2 s of work, mostly the pauses between chunks. */
export const DEFAULT_REPORT_UP_TO = 1_000_000;

/** Validates the body of POST /reports (except `delay`, see above). */
export function parseCreateReport(
  input: Record<string, unknown>,
): CreateReportInput {
  return {
    upTo:
      optionalInteger(input, 'upTo', { min: 2, max: 5_000_000 }) ??
      DEFAULT_REPORT_UP_TO,
    delay: input.delay,
  };
}
