import type { EntityManager } from 'typeorm';
import type { RetryPolicy } from '../retry/retry-policy.interface.js';
import type { UniqueOptions } from '../unique/unique-options.interface.js';

/** Per-call options of `JobsService.enqueue` / `enqueueMany`. */
export interface EnqueueOptions {
  /**
   * Insert through this EntityManager, i.e. inside its transaction (from
   * `dataSource.transaction(m => ...)`, `queryRunner.manager`, or one injected inside a
   * transaction). A rollback leaves no job; a commit makes it visible and wakes the workers.
   */
  manager?: EntityManager;
  /** Earliest time to run. Exclusive with `delay`. */
  runAt?: Date;
  /** Milliseconds from now (database clock) before the job may run. Exclusive with `runAt`. */
  delay?: number;
  /** Overrides the handler's queue. */
  queue?: string;
  /** Overrides the handler's `maxRetries`. */
  maxRetries?: number;
  /** Overrides the handler's retry policy for this job only. */
  retry?: RetryPolicy;
  /** Trace id to store; default: the current trace context (see `runWithTraceId`). */
  traceId?: string;
  /**
   * Makes this job unique (see UniqueOptions), replacing the handler's `unique`; `false`
   * enqueues it as a plain job even when the handler's jobs are unique.
   */
  unique?: UniqueOptions | false;
  /** Overrides the handler's `priority` (-32768 to 32767; higher is claimed first). */
  priority?: number;
  /**
   * The ordering key of a job of an ordered queue (`queuePolicies.<queue>.ordered`), required
   * there and refused elsewhere: jobs of one key run one at a time in enqueue order (1 to 255
   * characters). Not combinable with `unique`.
   */
  orderingKey?: string;
  /**
   * The key of a job of a keyed queue (`queuePolicies.<queue>.fair`, `keyConcurrency` or
   * `keyRateLimit`), required there and refused elsewhere: claims take the keys round robin,
   * and the queue's limits per key count jobs by it across all instances (1 to 255
   * characters). Not combinable with `unique`.
   */
  concurrencyKey?: string;
  /**
   * Reserves the job's place in its key's order (ordered queues only, with `orderingKey`):
   * it holds its key (later jobs of the key wait) but does not run until it is committed
   * with `JobControl.runNow(id)`, or discarded with `JobControl.cancel(id)` or `delete(id)`,
   * from any transaction. Not with `runAt` or `delay`.
   */
  reserve?: boolean;
}

/** One item of the mixed form of `enqueueMany`. */
export interface JobRequest extends Omit<EnqueueOptions, 'manager'> {
  /** Job name of a registered `@Job()` handler. */
  name: string;
  /** Data passed to the handler: any JSON value. */
  payload: unknown;
}
