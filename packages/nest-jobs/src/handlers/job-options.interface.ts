import type { RetryPolicy } from '../retry/retry-policy.interface.js';

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
}
