import { JobsError } from './jobs.error.js';

/** No schedule has this name. */
export class ScheduleNotFoundError extends JobsError {
  constructor(readonly schedule: string) {
    super(`No schedule is named "${schedule}"`);
  }
}
