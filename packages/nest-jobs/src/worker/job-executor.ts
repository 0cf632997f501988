import {
  FatalJobError,
  JobTimeoutError,
  NoHandlerError,
  PayloadDecodeError,
} from '../errors/job-failure.errors.js';
import type { RegisteredJob } from '../handlers/job-handler.registry.js';
import { runWithTraceId } from '../tracing/trace-context.js';
import type { HeldAttempt } from './held-attempt.js';
import { HandlerContext } from './handler-context.js';
import type { ProgressReports } from './progress-writer.js';
import type { JobsEvents } from '../events/jobs-events.js';
import { HandlerTimeouts, TimeoutEntry } from './handler-timeouts.js';
import { describeError } from '../utils/describe-error.js';
import { isInstanceOf, isThenable } from '../utils/value-checks.js';
import { JobOutcomeRequest } from '../errors/job-outcome-request.js';
import { TransactionNotCommittedError } from '../errors/transaction-not-committed.error.js';
import type { AttemptTransactions } from './attempt-transactions.js';

/** How an attempt ended, as far as the handler is concerned. */
export type AttemptOutcome =
  | { readonly kind: 'completed' }
  /** The handler threw or returned a SnoozeJob, RescheduleJob or RetryJobAfter. */
  | { readonly kind: 'requested'; readonly request: JobOutcomeRequest }
  | {
      readonly kind: 'failed';
      readonly error: unknown;
      readonly fatal: boolean;
      /** Set when the executor refused the job itself, before or instead of its handler. */
      readonly refused?: 'no-handler' | 'payload-rejected';
    };

/** Receives the outcome of an attempt, once. */
export type AttemptSettled = (
  job: HeldAttempt,
  handler: RegisteredJob | undefined,
  outcome: AttemptOutcome,
) => void;

/**
 * Runs attempts: decodes the payload, builds the JobContext, calls the handler under its
 * timeout and the job's trace id, and hands whatever happens to `settled`, exactly once per
 * attempt (synchronously when the handler does not return a promise). Never throws.
 *
 * No promise and no timer of its own per attempt: this runs for every job, and in a drain of
 * no-op jobs the promise chain and the per-attempt timer were most of the worker's own CPU.
 */
export class JobExecutor {
  private readonly timeouts = new HandlerTimeouts<Attempt>(
    (attempt, timeoutMs) => this.timedOut(attempt, timeoutMs),
  );

  constructor(
    private readonly defaultTimeoutMs: number,
    private readonly events: JobsEvents,
    private readonly settled: AttemptSettled,
    /** Where `ctx.progress` reports go (none: they are checked, then dropped). */
    private readonly progress?: ProgressReports,
    /** ctx.complete, ctx.checkpoint and `transactional` handlers (none: they refuse). */
    private readonly transactions?: AttemptTransactions,
  ) {}

  run(job: HeldAttempt, handler: RegisteredJob | undefined): void {
    if (!handler) {
      this.settled(job, handler, {
        kind: 'failed',
        error: new NoHandlerError(job.row.jobType),
        fatal: true,
        refused: 'no-handler',
      });
      return;
    }
    let payload: unknown;
    let validated: unknown;
    try {
      // A binary payload arrives as the Buffer pg made of its bytea.
      payload = job.row.payloadBytes ?? JSON.parse(job.row.payload);
      validated = handler.definition.validate?.(payload);
    } catch (error) {
      this.rejectPayload(job, handler, error);
      return;
    }
    // An async validator (yup's `validate`, Joi's `validateAsync`) returns a promise: the
    // handler runs once it resolves, and a rejection fails the job for good like a throw.
    if (validated !== undefined && validated !== true) {
      let pending: PromiseLike<unknown> | null;
      try {
        pending = isThenable(validated) ? validated : null;
      } catch (error) {
        // A `then` getter that throws (or a revoked Proxy): the validator failed.
        this.rejectPayload(job, handler, error);
        return;
      }
      if (pending) {
        this.validateThenRun(job, handler, payload, pending);
        return;
      }
    }
    this.invoke(job, handler, payload);
  }

  /**
   * Runs the handler once an async `validate` resolved; never throws. The validation is
   * watched by the job's timeout like a handler: a promise that never settles must not hold
   * the job `running` (its lease renewed) for the life of the process.
   */
  private validateThenRun(
    job: HeldAttempt,
    handler: RegisteredJob,
    payload: unknown,
    pending: PromiseLike<unknown>,
  ): void {
    const validation = new Attempt(job, handler);
    this.timeouts.watch(
      validation,
      handler.definition.timeoutMs ?? this.defaultTimeoutMs,
    );
    // `settled` also guards against a hostile thenable calling back twice, or both ways.
    const accept = () => {
      if (validation.settled) return;
      validation.settled = true;
      this.timeouts.clear(validation);
      this.invoke(job, handler, payload);
    };
    const reject = (error: unknown) =>
      this.finish(validation, payloadRejected(error));
    try {
      // Promise.resolve adopts the thenable: its `then` runs in a later microtask, and what
      // it throws becomes a rejection, caught here like any other.
      Promise.resolve(pending).then(accept, reject);
    } catch (error) {
      reject(error);
    }
  }

  /** `validate` (or JSON.parse) refused the payload: the job fails for good. */
  private rejectPayload(
    job: HeldAttempt,
    handler: RegisteredJob,
    error: unknown,
  ): void {
    this.settled(job, handler, payloadRejected(error));
  }

  /** Calls the handler, watched by its timeout when it returns a promise; never throws. */
  private invoke(
    job: HeldAttempt,
    handler: RegisteredJob,
    payload: unknown,
  ): void {
    const context = new HandlerContext(
      job,
      this.progress,
      handler,
      this.transactions,
    );
    job.startedAt = performance.now();
    if (this.events.has('job.started'))
      this.events.emit('job.started', { job: job.info });
    const transactions = handler.definition.transactional
      ? this.transactions
      : undefined;
    let result: unknown;
    try {
      result = runWithTraceId(job.row.traceId ?? '', () =>
        transactions
          ? transactions.run(job, handler, context, () =>
              handler.invoke(payload, context),
            )
          : handler.invoke(payload, context),
      );
    } catch (error) {
      this.settleHandler(job, handler, context, failedWith(error));
      return;
    }
    let thenable: boolean;
    try {
      thenable = isThenable(result);
    } catch (error) {
      // A revoked Proxy, or a `then` getter that throws: the attempt fails with that error.
      this.settleHandler(job, handler, context, failedWith(error));
      return;
    }
    if (!thenable) {
      this.settleHandler(job, handler, context, completedWith(result));
      return;
    }
    // Settled by the handler or by its timeout, whichever comes first.
    const attempt = new Attempt(job, handler, context);
    this.timeouts.watch(
      attempt,
      handler.definition.timeoutMs ?? this.defaultTimeoutMs,
    );
    try {
      (result as PromiseLike<unknown>).then(
        (value: unknown) => this.finish(attempt, completedWith(value)),
        (error: unknown) => this.finish(attempt, failedWith(error)),
      );
    } catch (error) {
      // A thenable whose `then` throws: the attempt fails, not the claim that started it.
      this.finish(attempt, failedWith(error));
    }
  }

  /** Disarms the timeout timers (at shutdown, once every attempt is settled or released). */
  stop(): void {
    this.timeouts.clearAll();
  }

  private finish(attempt: Attempt, outcome: AttemptOutcome): void {
    if (attempt.settled) return;
    attempt.settled = true;
    this.timeouts.clear(attempt);
    if (attempt.context)
      this.settleHandler(
        attempt.job,
        attempt.handler,
        attempt.context,
        outcome,
      );
    else this.settled(attempt.job, attempt.handler, outcome);
  }

  /**
   * The handler ended: its context refuses ctx.complete and ctx.checkpoint from now on. A
   * handler that completed its job in its own transaction (ctx.complete) is done only if
   * that transaction committed, which the row tells (one read, for those handlers only).
   */
  private settleHandler(
    job: HeldAttempt,
    handler: RegisteredJob,
    context: HandlerContext,
    outcome: AttemptOutcome,
  ): void {
    context.closed = true;
    if (
      outcome.kind !== 'completed' ||
      !context.completedInTransaction ||
      job.completedInTransaction ||
      !this.transactions
    ) {
      this.settled(job, handler, outcome);
      return;
    }
    this.transactions.stillHeld(job).then(
      (held) => {
        if (held) {
          this.settled(job, handler, {
            kind: 'failed',
            error: new TransactionNotCommittedError(),
            fatal: false,
          });
          return;
        }
        job.completedInTransaction = true;
        this.settled(job, handler, outcome);
      },
      // Unknown: a fenced failure is a no-op if it committed, a retry if it did not.
      (error: unknown) =>
        this.settled(job, handler, { kind: 'failed', error, fatal: false }),
    );
  }

  private timedOut(attempt: Attempt, timeoutMs: number): void {
    if (attempt.settled) return;
    attempt.settled = true;
    if (attempt.context) attempt.context.closed = true;
    const error = new JobTimeoutError(timeoutMs);
    attempt.job.abort(error);
    this.settled(attempt.job, attempt.handler, {
      kind: 'failed',
      error,
      fatal: false,
    });
  }
}

/** An attempt whose handler returned a promise: settled by it or by the timeout. */
class Attempt extends TimeoutEntry {
  settled = false;
  constructor(
    readonly job: HeldAttempt,
    readonly handler: RegisteredJob,
    /** The handler's context (none while only the validation runs). */
    readonly context?: HandlerContext,
  ) {
    super();
  }
}

const COMPLETED: AttemptOutcome = { kind: 'completed' };

function payloadRejected(error: unknown): AttemptOutcome {
  return {
    kind: 'failed',
    error: new PayloadDecodeError(`Payload rejected: ${describeError(error)}`, {
      cause: error,
    }),
    fatal: true,
    refused: 'payload-rejected',
  };
}

/** What a handler's return value means: done, unless it is an outcome it asks for. */
function completedWith(value: unknown): AttemptOutcome {
  // The typeof test first: most handlers return undefined, and pay nothing more.
  if (typeof value !== 'object' || value === null) return COMPLETED;
  return isInstanceOf(value, JobOutcomeRequest)
    ? { kind: 'requested', request: value as JobOutcomeRequest }
    : COMPLETED;
}

function failedWith(error: unknown): AttemptOutcome {
  // isInstanceOf: `instanceof` on a revoked Proxy throws; such a value is neither class.
  if (isInstanceOf(error, JobOutcomeRequest))
    return { kind: 'requested', request: error as JobOutcomeRequest };
  return { kind: 'failed', error, fatal: isInstanceOf(error, FatalJobError) };
}
