import type { RetryPolicy } from '../retry/retry-policy.interface.js';
import type { UniqueOptions } from '../unique/unique-options.interface.js';

/** Options of the `@Job()` decorator. Every field is optional. */
export interface JobOptions {
  /**
   * Name stored in `job_type` and used to dispatch. Default `ClassName.methodName`.
   * Set it explicitly when jobs must survive a rename of the class or method.
   */
  name?: string;
  /** Queue the job is enqueued on (unless overridden at enqueue). Default `'default'`. */
  queue?: string;
  /** Retries after the first attempt (so `maxRetries + 1` runs at most). Default 3. */
  maxRetries?: number;
  /** Backoff between attempts; fields not given come from the module's `retry` option. */
  retry?: RetryPolicy;
  /** Milliseconds an attempt may run before its AbortSignal fires and it counts as failed. */
  timeoutMs?: number;
  /**
   * Checks a payload: return normally to accept, throw to reject; a returned promise
   * (yup's `validate`, Joi's `validateAsync`) is awaited and its rejection rejects. Called
   * at enqueue (a rejection is an `InvalidPayloadError`, nothing is written) and again
   * before the handler runs (a rejection fails the job for good, e.g. for a row written by hand).
   */
  validate?: (payload: unknown) => void | PromiseLike<unknown>;
  /**
   * Makes every job of this handler unique (see UniqueOptions; an enqueue's `unique`
   * replaces it, and `unique: false` there opts one job out). Default: not unique.
   */
  unique?: UniqueOptions;
  /**
   * Priority of the handler's jobs, an integer from -32768 to 32767 (an enqueue's
   * `priority` replaces it): a worker claims the highest priority first, then the earliest
   * `run_at`. Default 0.
   */
  priority?: number;
  /**
   * Runs the handler inside a transaction of the DataSource nest-jobs uses, opened by
   * nest-jobs (`ctx.manager` is its EntityManager) and committed together with the job's
   * completion, written last: the handler's database writes through `ctx.manager` commit
   * exactly when the job completes. A throw, a timeout or an attempt that no longer holds
   * its job (AttemptNotHeldError) rolls it all back. Costs one transaction (BEGIN, a
   * timeout bound, the completion, COMMIT) per job. Default false.
   */
  transactional?: boolean;
  /** This handler's `worker.transactionTimeoutMs`. */
  transactionTimeoutMs?: number;
  /**
   * Retry budget rule of checkpoints: with true, the first `ctx.checkpoint` of an attempt
   * gives that attempt's retry back (`max_retries` grows by one), so an attempt that made
   * progress does not use up a retry, crash or not; only attempts that store no checkpoint
   * count. With false (the default) every attempt counts, as for any job.
   */
  checkpointKeepsRetries?: boolean;
}
