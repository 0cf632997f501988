import { Logger } from '@nestjs/common';
import type { JobsRepository } from './sql/jobs.repository.js';
import { describeError } from './utils/describe-error.js';

/**
 * Wakes workers after pooled enqueues with a `pg_notify` sent after the insert committed.
 * At most one notification statement is in flight per process; queues enqueued meanwhile
 * are coalesced into the next one. A NOTIFY inside each insert's transaction would take
 * PostgreSQL's cluster-wide notify lock at every commit and halve enqueue throughput
 * (shared design: postgres-facts.md). A lost notification only costs latency: workers poll.
 *
 * A worker in the same process hears of due jobs at once (`onEnqueued`), without the
 * NOTIFY round trip and its delivery: for an application that both enqueues and works, the
 * claim starts as soon as the insert has committed.
 */
export class EnqueueNotifier {
  private readonly logger = new Logger(EnqueueNotifier.name);
  private readonly waiting = new Set<string>();
  private inFlight: Promise<void> | null = null;
  private readonly localListeners = new Set<(queue: string) => void>();

  constructor(private readonly repository: JobsRepository) {}

  /** Calls `listener` with the queue of every committed pooled enqueue of a due job; returns an unsubscribe. */
  onEnqueued(listener: (queue: string) => void): () => void {
    this.localListeners.add(listener);
    return () => this.localListeners.delete(listener);
  }

  notify(queue: string): void {
    for (const listener of this.localListeners) listener(queue);
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
