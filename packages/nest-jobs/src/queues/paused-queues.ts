import { PeriodicTask } from '../maintenance/periodic-task.js';
import type { QueueRepository } from '../sql/queue.repository.js';

/**
 * The worker's view of which queues are paused: the claim scheduler asks it before each
 * claim (a set lookup, no statement). Kept current two ways: a queue-state notification
 * applies at once, and a read of the queues table every poll interval makes a pause hold
 * within one interval without LISTEN (and corrects a notification lost while the listener
 * was down). Until the first read has answered every queue counts as paused, so a worker
 * that starts while a queue is paused never claims from it.
 */
export class PausedQueues extends PeriodicTask {
  private paused = new Set<string>();
  private known = false;
  /**
   * Notifications heard while a read is out: its snapshot may predate them, so they are
   * applied again on top of its answer (else a pause heard during the read would be undone
   * until the next one).
   */
  private heardDuringRead: Map<string, boolean> | null = null;

  constructor(
    private readonly queues: QueueRepository,
    pollIntervalMs: number,
    /** Called with the queues that may be claimed from again (every queue after the first read). */
    private readonly onResumed: (queues?: readonly string[]) => void,
  ) {
    super('read the paused queues', pollIntervalMs);
  }

  /** Whether the worker must not claim from `queue` now. */
  has(queue: string): boolean {
    return !this.known || this.paused.has(queue);
  }

  /** The paused queues as this worker last learned them. */
  list(): string[] {
    return [...this.paused].sort();
  }

  /** A notification said `queue` was paused or resumed. */
  apply(queue: string, paused: boolean): void {
    this.heardDuringRead?.set(queue, paused);
    if (paused) this.paused.add(queue);
    else if (this.paused.delete(queue) && this.known) this.onResumed([queue]);
  }

  protected async run(): Promise<void> {
    const heard = new Map<string, boolean>();
    this.heardDuringRead = heard;
    try {
      const rows = await this.queues.paused();
      const next = new Set(rows.map((row) => row.queue));
      for (const [queue, paused] of heard)
        if (paused) next.add(queue);
        else next.delete(queue);
      const resumed = [...this.paused].filter((queue) => !next.has(queue));
      this.paused = next;
      if (this.known && resumed.length > 0) this.onResumed(resumed);
    } finally {
      this.heardDuringRead = null;
      // A first read that failed (database down) leaves the set empty: the claims fail
      // too until the database answers, and the next read then applies the pauses.
      if (!this.known) {
        this.known = true;
        this.onResumed();
      }
    }
  }
}
