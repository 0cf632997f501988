/**
 * Something with a deadline, linked into the list of its timeout. The links live on the
 * entry itself, so watching and clearing allocate nothing and cost a few pointer writes.
 */
export class TimeoutEntry {
  /** performance.now() at which it times out. */
  deadline = 0;
  lane: TimeoutLane | null = null;
  prev: TimeoutEntry | null = null;
  next: TimeoutEntry | null = null;
}

/**
 * Deadlines of running attempts, with one timer per distinct timeout instead of one per
 * attempt (this runs for every job: a timer created and cleared per attempt was a large
 * part of the executor's cost in a drain of no-op jobs).
 *
 * Attempts with the same timeout start in deadline order, so each timeout keeps its attempts
 * in a list in start order: the head is always the next to expire, clearing a finished
 * attempt unlinks it in O(1), and one timer armed for the head is enough.
 */
export class HandlerTimeouts<T extends TimeoutEntry> {
  private readonly lanes = new Map<number, TimeoutLane>();

  constructor(
    private readonly onTimeout: (entry: T, timeoutMs: number) => void,
  ) {}

  /** Calls `onTimeout(entry)` in `timeoutMs` unless `clear(entry)` comes first. */
  watch(entry: T, timeoutMs: number): void {
    let lane = this.lanes.get(timeoutMs);
    if (!lane) {
      lane = new TimeoutLane(timeoutMs, (expired) =>
        this.onTimeout(expired as T, timeoutMs),
      );
      this.lanes.set(timeoutMs, lane);
    }
    lane.append(entry);
  }

  /** Forgets `entry` (no-op if it is not watched). */
  clear(entry: T): void {
    entry.lane?.unlink(entry);
  }

  /** Entries watched now (all timeouts). */
  get size(): number {
    let size = 0;
    for (const lane of this.lanes.values()) size += lane.size;
    return size;
  }

  /** Forgets every entry and disarms every timer. */
  clearAll(): void {
    for (const lane of this.lanes.values()) lane.clearAll();
    this.lanes.clear();
  }
}

/** The entries of one timeout, oldest first, and the timer armed for the oldest. */
class TimeoutLane {
  private head: TimeoutEntry | null = null;
  private tail: TimeoutEntry | null = null;
  private timer: NodeJS.Timeout | undefined;
  size = 0;

  constructor(
    private readonly timeoutMs: number,
    private readonly onTimeout: (entry: TimeoutEntry) => void,
  ) {}

  append(entry: TimeoutEntry): void {
    entry.deadline = performance.now() + this.timeoutMs;
    entry.lane = this;
    entry.prev = this.tail;
    entry.next = null;
    if (this.tail) this.tail.next = entry;
    else this.head = entry;
    this.tail = entry;
    this.size += 1;
    if (!this.timer) this.arm(this.timeoutMs);
  }

  unlink(entry: TimeoutEntry): void {
    if (entry.prev) entry.prev.next = entry.next;
    else this.head = entry.next;
    if (entry.next) entry.next.prev = entry.prev;
    else this.tail = entry.prev;
    entry.lane = entry.prev = entry.next = null;
    this.size -= 1;
    // While entries remain the timer stays armed: it may fire early for the new head and
    // re-arm then, which is cheaper than re-creating it for every finished attempt.
    if (this.size === 0) this.disarm();
  }

  clearAll(): void {
    this.disarm();
    for (let entry = this.head; entry;) {
      const next = entry.next;
      entry.lane = entry.prev = entry.next = null;
      entry = next;
    }
    this.head = this.tail = null;
    this.size = 0;
  }

  private arm(delayMs: number): void {
    // Unref'd: a handler that ignores its signal after a shutdown released it must not keep
    // the stopped process alive until its timeout.
    this.timer = setTimeout(() => this.expire(), Math.max(0, delayMs)).unref();
  }

  private disarm(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  private expire(): void {
    this.timer = undefined;
    const now = performance.now();
    while (this.head && this.head.deadline <= now) {
      const expired = this.head;
      this.unlink(expired);
      this.onTimeout(expired);
    }
    if (this.head && !this.timer) this.arm(this.head.deadline - now);
  }
}
