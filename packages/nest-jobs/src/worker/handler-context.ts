import { Logger } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { InvalidJobTransactionError } from '../errors/invalid-job-transaction.error.js';
import type {
  CheckpointOptions,
  CompleteOptions,
  JobContext,
} from '../handlers/job-context.interface.js';
import type { RegisteredJob } from '../handlers/job-handler.registry.js';
import { UNLIMITED_RETRIES_STORED } from '../retry/unlimited-retries.js';
import type {
  AttemptTransactions,
  TransactionalContext,
} from './attempt-transactions.js';
import { serializeCheckpoint, serializeProgress } from './handler-values.js';
import type { HeldAttempt } from './held-attempt.js';
import type { ProgressReports } from './progress-writer.js';

/** Where ctx.complete stands: not called, in flight, committed-or-not (checked at the end). */
type Completion = 'none' | 'pending' | 'done';

/**
 * The JobContext of one attempt. A class, not an object literal with closures: one is
 * built for every job. The signal and the logger are created on first use.
 */
export class HandlerContext implements JobContext, TransactionalContext {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  readonly attempt: number;
  readonly maxRetries: number;
  readonly traceId: string | null;
  /** The transaction of a `transactional` handler (set before it is called). */
  manager: EntityManager | undefined = undefined;
  /** The handler returned (or timed out): ctx.complete and ctx.checkpoint refuse from then on. */
  closed = false;
  private completion: Completion = 'none';
  private retryGivenBack = false;
  readonly orderingKey: string | null;
  private jobLogger: JobLogger | undefined;
  private created: Date | undefined;
  private lastCheckpointValue: unknown = undefined;

  constructor(
    private readonly job: HeldAttempt,
    private readonly progressWriter: ProgressReports | undefined,
    private readonly handler?: RegisteredJob,
    private readonly transactions?: AttemptTransactions,
  ) {
    const { row } = job;
    this.id = row.id;
    this.name = row.jobType;
    this.queue = row.queue;
    this.attempt = row.attempt;
    this.maxRetries = row.maxRetries;
    this.traceId = row.traceId;
    this.orderingKey = row.orderingKey ?? null;
  }

  get createdAt(): Date {
    return (this.created ??= new Date(this.job.row.createdAtMs));
  }

  get signal(): AbortSignal {
    return this.job.signal;
  }

  get logger(): JobLogger {
    return (this.jobLogger ??= new JobLogger(this.name, this.id));
  }

  get lastCheckpoint(): unknown {
    const stored = this.job.row.checkpoint;
    if (stored === null || stored === undefined) return undefined;
    // Parsed on first read: the text is what PostgreSQL gave back, so valid JSON.
    return (this.lastCheckpointValue ??= JSON.parse(stored));
  }

  /** ctx.complete succeeded: the job completes when (and if) that transaction commits. */
  get completedInTransaction(): boolean {
    return this.completion === 'done';
  }

  async complete(options: CompleteOptions): Promise<void> {
    const call = 'ctx.complete';
    if (this.closed)
      throw new InvalidJobTransactionError(
        call,
        'called after the handler returned',
      );
    if (this.completion !== 'none')
      throw new InvalidJobTransactionError(call, 'called twice in one attempt');
    const transactions = this.usable(call);
    const executor = transactions.transactionOf(call, options);
    // Taken before the first await: a second call meanwhile is refused, not sent.
    this.completion = 'pending';
    try {
      await transactions.completeIn(
        executor,
        this.job,
        transactions.timeoutOf(this.handler!),
        call,
      );
      this.completion = 'done';
    } catch (error) {
      this.completion = 'none';
      throw error;
    }
  }

  async checkpoint(state: unknown, options?: CheckpointOptions): Promise<void> {
    const call = 'ctx.checkpoint';
    if (this.closed)
      throw new InvalidJobTransactionError(
        call,
        'called after the handler returned',
      );
    // Checked first, whatever happens next: a bad value is the handler's bug to see.
    const json = serializeCheckpoint(this.name, state);
    const transactions = this.usable(call);
    const executor =
      options === undefined
        ? undefined
        : transactions.transactionOf(call, options);
    const refund =
      this.handler!.definition.checkpointKeepsRetries && !this.retryGivenBack;
    if (refund) this.retryGivenBack = true;
    try {
      await transactions.checkpoint(
        executor,
        this.job,
        json,
        refund,
        transactions.timeoutOf(this.handler!),
      );
    } catch (error) {
      if (refund) this.retryGivenBack = false;
      throw error;
    }
    const { row } = this.job;
    // The retry decision at the end of this attempt reads the row's budget.
    if (refund && row.maxRetries < UNLIMITED_RETRIES_STORED)
      row.maxRetries += 1;
  }

  private usable(call: string): AttemptTransactions {
    if (!this.transactions || !this.handler)
      throw new InvalidJobTransactionError(call, 'this context has no worker');
    return this.transactions;
  }

  progress(value: unknown): void {
    // Checked first, whatever happens next: a bad value is the handler's bug to see.
    const json = serializeProgress(this.name, value);
    this.progressWriter?.report(this.job, json);
  }
}

/** Nest Logger whose context is the job name and whose lines carry the job id. */
export class JobLogger extends Logger {
  constructor(
    name: string,
    private readonly jobId: string,
  ) {
    super(name);
  }

  override log(message: unknown, ...rest: unknown[]): void {
    super.log(this.tag(message), ...rest);
  }
  override error(message: unknown, ...rest: unknown[]): void {
    super.error(this.tag(message), ...rest);
  }
  override warn(message: unknown, ...rest: unknown[]): void {
    super.warn(this.tag(message), ...rest);
  }
  override debug(message: unknown, ...rest: unknown[]): void {
    super.debug(this.tag(message), ...rest);
  }
  override verbose(message: unknown, ...rest: unknown[]): void {
    super.verbose(this.tag(message), ...rest);
  }

  private tag(message: unknown): unknown {
    return typeof message === 'string'
      ? `[job ${this.jobId}] ${message}`
      : message;
  }
}
