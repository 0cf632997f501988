/**
 * The worker's two timers: the poll, the fallback for missed notifications and for jobs
 * scheduled in the future, and a wake-up armed for the earliest retry this worker scheduled,
 * when that is before the next poll (no NOTIFY announces a retry, and waiting for the poll
 * would make short backoffs much longer).
 */
export class WakeTimers {
  private pollTimer: NodeJS.Timeout | undefined;
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTimerAt = Infinity;
  private stopped = false;

  constructor(
    private readonly pollIntervalMs: number,
    /** Claims from every queue. */
    private readonly wake: () => void,
  ) {}

  startPolling(): void {
    if (this.stopped) return;
    this.pollTimer = setTimeout(() => {
      this.wake();
      this.startPolling();
    }, this.pollIntervalMs);
  }

  /** Wakes in `delayMs`, unless the poll or an earlier wake-up comes first. */
  wakeAfter(delayMs: number): void {
    if (this.stopped || delayMs >= this.pollIntervalMs) return;
    const at = Date.now() + delayMs;
    if (at >= this.retryTimerAt) return;
    clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimerAt = Infinity;
      this.wake();
    }, delayMs + 1);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.pollTimer);
    clearTimeout(this.retryTimer);
  }
}
