import { JobsError } from './jobs.error.js';

/**
 * A schedule that cannot be defined: a bad cron expression, an unknown time zone, an
 * unknown job, a bad payload or option. `schedule` names it; for a declared one, `where`
 * says which handler declared it (`Class#method`).
 */
export class InvalidScheduleError extends JobsError {
  constructor(
    readonly schedule: string,
    /** The field at fault (`cron`, `timeZone`, `payload`, `missedLimit`...). */
    readonly field: string,
    problem: string,
    readonly where?: string,
  ) {
    super(
      `Invalid schedule "${schedule}"${where ? ` (@Recurring on ${where})` : ''}: ${field} ${problem}`,
    );
  }
}
