import type { JobAttemptInfo } from '../events/jobs-events.interface.js';
import type { ClaimedJobRow } from '../sql/job-rows.js';

/**
 * One claimed attempt held by this process, from claim until its outcome is written (or
 * it is released). The worker renews the lease of every held attempt. It is an AttemptRef:
 * its id, attempt and releases fence every write about it.
 */
export class HeldAttempt {
  /** Created when a handler first reads `ctx.signal`: most never do, and this runs per job. */
  private controller: AbortController | undefined;
  private abortReason: unknown = undefined;
  private aborted = false;
  private publicInfo: JobAttemptInfo | undefined;
  /** The handler has returned (or timed out); its slot is free again. */
  handlerDone = false;
  /** The lease was lost: the job may run elsewhere, so this attempt's outcome is not written. */
  leaseLost = false;
  /** Returned to pending by a shutdown: its outcome is not written either. */
  released = false;
  /** Cancelled (the row is already `cancelled`): its outcome is not written either. */
  cancelled = false;
  /** performance.now() when the handler was called (0: it never was). */
  startedAt = 0;
  /**
   * The job's completion committed in the handler's transaction (a `transactional` handler,
   * or ctx.complete confirmed after the handler returned): no outcome is left to write.
   */
  completedInTransaction = false;
  /** JSON of the latest `ctx.progress` not yet written (undefined: nothing to write). */
  progressJson: string | undefined = undefined;
  /**
   * JSON of the latest `ctx.progress`, written or not: a completion inside the handler's
   * transaction stores it with the row, since a write of it on the pool would come after
   * that commit and be fenced out.
   */
  latestProgressJson: string | undefined = undefined;

  constructor(
    readonly row: ClaimedJobRow,
    /**
     * performance.now() when the statement that last set this attempt's lease (its claim,
     * then each successful renewal) was sent: the lease runs for leaseMs from no earlier.
     */
    public leaseRenewedAt: number,
  ) {}

  get id(): string {
    return this.row.id;
  }

  get attempt(): number {
    return this.row.attempt;
  }

  get releases(): number {
    return this.row.releases;
  }

  /** Whether this process may still write an outcome for the attempt. */
  get ownsAttempt(): boolean {
    return !this.leaseLost && !this.released && !this.cancelled;
  }

  /**
   * What events and middleware see of the attempt: a frozen copy, made on first use (only
   * when someone listens), so a listener can neither change the row nor reach the signal.
   */
  get info(): JobAttemptInfo {
    return (this.publicInfo ??= Object.freeze({
      id: this.row.id,
      name: this.row.jobType,
      queue: this.row.queue,
      attempt: this.row.attempt,
      maxRetries: this.row.maxRetries,
      traceId: this.row.traceId,
      orderingKey: this.row.orderingKey ?? null,
    }));
  }

  /** The handler's cancellation signal (already aborted if the attempt was). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Whether the attempt was aborted (timed out, cancelled, lease lost, shut down). */
  get isAborted(): boolean {
    return this.aborted;
  }

  /** Aborts the attempt's signal with `reason`; only the first call counts. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
