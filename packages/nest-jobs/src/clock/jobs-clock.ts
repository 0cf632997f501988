import { Injectable } from '@nestjs/common';

/**
 * The time nest-jobs works by, one per module instance. In production it is the database's
 * own `now()` and the process's `Date.now()`: nothing is set, and every statement receives
 * NULL as its clock parameter (see sql/queries/named-statement.ts). A test may pin it
 * (`nest-jobs/testing`'s clock): from then on every statement takes that time instead of
 * the database's, so delays, backoff retries, leases and retention become due when the
 * test moves it, and the worker is told (`onChange`) so that what became due runs at once.
 */
@Injectable()
export class JobsClock {
  /** Epoch milliseconds the clock is pinned at; null: the real time. */
  private pinnedMs: number | null = null;
  /** What statements receive: the pinned time as ISO text, or null. Read per statement. */
  private sqlText: string | null = null;
  private readonly listeners = new Set<() => void>();

  /** Whether a time is pinned (a test's clock is in use). */
  get isPinned(): boolean {
    return this.pinnedMs !== null;
  }

  /** Epoch milliseconds: the pinned time, else `Date.now()`. */
  now(): number {
    return this.pinnedMs ?? Date.now();
  }

  /** The clock parameter of every statement: null in production (the database's `now()`). */
  sqlValue(): string | null {
    return this.sqlText;
  }

  /**
   * Pins the time at `epochMs` (null: back to the real time) and tells the listeners. The
   * checks that make sense for a test (never backwards) are the caller's: this only stores.
   */
  pin(epochMs: number | null): void {
    this.pinnedMs = epochMs;
    this.sqlText = epochMs === null ? null : new Date(epochMs).toISOString();
    for (const listener of this.listeners) listener();
  }

  /** Calls `listener` after every change of the pinned time; returns the function that stops it. */
  onChange(listener: () => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
