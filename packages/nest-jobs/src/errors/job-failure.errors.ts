import { JobsError } from './jobs.error.js';

/** Thrown into a job's AbortSignal (and recorded) when a handler runs past its timeout. */
export class JobTimeoutError extends JobsError {
  constructor(readonly timeoutMs: number) {
    super(`Job timed out after ${timeoutMs} ms`);
  }
}

/**
 * Throw from a handler to fail the job for good, skipping the remaining retries
 * (e.g. the payload refers to a record that no longer exists).
 */
export class FatalJobError extends JobsError {}

/** Recorded for a row whose job name has no handler in the worker that claimed it. */
export class NoHandlerError extends JobsError {
  constructor(readonly jobName: string) {
    super(`No @Job handler named "${jobName}" is registered in this worker`);
  }
}

/** Recorded for a row whose payload could not be decoded or failed the job's validation. */
export class PayloadDecodeError extends JobsError {}

/** Fired into a job's AbortSignal when the worker shuts down before the job finished. */
export class WorkerShutdownError extends JobsError {
  constructor() {
    super(
      'Worker is shutting down: the job was interrupted and returned to pending',
    );
  }
}

/** Fired into a job's AbortSignal when its lease was lost (the job was rescued elsewhere). */
export class LeaseLostError extends JobsError {
  constructor() {
    super(
      'The lease of this attempt was lost: another worker may run the job again',
    );
  }
}
