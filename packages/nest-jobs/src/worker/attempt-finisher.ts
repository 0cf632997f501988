import { Logger } from '@nestjs/common';
import type { JobsEvents } from '../events/jobs-events.js';
import type { JobFailureReason } from '../events/jobs-events.interface.js';
import type { RegisteredJob } from '../handlers/job-handler.registry.js';
import { retryDelayAfterFailure } from '../retry/retry-decision.js';
import type { ResolvedRetryPolicy } from '../retry/retry-policy.interface.js';
import { describeError } from '../utils/describe-error.js';
import { formatJobError } from '../utils/format-error.js';
import { toPostgresText } from '../utils/postgres-text.js';
import { isInstanceOf } from '../utils/value-checks.js';
import { JobCancelledError } from '../errors/job-cancelled.error.js';
import { COLUMN_LIMITS } from '../jobs.constants.js';
import type { HeldAttempt } from './held-attempt.js';
import type { HeldAttempts } from './held-attempts.js';
import type { AttemptOutcome } from './job-executor.js';
import type { OutcomeWriter, WrittenOutcome } from './outcome-writer.js';
import type { Slots } from './slots.js';
import {
  readOutcomeRequest,
  type RequestedOutcome,
} from './requested-outcome.js';

/**
 * The step after a handler settled: frees its slot, decides what the outcome means (done,
 * retry in N ms, failed for good), reports it as an event, and queues the outcome write,
 * unless the attempt is no longer this process's to finish (lease lost, released).
 */
export class AttemptFinisher {
  private readonly logger = new Logger('JobsWorker');

  constructor(
    private readonly slots: Slots,
    private readonly held: HeldAttempts,
    private readonly outcomes: OutcomeWriter,
    private readonly events: JobsEvents,
    private readonly retryDefault: ResolvedRetryPolicy,
    /** A slot was freed: the claim scheduler may claim again. */
    private readonly onSlotFreed: () => void,
  ) {}

  /** The executor's callback: an attempt's handler returned, threw or timed out. */
  settle(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: AttemptOutcome,
  ): void {
    try {
      this.finish(job, handler, outcome);
    } catch (error) {
      // Unreachable by design; kept so that a bug here cannot stop the other jobs of a
      // claim from starting, nor become an unhandled rejection that ends the application.
      this.logger.error(
        `Internal error finishing job ${job.id}: ${describeError(error)}`,
      );
    }
  }

  private finish(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: AttemptOutcome,
  ): void {
    job.handlerDone = true;
    this.slots.give(job.row.queue);
    if (outcome.kind === 'completed' && job.completedInTransaction) {
      // Its completion committed with the handler's transaction: nothing left to write.
      if (this.events.has('job.completed'))
        this.events.emit('job.completed', {
          job: job.info,
          durationMs: durationOf(job),
        });
      this.held.delete(job);
    } else if (job.ownsAttempt) {
      let written: WrittenOutcome;
      try {
        written = this.toWrittenOutcome(job, handler, outcome);
      } catch (error) {
        // Whatever went wrong deciding (a row written by hand may hold anything), the
        // attempt still gets an outcome: held without one, its lease would be renewed and
        // the job would stay `running` for the life of the process.
        written = undecidedOutcome(job, outcome, error);
      }
      this.outcomes.add(written);
    } else {
      this.held.delete(job);
    }
    this.onSlotFreed();
  }

  private toWrittenOutcome(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: AttemptOutcome,
  ): WrittenOutcome {
    if (outcome.kind === 'completed') {
      if (this.events.has('job.completed')) {
        this.events.emit('job.completed', {
          job: job.info,
          durationMs: durationOf(job),
        });
      }
      return { kind: 'completed', job };
    }
    if (
      outcome.kind === 'failed' &&
      isInstanceOf(outcome.error, JobCancelledError)
    ) {
      // The handler cancelled its own job: final, no retry, not a failure.
      this.events.emit('job.attempt-cancelled', {
        job: job.info,
        by: 'handler',
      });
      return {
        kind: 'cancelled',
        job,
        reason: toPostgresText(
          (outcome.error as JobCancelledError).message,
        ).slice(0, COLUMN_LIMITS.errorLength),
      };
    }
    if (outcome.kind === 'requested')
      return this.requested(job, handler, outcome);
    return this.failed(job, handler, outcome, undefined);
  }

  /**
   * A SnoozeJob, RescheduleJob or RetryJobAfter: one that does not hold up to its checks
   * (tampered with after it was built) fails the attempt with the InvalidJobOutcomeError.
   */
  private requested(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: Extract<AttemptOutcome, { kind: 'requested' }>,
  ): WrittenOutcome {
    let request: RequestedOutcome;
    try {
      request = readOutcomeRequest(outcome.request);
    } catch (error) {
      return this.failed(
        job,
        handler,
        { kind: 'failed', error, fatal: false },
        undefined,
      );
    }
    if (request.kind === 'retry') {
      return this.failed(
        job,
        handler,
        { kind: 'failed', error: request.error, fatal: false },
        request.delayMs,
      );
    }
    const { row } = job;
    const requeue = {
      id: row.id,
      attempt: row.attempt,
      releases: row.releases,
      runAt: request.kind === 'reschedule' ? request.runAt : null,
      delayMs: request.delayMs,
      fresh: request.kind === 'reschedule',
    };
    if (request.kind === 'snooze') {
      this.events.emit('job.snoozed', {
        job: job.info,
        delayMs: request.delayMs,
        durationMs: durationOf(job),
      });
    } else {
      this.events.emit('job.rescheduled', {
        job: job.info,
        // A copy: a listener that changed it would change the time written.
        runAt: request.runAt && new Date(request.runAt.getTime()),
        delayMs: request.delayMs,
        durationMs: durationOf(job),
      });
    }
    return { kind: 'requeued', job, requeue };
  }

  /**
   * A failed attempt: retried after the retry policy's delay, or `retryAfterMs` when the
   * handler chose it (RetryJobAfter), or failed for good.
   */
  private failed(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: Extract<AttemptOutcome, { kind: 'failed' }>,
    retryAfterMs: number | undefined,
  ): WrittenOutcome {
    const { row } = job;
    const errorText = formatJobError(outcome.error);
    const policyDelayMs = retryDelayAfterFailure(
      row,
      outcome.fatal,
      this.retryDefault,
      handler?.definition,
    );
    // The policy still decides whether there is a retry (retries left, not `none`).
    const retryInMs =
      policyDelayMs === null ? null : (retryAfterMs ?? policyDelayMs);
    if (retryInMs === null) {
      this.events.emit('job.failed', {
        job: job.info,
        error: outcome.error,
        errorText,
        reason: failureReason(outcome),
        durationMs: durationOf(job),
      });
    } else {
      this.events.emit('job.retried', {
        job: job.info,
        error: outcome.error,
        errorText,
        retryInMs,
        durationMs: durationOf(job),
      });
    }
    return {
      kind: 'failed',
      job,
      failure: {
        id: row.id,
        attempt: row.attempt,
        releases: row.releases,
        error: errorText,
        retryInMs,
      },
      thrown: outcome.error,
    };
  }

  /**
   * An outcome was written: a retry that PostgreSQL refused to record, and that was failed
   * for good instead, gets its `job.failed` (its `job.retried` was emitted when decided).
   */
  written(outcome: WrittenOutcome): void {
    if (outcome.kind !== 'failed' || !outcome.downgraded) return;
    this.events.emit('job.failed', {
      job: outcome.job.info,
      error: outcome.thrown,
      errorText: outcome.failure.error,
      reason: 'outcome-refused',
      durationMs: durationOf(outcome.job),
    });
  }
}

/** The outcome of an attempt whose failure could not be decided: failed for good. */
function undecidedOutcome(
  job: HeldAttempt,
  outcome: AttemptOutcome,
  error: unknown,
): WrittenOutcome {
  if (outcome.kind === 'completed') return { kind: 'completed', job };
  return {
    kind: 'failed',
    job,
    failure: {
      id: job.row.id,
      attempt: job.row.attempt,
      releases: job.row.releases,
      error: toPostgresText(
        `The outcome of this attempt could not be decided: ${describeError(error)}`,
      ),
      retryInMs: null,
    },
    thrown: outcome.kind === 'failed' ? outcome.error : outcome.request,
  };
}

function durationOf(job: HeldAttempt): number {
  return job.startedAt === 0 ? 0 : performance.now() - job.startedAt;
}

function failureReason(
  outcome: Extract<AttemptOutcome, { kind: 'failed' }>,
): JobFailureReason {
  return outcome.refused ?? (outcome.fatal ? 'fatal' : 'retries-exhausted');
}
