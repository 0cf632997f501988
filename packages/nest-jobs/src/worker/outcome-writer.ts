import { Logger } from '@nestjs/common';
import type { JobsRepository } from '../sql/jobs.repository.js';
import type {
  AttemptRef,
  FailedAttempt,
  RequeuedAttempt,
} from '../sql/job-rows.js';
import type { HeldAttempt } from './held-attempt.js';
import type { ProgressWriter } from './progress-writer.js';
import { sleep } from '../utils/sleep.js';
import { describeError } from '../utils/describe-error.js';
import { reconnectDelayMs } from '../retry/backoff.js';

/** The outcome of one attempt; `job` is the attempt itself (its id and attempt number). */
export type WrittenOutcome =
  | { readonly kind: 'completed'; readonly job: HeldAttempt }
  /** Snoozed or rescheduled: pending again. */
  | {
      readonly kind: 'requeued';
      readonly job: HeldAttempt;
      readonly requeue: RequeuedAttempt;
    }
  /** The handler cancelled its own job (threw JobCancelledError); `reason` becomes last_error. */
  | {
      readonly kind: 'cancelled';
      readonly job: HeldAttempt;
      readonly reason: string;
    }
  | {
      readonly kind: 'failed';
      readonly job: HeldAttempt;
      readonly failure: FailedAttempt;
      /** What the handler threw (or the timeout error), for the events. */
      readonly thrown: unknown;
      /**
       * Set when PostgreSQL refused to record the retry and the job was failed for good
       * instead: `job.retried` was already emitted, so `job.failed` must follow.
       */
      readonly downgraded?: true;
    };

/**
 * `last_error` written in place of a failure's text that PostgreSQL refused for its data:
 * the job still ends in a recorded state (retried or failed), not `running` until its lease.
 */
export const REFUSED_ERROR_TEXT =
  'The error of this attempt could not be recorded: PostgreSQL refused its text';

/**
 * Writes attempt outcomes in batches: everything that finished while the previous write
 * was in flight goes out as one `complete` and one `fail` statement. A write that fails
 * (connection lost, server restarting) is retried with backoff, never dropped; while it
 * waits the attempts stay held, so their leases keep being renewed. Writes are fenced by
 * attempt in SQL, so a retried write cannot touch a newer attempt.
 *
 * A write refused for its data (SQLSTATE class 22: a character PostgreSQL cannot store, a
 * value out of range) would be refused again on every retry, and every later outcome would
 * queue behind it: the batch is split until the refused outcome is alone, the others are
 * written, and a refused failure is written again with REFUSED_ERROR_TEXT.
 */
export class OutcomeWriter {
  private readonly logger = new Logger('JobsWorker');
  private queue: WrittenOutcome[] = [];
  private flushing: Promise<void> | null = null;
  /** Set by `drain`: give up retrying after this time (the lease will rescue what is left). */
  private deadline = Infinity;

  constructor(
    private readonly repository: JobsRepository,
    private readonly onWritten: (outcomes: readonly WrittenOutcome[]) => void,
    private readonly backoff: { baseMs: number; capMs: number },
    /** `retention.completedMs: 0`: completed rows are deleted as they are completed. */
    private readonly deleteCompleted = false,
    /**
     * An outcome PostgreSQL refused however it was written: no longer held, so its lease
     * is not renewed and expires (the job runs again) instead of staying `running`.
     */
    private readonly onDropped: (outcome: WrittenOutcome) => void = () => {},
    /** Writes progress still unwritten when its attempt ended, before the outcome. */
    private readonly progress?: ProgressWriter,
  ) {}

  add(outcome: WrittenOutcome): void {
    this.queue.push(outcome);
    if (!this.flushing) this.flushing = this.flushSoon();
  }

  /** Waits until everything queued is written (retrying as long as it takes). */
  async flushed(): Promise<void> {
    while (this.flushing) await this.flushing;
  }

  /** Waits until everything queued is written, or until `timeoutMs` has passed. */
  async drain(timeoutMs: number): Promise<void> {
    this.deadline = Date.now() + timeoutMs;
    while (this.flushing) await this.flushing;
  }

  /**
   * Starts the write a microtask later: the other attempts of the same claim that finish in
   * this turn join it, instead of the first one going out alone and the rest waiting for it.
   */
  private async flushSoon(): Promise<void> {
    await undefined;
    return this.flush();
  }

  private async flush(): Promise<void> {
    let failures = 0;
    try {
      while (this.queue.length > 0) {
        const batch = this.queue;
        this.queue = [];
        try {
          let written: readonly WrittenOutcome[] = batch;
          try {
            await this.write(batch);
          } catch (error) {
            if (!isDataError(error)) throw error;
            written = await this.writeIsolating(batch);
          }
          failures = 0;
          this.onWritten(written);
        } catch (error) {
          this.queue = batch.concat(this.queue);
          failures += 1;
          const delay = reconnectDelayMs(this.backoff, failures);
          if (Date.now() + delay > this.deadline) {
            this.logger.error(
              `Giving up writing ${this.queue.length} job outcome(s) at shutdown: ${describeError(error)}. ` +
                'Their leases will expire and the jobs will run again (at-least-once).',
            );
            this.queue = [];
            return;
          }
          this.logger.warn(
            `Could not write ${batch.length} job outcome(s), retrying in ${delay} ms: ${describeError(error)}`,
          );
          await sleep(delay);
        }
      }
    } finally {
      this.flushing = null;
    }
  }

  /**
   * Writes `batch` after a data error: halves it until each refused outcome is alone (a few
   * statements per refused row, only on this rare path). Returns what was written: a
   * refused failure is written again with REFUSED_ERROR_TEXT, then, if still refused (its
   * retry time was what PostgreSQL refused), failed for good; an outcome refused even so is
   * left out, logged and no longer held, and its lease rescues the job. Throws anything but
   * a data error (the caller retries the whole batch: writes already done are fenced no-ops
   * when repeated).
   */
  private async writeIsolating(
    batch: readonly WrittenOutcome[],
  ): Promise<WrittenOutcome[]> {
    if (batch.length > 1) {
      const half = batch.length >>> 1;
      const parts = [batch.slice(0, half), batch.slice(half)];
      const written: WrittenOutcome[] = [];
      for (const part of parts) {
        try {
          await this.write(part);
          written.push(...part);
        } catch (error) {
          if (!isDataError(error)) throw error;
          written.push(...(await this.writeIsolating(part)));
        }
      }
      return written;
    }
    // Alone and already refused once (by the caller's write).
    const outcome = batch[0]!;
    if (outcome.kind === 'completed')
      return this.refused(outcome, 'a completion');
    if (outcome.kind === 'requeued')
      return this.refused(outcome, 'a snooze or reschedule');
    if (outcome.kind === 'cancelled') return this.refused(outcome, 'a cancel');
    this.logger.error(
      `PostgreSQL refused the failure of job ${outcome.job.id}; recording it with a fixed text instead`,
    );
    // First the same decision with a text that cannot be refused; then, should the retry
    // time be what was refused (a delay out of range), failed for good: a recorded end.
    const replacements: WrittenOutcome[] = [
      {
        ...outcome,
        failure: { ...outcome.failure, error: REFUSED_ERROR_TEXT },
      },
      {
        ...outcome,
        failure: {
          ...outcome.failure,
          error: REFUSED_ERROR_TEXT,
          retryInMs: null,
        },
        downgraded: outcome.failure.retryInMs === null ? undefined : true,
      },
    ];
    let lastError: unknown;
    for (const replaced of replacements) {
      try {
        await this.write([replaced]);
        return [replaced];
      } catch (error) {
        if (!isDataError(error)) throw error;
        lastError = error;
      }
    }
    return this.refused(outcome, describeError(lastError));
  }

  /** An outcome PostgreSQL refuses whatever its text: dropped, so it blocks nothing. */
  private refused(outcome: WrittenOutcome, what: string): WrittenOutcome[] {
    this.logger.error(
      `PostgreSQL refused the outcome of job ${outcome.job.id} (${what}); ` +
        'its lease will expire and the job will run again',
    );
    this.onDropped(outcome);
    return [];
  }

  private async write(batch: readonly WrittenOutcome[]): Promise<void> {
    const completed: AttemptRef[] = [];
    const failed: FailedAttempt[] = [];
    let requeued: RequeuedAttempt[] | undefined;
    let progressed: HeldAttempt[] | undefined;
    const cancelled: HeldAttempt[] = [];
    for (const outcome of batch) {
      // The outcome ends the attempt's `running` state, which the progress write is
      // fenced on: the last value reported goes first (only jobs that reported any pay).
      if (outcome.job.progressJson !== undefined)
        (progressed ??= []).push(outcome.job);
      if (outcome.kind === 'completed') completed.push(outcome.job);
      else if (outcome.kind === 'failed') failed.push(outcome.failure);
      else if (outcome.kind === 'cancelled') cancelled.push(outcome.job);
      else (requeued ??= []).push(outcome.requeue);
    }
    // One read per batch for everyone; a wait only while a progress write is in flight.
    if (this.progress?.writing) await this.progress.writing;
    if (progressed) await this.progress?.writeNow(progressed);
    await Promise.all([
      completed.length
        ? this.repository.complete(completed, this.deleteCompleted)
        : null,
      failed.length ? this.repository.fail(failed) : null,
      requeued ? this.repository.requeue(requeued) : null,
      cancelled.length ? this.writeCancelled(batch, cancelled) : null,
    ]);
  }

  private writeCancelled(
    batch: readonly WrittenOutcome[],
    cancelled: readonly HeldAttempt[],
  ): Promise<number> {
    const reasons: string[] = [];
    for (const outcome of batch)
      if (outcome.kind === 'cancelled') reasons.push(outcome.reason);
    return this.repository.cancelOwn(cancelled, reasons);
  }
}

/**
 * Whether PostgreSQL refused a statement for the data it carried (SQLSTATE class 22:
 * untranslatable character, string too long, value out of range): sending it again fails
 * again. A connection error has no such code, or another class, and is worth a retry.
 */
function isDataError(error: unknown): boolean {
  try {
    const code: unknown = (error as { code?: unknown } | null)?.code;
    return typeof code === 'string' && code.startsWith('22');
  } catch {
    return false;
  }
}
