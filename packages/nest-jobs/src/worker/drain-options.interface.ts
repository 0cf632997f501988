/** What a manual worker's drain runs (`nest-jobs/testing`'s `drain()`). */
export interface DrainOptions {
  /** Queues to drain. Default: every queue the worker works. */
  queues?: string[];
  /** Also run jobs scheduled later than now (by the test clock when pinned). Default false. */
  withScheduled?: boolean;
  /**
   * Also run jobs that became due during the drain: jobs the drained jobs enqueued, and
   * retries due at once. Default true; false runs only the jobs due when the drain began
   * (each at most until it stops being due).
   */
  follow?: boolean;
  /** Most attempts run by this drain. Default 1000. */
  limit?: number;
}

/** How one drained attempt ended. */
export type DrainedOutcome =
  | 'completed'
  /** Failed, and will run again after its backoff. */
  | 'retried'
  /** Failed for good (no retries left, a fatal error, no handler, a refused payload). */
  | 'failed'
  | 'snoozed'
  | 'rescheduled'
  /** The handler cancelled its own job (threw JobCancelledError). */
  | 'cancelled';

/** One attempt a drain ran. */
export interface DrainedAttempt {
  readonly id: string;
  /** The job's name. */
  readonly name: string;
  readonly queue: string;
  /** 1 for the first attempt. */
  readonly attempt: number;
  readonly outcome: DrainedOutcome;
  /** What the handler threw, for `retried` and `failed`. */
  readonly error?: unknown;
}

/** What a drain ran, in the order it ran them. */
export interface DrainResult {
  readonly attempts: readonly DrainedAttempt[];
  /** Attempts per outcome. */
  readonly counts: Readonly<Record<DrainedOutcome, number>>;
  /** true when it stopped at `limit` with jobs still due. */
  readonly limitReached: boolean;
}
