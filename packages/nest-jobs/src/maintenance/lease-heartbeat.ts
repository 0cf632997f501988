import type { JobsEvents } from '../events/jobs-events.js';
import { LeaseLostError } from '../errors/job-failure.errors.js';
import { type JobsRepository } from '../sql/jobs.repository.js';
import { attemptKey } from '../sql/job-rows.js';
import type { HeldAttempt } from '../worker/held-attempt.js';
import { describeError } from '../utils/describe-error.js';
import { PeriodicTask } from './periodic-task.js';

/**
 * Renews, in one statement, the lease of every attempt this process holds. An attempt whose
 * row no longer matches was rescued elsewhere (its lease had expired): its signal is
 * aborted and its outcome will not be written, since the job may already run again.
 */
export class LeaseHeartbeat extends PeriodicTask {
  constructor(
    private readonly repository: JobsRepository,
    private readonly heldAttempts: () => Iterable<HeldAttempt>,
    private readonly events: JobsEvents,
    private readonly leaseMs: number,
    intervalMs: number,
  ) {
    super('renew the leases of running jobs', intervalMs);
  }

  protected async run(): Promise<void> {
    const held = [...this.heldAttempts()].filter((job) => job.ownsAttempt);
    if (held.length === 0) return;
    let stillHeld: Set<string>;
    try {
      stillHeld = await this.repository.heartbeat(
        held.map((job) => ({ id: job.id, attempt: job.attempt })),
        this.leaseMs,
      );
    } catch (error) {
      // The next beat retries; leases are long enough to miss a few.
      this.logger.warn(
        `Could not renew the leases of ${held.length} running job(s): ${describeError(error)}`,
      );
      return;
    }
    for (const job of held) {
      // By attempt, not id: this process may also hold the newer attempt of the same job.
      if (stillHeld.has(attemptKey(job)) || !job.ownsAttempt) continue;
      // A finished attempt's row usually stopped matching because our own outcome write
      // committed while this heartbeat ran. If it was rescued instead, the fenced write
      // changes nothing; either way there is no handler left to abort.
      if (job.handlerDone) continue;
      job.leaseLost = true;
      job.abort(new LeaseLostError());
      this.events.emit('job.lease-lost', { job: job.info });
    }
  }
}
