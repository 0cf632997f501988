import { JobsError } from './jobs.error.js';

/**
 * Why a cancelled attempt's `ctx.signal` was aborted: an operator cancelled the job
 * (JobControl#cancel) while it ran. Its attempt ends `cancelled` whatever the handler does
 * afterwards. A handler may also throw it to cancel its own job: the job ends `cancelled`
 * (not `failed`, no retry) with the message as its last error.
 */
export class JobCancelledError extends JobsError {
  constructor(message = 'The job was cancelled') {
    super(message);
  }
}
