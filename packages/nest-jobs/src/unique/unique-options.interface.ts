/** A state in which an existing job with the same unique key refuses a new one. */
export type UniqueState =
  'pending' | 'running' | 'completed' | 'failed' | 'cancelled';

/**
 * Makes a job unique: while a job with the same key exists in one of `states`, enqueueing
 * another returns the existing job's id instead of inserting (the caller learns it was a
 * duplicate through `enqueueWithOutcome`). Enforced by a unique index of the database, so it
 * holds across producers, instances and transactions.
 *
 * The key is scoped to the job name. Without `key` and `by`, the key is the job name alone:
 * at most one job of the handler (per period, when `periodMs` is given).
 */
export interface UniqueOptions {
  /** Explicit key (an idempotency key): a non-empty string of at most 255 characters. */
  key?: string;
  /** Payload fields whose values (compared as JSON, object keys in any order) make the key. */
  by?: readonly string[];
  /**
   * Milliseconds: the key also holds the period's bucket, `floor(now / periodMs)` on this
   * process's clock (a test's clock when `nest-jobs/testing` pinned it), so one job per key
   * per period (e.g. 60_000: one per minute).
   */
  periodMs?: number;
  /**
   * States of an existing job in which a duplicate is refused. Default
   * `['pending', 'running']`. Must hold `pending` (a scheduled job is pending), and
   * `running` as soon as it holds a final state (a job reaches a final state through
   * running; a hole there would let a finishing job collide with a newer one).
   */
  states?: readonly UniqueState[];
}
