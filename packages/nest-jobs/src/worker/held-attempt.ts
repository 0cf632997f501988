import type { ClaimedJobRow } from '../sql/jobs.repository.js';

/**
 * One claimed attempt held by this process, from claim until its outcome is written (or
 * it is released). The worker renews the lease of every held attempt.
 */
export class HeldAttempt {
  /** Created when a handler first reads `ctx.signal`: most never do, and this runs per job. */
  private controller: AbortController | undefined;
  private abortReason: unknown = undefined;
  private aborted = false;
  /** The handler has returned (or timed out); its slot is free again. */
  handlerDone = false;
  /** The lease was lost: the job may run elsewhere, so this attempt's outcome is not written. */
  leaseLost = false;
  /** Returned to pending by a shutdown: its outcome is not written either. */
  released = false;

  constructor(readonly row: ClaimedJobRow) {}

  get id(): string {
    return this.row.id;
  }

  get attempt(): number {
    return this.row.attempt;
  }

  /** Whether this process may still write an outcome for the attempt. */
  get ownsAttempt(): boolean {
    return !this.leaseLost && !this.released;
  }

  /** The handler's cancellation signal (already aborted if the attempt was). */
  get signal(): AbortSignal {
    if (!this.controller) {
      this.controller = new AbortController();
      if (this.aborted) this.controller.abort(this.abortReason);
    }
    return this.controller.signal;
  }

  /** Aborts the attempt's signal with `reason`; only the first call counts. */
  abort(reason: unknown): void {
    if (this.aborted) return;
    this.aborted = true;
    this.abortReason = reason;
    this.controller?.abort(reason);
  }
}
