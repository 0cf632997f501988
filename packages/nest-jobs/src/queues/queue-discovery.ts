import { PeriodicTask } from '../maintenance/periodic-task.js';
import type { QueueRepository } from '../sql/queue.repository.js';
import type { QueuePatterns } from './queue-patterns.js';

/**
 * Finds, once per poll interval, the queues with pending jobs that a worker's patterns
 * match and it does not work yet (a loose scan of the claim index: one descent per queue
 * with pending jobs). Notifications and this process's own enqueues add a queue at once;
 * this read covers queues whose jobs were enqueued while no notification reached the worker
 * (polling only, a pooler, a worker started later).
 */
export class QueueDiscovery extends PeriodicTask {
  constructor(
    private readonly queues: QueueRepository,
    private readonly patterns: QueuePatterns,
    pollIntervalMs: number,
    /** Whether the worker works `queue` already. */
    private readonly known: (queue: string) => boolean,
    /** Called with the newly matched queues (never empty). */
    private readonly onFound: (queues: string[]) => void,
  ) {
    super('find the queues of worker.queues patterns', pollIntervalMs);
  }

  protected override get enabled(): boolean {
    return !this.patterns.empty;
  }

  protected async run(): Promise<void> {
    const found = (await this.queues.pending()).filter(
      (queue) => this.patterns.matches(queue) && !this.known(queue),
    );
    if (found.length > 0) this.onFound(found);
  }
}
