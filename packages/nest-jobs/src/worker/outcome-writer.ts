import { Logger } from '@nestjs/common';
import type { JobsRepository } from '../sql/jobs.repository.js';
import type { AttemptRef, FailedAttempt } from '../sql/job-rows.js';
import type { HeldAttempt } from './held-attempt.js';
import { sleep } from '../utils/sleep.js';
import { describeError } from '../utils/describe-error.js';
import { reconnectDelayMs } from '../retry/backoff.js';

/** The outcome of one attempt; `job` is the attempt itself (its id and attempt number). */
export type WrittenOutcome =
  | { readonly kind: 'completed'; readonly job: HeldAttempt }
  | {
      readonly kind: 'failed';
      readonly job: HeldAttempt;
      readonly failure: FailedAttempt;
    };

/**
 * Writes attempt outcomes in batches: everything that finished while the previous write
 * was in flight goes out as one `complete` and one `fail` statement. A write that fails
 * (connection lost, server restarting) is retried with backoff, never dropped; while it
 * waits the attempts stay held, so their leases keep being renewed. Writes are fenced by
 * attempt in SQL, so a retried write cannot touch a newer attempt.
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
  ) {}

  add(outcome: WrittenOutcome): void {
    this.queue.push(outcome);
    if (!this.flushing) this.flushing = this.flushSoon();
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
          await this.write(batch);
          failures = 0;
          this.onWritten(batch);
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

  private async write(batch: readonly WrittenOutcome[]): Promise<void> {
    const completed: AttemptRef[] = [];
    const failed: FailedAttempt[] = [];
    for (const outcome of batch) {
      if (outcome.kind === 'completed') completed.push(outcome.job);
      else failed.push(outcome.failure);
    }
    await Promise.all([
      completed.length
        ? this.repository.complete(completed, this.deleteCompleted)
        : null,
      failed.length ? this.repository.fail(failed) : null,
    ]);
  }
}
