import type { JobsEvents } from '../events/jobs-events.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import { PeriodicTask } from './periodic-task.js';

/** Rows one rescue statement returns at most; a sweep repeats until fewer come back. */
const RESCUE_BATCH = 500;

/**
 * Returns running jobs whose lease expired (their worker died) to pending, or to failed when
 * no retries remain. Any worker does it; SKIP LOCKED keeps concurrent sweeps disjoint.
 */
export class ExpiredLeaseRescue extends PeriodicTask<number> {
  constructor(
    private readonly repository: JobsRepository,
    private readonly events: JobsEvents,
    /** Called when jobs came back to pending: they are due now. */
    private readonly onRescued: () => void,
    intervalMs: number,
  ) {
    super('sweep expired leases', intervalMs);
  }

  /** Rescues expired leases; resolves with how many jobs were rescued. */
  protected async run(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const rescued = await this.repository.recoverExpired(RESCUE_BATCH);
        if (rescued.length > 0) {
          this.events.emit('job.rescued', {
            jobs: rescued.map((job) => ({
              id: job.id,
              name: job.jobType,
              attempt: job.attempt,
              status: job.status,
            })),
          });
        }
        total += rescued.length;
        if (rescued.length < RESCUE_BATCH || this.isStopped) break;
      }
    } finally {
      // Also after a failed batch: the earlier ones did return jobs to pending.
      if (total > 0) this.onRescued();
    }
    return total;
  }
}
