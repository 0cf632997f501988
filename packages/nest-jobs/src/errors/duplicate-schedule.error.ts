import { JobsError } from './jobs.error.js';

/**
 * Two schedules with one name: two `@Recurring()` declarations at start-up (both named in
 * `declaredBy`), or `JobsSchedules.add` of a name that exists.
 */
export class DuplicateScheduleError extends JobsError {
  constructor(
    readonly schedule: string,
    readonly declaredBy: readonly string[] = [],
  ) {
    super(
      declaredBy.length > 0
        ? `Duplicate schedule "${schedule}": declared by ${declaredBy.join(' and ')} (give each @Recurring a distinct name)`
        : `A schedule named "${schedule}" exists already (change it with JobsSchedules.update, or remove it first)`,
    );
  }
}
