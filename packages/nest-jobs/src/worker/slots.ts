/**
 * Handler slots of this process: how many handlers run now, in all and per queue, against
 * `concurrency` and the per-queue caps. This is what concurrency limits, and what shutdown
 * waits on.
 */
export class Slots {
  private running = 0;
  private readonly runningPerQueue = new Map<string, number>();
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    private readonly concurrency: number,
    /** A Map, never a plain object: queue names are the user's strings. */
    private readonly queueCaps: ReadonlyMap<string, number>,
  ) {}

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

  take(queue: string): void {
    this.running += 1;
    this.runningPerQueue.set(queue, (this.runningPerQueue.get(queue) ?? 0) + 1);
  }

  give(queue: string): void {
    this.running -= 1;
    this.runningPerQueue.set(queue, (this.runningPerQueue.get(queue) ?? 1) - 1);
    if (this.running === 0)
      for (const waiter of [...this.idleWaiters]) waiter();
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
