import type { JobsEvents } from '../events/jobs-events.js';
import { JobCancelledError } from '../errors/job-cancelled.error.js';
import { attemptKey, type AttemptRef } from '../sql/job-rows.js';
import type { HeldAttempt } from './held-attempt.js';

/**
 * An operator cancelled `job` while this process held it (the row is `cancelled` already):
 * its signal is aborted with JobCancelledError and it stops being this process's to finish,
 * so no outcome is written and its lease is not renewed. Whatever the handler does next
 * changes nothing: every outcome write is fenced on `status = 'running'`.
 */
export function stopCancelledAttempt(
  job: HeldAttempt,
  events: JobsEvents,
): void {
  if (!job.ownsAttempt) return;
  job.cancelled = true;
  job.abort(new JobCancelledError());
  events.emit('job.attempt-cancelled', { job: job.info, by: 'operator' });
}

/** Stops the held attempt a cancel message names, if this process holds it. */
export function stopCancelledAttemptByRef(
  held: Iterable<HeldAttempt>,
  ref: AttemptRef,
  events: JobsEvents,
): void {
  const key = attemptKey(ref);
  for (const job of held)
    if (job.id === ref.id && attemptKey(job) === key)
      stopCancelledAttempt(job, events);
}
