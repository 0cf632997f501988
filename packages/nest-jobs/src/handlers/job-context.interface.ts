import type { LoggerService } from '@nestjs/common';
import type { EntityManager } from 'typeorm';

/** One attempt of a job: what handlers, events and middleware all know of it. */
export interface JobAttemptInfo {
  /** Row id (uuid). */
  readonly id: string;
  /** Job name (`job_type`). */
  readonly name: string;
  /** Queue the job was claimed from. */
  readonly queue: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Retries allowed after the first attempt. */
  readonly maxRetries: number;
  /** Trace id of the request that enqueued the job, or null. Follow-up enqueues inherit it. */
  readonly traceId: string | null;
  /** Its key in an ordered or key-limited queue (see QueuePolicy), or null. */
  readonly orderingKey: string | null;
}

/** What a `@Job()` handler receives as its second argument. */
export interface JobContext extends JobAttemptInfo {
  /** When the job was enqueued. */
  readonly createdAt: Date;
  /**
   * Aborted on timeout, on shutdown after the grace period, when the lease was lost, and
   * when an operator cancelled the job (`JobCancelledError`).
   * Pass it to fetch/pg/timers so a cancelled attempt stops doing work; `signal.reason`
   * says why.
   */
  readonly signal: AbortSignal;
  /** A logger whose context is the job name; lines carry the job id. */
  readonly logger: LoggerService;
  /**
   * Reports how far the attempt got: a number or a small JSON value (at most 4 KB of JSON,
   * checked as a payload is). Cheap to call often: only the latest value is kept and
   * written with others every `worker.progressIntervalMs`, and just before the attempt's
   * outcome; readable on the row (`progress`) and as the `job.progress` event. Calls after
   * the attempt ended (or lost its lease) are ignored.
   * @throws InvalidProgressError for a value that cannot be stored as given.
   */
  progress(value: unknown): void;
  /**
   * Completes the job inside the caller's transaction, so that it completes exactly when
   * the handler's writes in that transaction commit: `manager` is the EntityManager of an
   * open transaction of the DataSource nest-jobs uses (`dataSource.transaction(manager =>
   * ...)`). Fenced to the attempt: when the attempt no longer holds its job (lease lost,
   * cancelled, rescued) it throws AttemptNotHeldError and leaves the transaction able only
   * to roll back. From this call on the rest of the transaction is bounded by
   * `transactionTimeoutMs`. Return from the handler only after the transaction ended: if it
   * did not commit, the attempt fails (TransactionNotCommittedError) and is retried.
   * @throws InvalidJobTransactionError when called twice, after the handler returned, or
   * with a manager of another DataSource or outside an open transaction; nothing is written.
   */
  complete(options: CompleteOptions): Promise<void>;
  /**
   * Stores `state` (a small JSON value, at most 16 KB) on the job for the attempts that
   * follow (`lastCheckpoint`); with `{ manager }`, inside that transaction, together with
   * the work it records. Fenced to the attempt like `complete`.
   * @throws InvalidCheckpointError for a state that cannot be stored as given,
   * InvalidJobTransactionError for a bad manager, AttemptNotHeldError; nothing is written.
   */
  checkpoint(state: unknown, options?: CheckpointOptions): Promise<void>;
  /**
   * The latest checkpoint an earlier attempt stored (as this attempt found it when it was
   * claimed), or undefined: where a resumable job continues from.
   */
  readonly lastCheckpoint: unknown;
  /** The EntityManager of the transaction of a `@Job({ transactional: true })` handler. */
  readonly manager: EntityManager | undefined;
}

/** What a `@Job({ transactional: true })` handler receives: its transaction's manager. */
export interface TransactionalJobContext extends JobContext {
  /** Write through it: its transaction commits together with the job's completion. */
  readonly manager: EntityManager;
}

/** Options of `ctx.complete`. */
export interface CompleteOptions {
  /** The EntityManager of an open transaction of the DataSource nest-jobs uses. */
  manager: EntityManager;
}

/** Options of `ctx.checkpoint`. */
export interface CheckpointOptions {
  /** Store the checkpoint inside this open transaction (of the DataSource nest-jobs uses). */
  manager?: EntityManager;
}
