import { Logger } from '@nestjs/common';
import type { JobsRepository } from './sql/jobs.repository.js';
import { describeError } from './utils/describe-error.js';

/**
 * Wakes workers after pooled enqueues with a `pg_notify` sent after the insert committed.
 * At most one notification statement is in flight per process; queues enqueued meanwhile
 * are coalesced into the next one. A NOTIFY inside each insert's transaction would take
 * PostgreSQL's cluster-wide notify lock at every commit and halve enqueue throughput
 * (shared design: postgres-facts.md). A lost notification only costs latency: workers poll.
 */
export class EnqueueNotifier {
  private readonly logger = new Logger(EnqueueNotifier.name);
  private readonly waiting = new Set<string>();
  private inFlight: Promise<void> | null = null;

  constructor(private readonly repository: JobsRepository) {}

  notify(queue: string): void {
    this.waiting.add(queue);
    if (!this.inFlight) this.inFlight = this.sendWaiting();
  }

  private async sendWaiting(): Promise<void> {
    try {
      while (this.waiting.size > 0) {
        const queues = [...this.waiting];
        this.waiting.clear();
        try {
          await this.repository.notify(queues);
        } catch (error) {
          this.logger.warn(
            `Could not notify workers of new jobs on ${queues.join(', ')} (they will find them at the next poll): ${describeError(
              error,
            )}`,
          );
        }
      }
    } finally {
      this.inFlight = null;
    }
  }
}
