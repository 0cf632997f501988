/** What happens to an ordering key when one of its jobs fails for good. */
export type FailedJobKeyPolicy = 'block' | 'continue';

/**
 * How the workers of every instance deliver one queue's jobs (`queuePolicies` of the module
 * options). Give every instance that enqueues to or works the queue the same policy.
 */
export interface QueuePolicy {
  /**
   * Jobs of this queue carry an `orderingKey` (required at enqueue): the jobs of one key run
   * one at a time, in enqueue order, across all instances; different keys run side by side,
   * one job per key in each claim, so a busy key never starves the others. Default false.
   */
  ordered?: boolean;
  /**
   * What a job that failed for good does to its key (ordered queues only): `block` (default)
   * holds the key's later jobs until the failed job is retried or deleted (see
   * `JobsReader#blockedKeys`); `continue` lets them run as if it had completed.
   */
  onFailedJob?: FailedJobKeyPolicy;
  /**
   * At most this many jobs of the queue run at once, summed over every instance (1 to
   * 100,000): counted from the table inside each claim's transaction, under a lock per
   * queue, so it is never exceeded. A job of an instance that died keeps its slot until its
   * lease expires and it is rescued. Unset: no cluster-wide limit (`worker.queueConcurrency`
   * still caps each process).
   */
  concurrency?: number;
  /**
   * Makes the queue key-limited: each job carries a `concurrencyKey` (required at enqueue),
   * and at most this many jobs of one key run at once, summed over every instance (1 to
   * 100,000), counted inside each claim's transaction under the queue's lock. Jobs of a key
   * start in run_at order but may overlap up to the limit. Not with `ordered` (an ordered
   * queue already runs one job per key).
   */
  keyConcurrency?: number;
  /**
   * At most `limit` jobs of the queue start (are claimed) in any window of `periodMs`,
   * summed over every instance: each claim counts the queue's claims of the last period
   * inside its transaction, under the queue's lock (a sliding window, exact).
   */
  rateLimit?: QueueRateLimit;
  /**
   * At most `limit` jobs of one key start in any window of `periodMs`, summed over every
   * instance (a sliding window, exact, like `rateLimit`): each claim counts each key's
   * starts of the last period under the queue's lock, and passes over a key whose window is
   * spent, so a flooded key never holds back the others. Makes the queue keyed: each job
   * carries a `concurrencyKey` (or, in an ordered queue, its `orderingKey`). Combines with
   * `rateLimit`, `concurrency` and `keyConcurrency`.
   */
  keyRateLimit?: QueueRateLimit;
  /**
   * Makes the queue keyed without a limit per key: each job carries a `concurrencyKey` (a
   * tenant, a customer), and claims interleave the keys round robin, one job per key per
   * turn, so a key with 100,000 ready jobs does not delay a key with 10. Implied by
   * `keyConcurrency` and `keyRateLimit`; not with `ordered` (an ordered queue is fair
   * already). `{ weights }`: weighted round robin, a key getting as many jobs per turn as
   * its weight (see FairDelivery). Default false.
   */
  fair?: boolean | FairDelivery;
}

/**
 * `queuePolicies.<queue>.fair` as an object: a fair queue whose keys get shares by weight.
 * While keys have jobs waiting, each turn of the round robin gives a key as many jobs as its
 * weight, so their starts follow the weights (3 against 1: three quarters and one quarter).
 */
export interface FairDelivery {
  /** Weights of named keys (`concurrencyKey` values): integers from 1 to 1,000. */
  weights?: Readonly<Record<string, number>>;
  /** The weight of every key not named in `weights` (1 to 1,000). Default 1. */
  defaultWeight?: number;
}

/** `queuePolicies.<queue>.rateLimit` and `.keyRateLimit`. */
export interface QueueRateLimit {
  /** Starts allowed per period (1 to 1,000,000). */
  limit: number;
  /** The period in milliseconds (1 to 86,400,000). */
  periodMs: number;
}
