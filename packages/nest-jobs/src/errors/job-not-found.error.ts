import { JobsError } from './jobs.error.js';

/** No job has this id (it never existed, or retention or a delete removed it). */
export class JobNotFoundError extends JobsError {
  constructor(readonly jobId: string) {
    super(`No job has the id "${jobId}"`);
  }
}
