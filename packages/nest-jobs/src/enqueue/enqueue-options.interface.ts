import type { EntityManager } from 'typeorm';
import type { RetryPolicy } from '../retry/retry-policy.interface.js';

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
}

/** One item of the mixed form of `enqueueMany`. */
export interface JobRequest extends Omit<EnqueueOptions, 'manager'> {
  /** Job name of a registered `@Job()` handler. */
  name: string;
  /** Data passed to the handler: any JSON value. */
  payload: unknown;
}
