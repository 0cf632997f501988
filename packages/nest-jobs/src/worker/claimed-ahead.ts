import type { HeldAttempt } from './held-attempt.js';

/**
 * Attempts claimed ahead of a free slot (`worker.claimAhead`), in claim order, until a slot
 * of their queue frees. They are held attempts like the running ones: their leases are
 * renewed, and a shutdown returns them to pending at once.
 */
export class ClaimedAhead {
  private readonly waiting: HeldAttempt[] = [];
  private readonly perQueue = new Map<string, number>();

  /** Attempts waiting for a slot. */
  get size(): number {
    return this.waiting.length;
  }

  /** Attempts of `queue` waiting for a slot. */
  sizeIn(queue: string): number {
    return this.perQueue.get(queue) ?? 0;
  }

  add(job: HeldAttempt): void {
    this.waiting.push(job);
    this.count(job, 1);
  }

  /** The oldest waiting attempt whose queue `canStart` now (removed), if any. */
  takeStartable(canStart: (queue: string) => boolean): HeldAttempt | undefined {
    const index = this.waiting.findIndex((job) => canStart(job.row.queue));
    if (index < 0) return undefined;
    const [job] = this.waiting.splice(index, 1);
    this.count(job!, -1);
    return job;
  }

  /** Every waiting attempt (removed). */
  takeAll(): HeldAttempt[] {
    this.perQueue.clear();
    return this.waiting.splice(0);
  }

  private count(job: HeldAttempt, delta: number): void {
    const queue = job.row.queue;
    this.perQueue.set(queue, (this.perQueue.get(queue) ?? 0) + delta);
  }
}
