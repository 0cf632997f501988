import { Logger } from '@nestjs/common';
import type { JobsRepository } from '../sql/jobs.repository.js';
import { describeError } from '../utils/describe-error.js';

/**
 * Answers a local enqueue of `count` due jobs of `queue`: null when this process's worker
 * cannot promise to take them, else whether its next claim of the queue, sent after their
 * commit, took them (it came back short of its limit, so it saw every due job of the queue).
 */
export type LocalTaker = (
  queue: string,
  count: number,
) => Promise<boolean> | null;

/**
 * Wakes workers after pooled enqueues with a `pg_notify` sent after the insert committed.
 * At most one notification statement is in flight per process; queues enqueued meanwhile
 * are coalesced into the next one. A NOTIFY inside each insert's transaction would take
 * PostgreSQL's cluster-wide notify lock at every commit and halve enqueue throughput
 * (shared design: postgres-facts.md). A lost notification only costs latency: workers poll.
 *
 * A worker in the same process hears of due jobs first (`onEnqueued`), without the NOTIFY
 * round trip and its delivery. When its next claim takes them all, no NOTIFY is sent: at
 * idle that is two statements saved per enqueue (the notify, and the empty claim our own
 * worker would send on hearing it), and under load a process that keeps up with its own
 * enqueues sends none. When it cannot (no free slot, a backlog, or its claim found more
 * jobs than it could take), the NOTIFY goes out so that other instances help.
 */
export class EnqueueNotifier {
  private readonly logger = new Logger(EnqueueNotifier.name);
  private readonly waiting = new Set<string>();
  private inFlight: Promise<void> | null = null;
  private readonly localTakers = new Set<LocalTaker>();

  constructor(private readonly repository: JobsRepository) {}

  /** Offers every committed pooled enqueue of due jobs to `taker` first; returns an unsubscribe. */
  onEnqueued(taker: LocalTaker): () => void {
    this.localTakers.add(taker);
    return () => this.localTakers.delete(taker);
  }

  /** `count` due jobs of `queue` were committed by a pooled enqueue. */
  notify(queue: string, count: number): void {
    for (const take of this.localTakers) {
      const taken = take(queue, count);
      if (taken) {
        void taken.then((all) => {
          if (!all) this.send(queue);
        });
        return;
      }
    }
    this.send(queue);
  }

  private send(queue: string): void {
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
