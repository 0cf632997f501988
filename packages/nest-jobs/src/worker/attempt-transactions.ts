import type { DataSource, EntityManager, QueryRunner } from 'typeorm';
import type { JobsEvents } from '../events/jobs-events.js';
import { AttemptNotHeldError } from '../errors/attempt-not-held.error.js';
import { InvalidJobTransactionError } from '../errors/invalid-job-transaction.error.js';
import type { RegisteredJob } from '../handlers/job-handler.registry.js';
import type { AttemptRef } from '../sql/job-rows.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import type { SqlExecutor } from '../sql/sql-runner.js';
import { describeError } from '../utils/describe-error.js';
import { isInstanceOf } from '../utils/value-checks.js';
import { JobOutcomeRequest } from '../errors/job-outcome-request.js';
import type { HeldAttempt } from './held-attempt.js';

/** The part of a HandlerContext a transactional run works with. */
export interface TransactionalContext {
  /** The EntityManager a `transactional` handler writes through. */
  manager: EntityManager | undefined;
  /** ctx.complete succeeded inside the transaction (the handler completed its job itself). */
  readonly completedInTransaction: boolean;
}

/**
 * Everything that writes a job's state inside a handler's transaction: `ctx.complete`,
 * `ctx.checkpoint` with a manager, and the transaction nest-jobs opens around a
 * `transactional` handler. Each write is fenced to its attempt; one that finds the attempt
 * no longer holding its job leaves the transaction able only to roll back and throws
 * AttemptNotHeldError, so the handler's writes in it vanish with it.
 */
export class AttemptTransactions {
  constructor(
    /** The worker's repository: the table's statements, and its own pool for reads. */
    private readonly repository: JobsRepository,
    /** The DataSource whose transactions may complete jobs (the one nest-jobs uses). */
    private readonly dataSource: DataSource,
    /** `retention.completedMs: 0`: a completion deletes the row. */
    private readonly deleteCompleted: boolean,
    private readonly defaultTimeoutMs: number,
    private readonly events: JobsEvents,
  ) {}

  timeoutOf(handler: RegisteredJob): number {
    return handler.definition.transactionTimeoutMs ?? this.defaultTimeoutMs;
  }

  /**
   * The manager of `options`, checked: an EntityManager of this DataSource whose transaction
   * is open. Throws InvalidJobTransactionError naming what is wrong.
   */
  transactionOf(call: string, options: unknown): SqlExecutor {
    let manager: unknown;
    let connection: unknown;
    let active: unknown;
    let released: unknown;
    try {
      if (typeof options !== 'object' || options === null)
        throw new InvalidJobTransactionError(
          call,
          'expected { manager }, the EntityManager of an open transaction',
        );
      manager = (options as { manager?: unknown }).manager;
      if (typeof manager !== 'object' || manager === null)
        throw new InvalidJobTransactionError(
          call,
          'options.manager is not an EntityManager',
        );
      connection = (manager as EntityManager).connection;
      const runner = (manager as EntityManager).queryRunner as
        QueryRunner | undefined;
      active = runner?.isTransactionActive;
      released = runner?.isReleased;
    } catch (error) {
      if (error instanceof InvalidJobTransactionError) throw error;
      throw new InvalidJobTransactionError(
        call,
        `options.manager could not be read: ${describeError(error)}`,
      );
    }
    if (connection !== this.dataSource)
      throw new InvalidJobTransactionError(
        call,
        'options.manager belongs to another DataSource than the one nest-jobs uses: its transaction cannot commit the job',
      );
    if (active !== true || released === true)
      throw new InvalidJobTransactionError(
        call,
        'options.manager is not in an open transaction (outside dataSource.transaction, or its transaction already ended)',
      );
    return manager as SqlExecutor;
  }

  /**
   * Completes `job` in `executor`'s transaction, bounding the rest of it first; throws
   * AttemptNotHeldError (the transaction then can only roll back).
   */
  async completeIn(
    executor: SqlExecutor,
    job: HeldAttempt,
    timeoutMs: number,
    call: string,
  ): Promise<void> {
    await this.repository.boundTransaction(executor, timeoutMs);
    if (await this.repository.completeIn(executor, job, this.deleteCompleted))
      return;
    await this.repository.abortTransaction(executor);
    throw new AttemptNotHeldError(job.id, job.attempt, call);
  }

  /**
   * Stores a checkpoint of `job`: in `executor`'s transaction (bounded first) or on the
   * worker's pool. Throws AttemptNotHeldError (a transaction then can only roll back).
   */
  async checkpoint(
    executor: SqlExecutor | undefined,
    job: HeldAttempt,
    json: string,
    refund: boolean,
    timeoutMs: number,
  ): Promise<void> {
    if (executor) await this.repository.boundTransaction(executor, timeoutMs);
    if (await this.repository.saveCheckpoint(executor, job, json, refund)) {
      if (this.events.has('job.checkpointed'))
        this.events.emit('job.checkpointed', {
          job: job.info,
          state: JSON.parse(json),
          inTransaction: executor !== undefined,
        });
      return;
    }
    if (executor) await this.repository.abortTransaction(executor);
    throw new AttemptNotHeldError(job.id, job.attempt, 'ctx.checkpoint');
  }

  /** Whether `attempt` still holds its job, by the committed row (a completion that did not commit). */
  stillHeld(attempt: AttemptRef): Promise<boolean> {
    return this.repository.attemptHeld(attempt);
  }

  /**
   * Runs a `transactional` handler in a transaction opened here: `invoke` receives its
   * EntityManager through the context, and the job's completion is written last, fenced,
   * before COMMIT. Anything else the handler ends with (a throw, a SnoozeJob...) rolls
   * back; so does an attempt aborted meanwhile (timed out, cancelled, lease lost), whose
   * outcome the worker has already decided; the transaction ends then, without waiting for a
   * handler that goes on regardless. Resolves (or rejects) as the handler did;
   * `job.completedInTransaction` is set once the completion committed.
   */
  async run(
    job: HeldAttempt,
    handler: RegisteredJob,
    context: TransactionalContext,
    invoke: () => unknown,
  ): Promise<unknown> {
    const runner = this.dataSource.createQueryRunner();
    try {
      await runner.connect();
      await runner.startTransaction();
      await this.repository.boundTransaction(
        runner.manager,
        this.timeoutOf(handler),
      );
      context.manager = runner.manager;
      // Aborted while the transaction was being opened (lease lost, cancelled, shutdown):
      // the handler does not start at all.
      if (job.signal.aborted) throw job.signal.reason;
      // Not a moment longer than the attempt: a handler that hangs past its timeout (or
      // ignores a cancel) must not keep its transaction and its pooled connection for ever.
      const value = await untilAborted(invoke(), job.signal);
      if (isInstanceOf(value, JobOutcomeRequest) || job.isAborted) {
        await runner.rollbackTransaction();
        return value;
      }
      if (!context.completedInTransaction) {
        if (
          !(await this.repository.completeIn(
            runner.manager,
            job,
            this.deleteCompleted,
          ))
        )
          throw new AttemptNotHeldError(
            job.id,
            job.attempt,
            'transactional completion',
          );
      }
      await runner.commitTransaction();
      job.completedInTransaction = true;
      return value;
    } catch (error) {
      if (runner.isTransactionActive)
        await runner.rollbackTransaction().catch(() => undefined);
      throw error;
    } finally {
      await runner.release().catch(() => undefined);
    }
  }
}

/**
 * `work`, or a rejection with the signal's reason as soon as `signal` aborts. Whatever
 * `work` ends with after that is observed and dropped (the attempt's outcome is decided):
 * a handler that goes on and then fails, e.g. on its released EntityManager, must not
 * become an unhandled rejection, which would end the process.
 */
function untilAborted(work: unknown, signal: AbortSignal): Promise<unknown> {
  const settling = Promise.resolve(work);
  if (signal.aborted) {
    settling.catch(() => undefined);
    return Promise.reject(signal.reason);
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    signal.addEventListener('abort', onAbort, { once: true });
    settling.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error);
      },
    );
  });
}
