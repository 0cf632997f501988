import { JobsError } from './jobs.error.js';

/**
 * A drain asked of a worker that runs jobs on its own (`worker.mode: 'auto'`), or of one that
 * does not run at all: a drain would race its claims. Use the testing module (manual mode),
 * or `waitForJob` with a worker that runs. Also a drain asked while another is in progress.
 */
export class WorkerModeError extends JobsError {
  constructor(
    /** What was asked, e.g. `drain()`. */
    readonly action: string,
    /** The worker's state (`running`, `disabled`, `stopped`...), or `draining`. */
    readonly state: string,
  ) {
    super(
      state === 'draining'
        ? `${action} while a drain is in progress: one at a time (a handler that drains would wait for itself)`
        : `${action} needs a worker in manual mode (worker: { mode: 'manual' }, which the nest-jobs/testing module sets), ` +
            `but this worker is ${state}` +
            (state === 'running'
              ? ': it runs jobs on its own, and a drain would race it (wait for its jobs with waitForJob instead)'
              : ''),
    );
  }
}
