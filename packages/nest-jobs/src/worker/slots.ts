/**
 * Handler slots of this process: how many handlers run now, in all and per queue, against
 * `concurrency` and the per-queue caps. This is what concurrency limits, and what shutdown
 * waits on.
 */
export class Slots {
  private running = 0;
  private readonly runningPerQueue = new Map<string, number>();
  private readonly idleWaiters = new Set<() => void>();
  /** Slot-milliseconds used up to `changedAt`, and jobs that gave their slot back. */
  private slotMs = 0;
  private finished = 0;
  private changedAt: number;

  constructor(
    private readonly concurrency: number,
    /** A Map, never a plain object: queue names are the user's strings. */
    private readonly queueCaps: ReadonlyMap<string, number>,
    /** The clock slot time is measured by (a test may set its own). */
    private readonly now: () => number = () => performance.now(),
  ) {
    this.changedAt = now();
  }

  /** Handlers running now. */
  get inUse(): number {
    return this.running;
  }

  /** Slots free in the whole process. */
  free(): number {
    return this.concurrency - this.running;
  }

  /** Slots free for `queue` under its own cap (`Infinity` without one). */
  freeIn(queue: string): number {
    const cap = this.queueCaps.get(queue);
    return cap === undefined
      ? Infinity
      : cap - (this.runningPerQueue.get(queue) ?? 0);
  }

  /**
   * Slot-milliseconds used and jobs finished since this worker started. By Little's law
   * their ratio over an interval is the mean time a job held a slot in it, queueing inside
   * the process included (see ClaimAheadAllowance).
   */
  usage(): { slotMs: number; finished: number } {
    this.account();
    return { slotMs: this.slotMs, finished: this.finished };
  }

  take(queue: string): void {
    this.account();
    this.running += 1;
    this.runningPerQueue.set(queue, (this.runningPerQueue.get(queue) ?? 0) + 1);
  }

  give(queue: string): void {
    this.account();
    this.finished += 1;
    this.running -= 1;
    this.runningPerQueue.set(queue, (this.runningPerQueue.get(queue) ?? 1) - 1);
    if (this.running === 0)
      for (const waiter of [...this.idleWaiters]) waiter();
  }

  private account(): void {
    const now = this.now();
    this.slotMs += this.running * (now - this.changedAt);
    this.changedAt = now;
  }

  /** Resolves true once no handler runs, or false after `timeoutMs`. */
  waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(onIdle);
    });
  }
}
