import type { JobsEvents } from '../events/jobs-events.js';
import { LeaseLostError } from '../errors/job-failure.errors.js';
import {
  type HeartbeatResult,
  type JobsRepository,
} from '../sql/jobs.repository.js';
import { attemptKey } from '../sql/job-rows.js';
import type { HeldAttempt } from '../worker/held-attempt.js';
import { stopCancelledAttempt } from '../worker/attempt-cancel.js';
import { describeError } from '../utils/describe-error.js';
import { PeriodicTask } from './periodic-task.js';

/**
 * How long before its lease would expire an attempt that could not be renewed is given up:
 * a tenth of the lease, less when the heartbeat interval leaves less room (a beat must come
 * before a lease lapses). It covers a timer that fires late on a busy event loop and the
 * moment a handler needs to see its signal, before another instance may rescue the job.
 */
export function leaseSafetyMarginMs(
  leaseMs: number,
  heartbeatIntervalMs: number,
): number {
  return Math.min(
    Math.floor(leaseMs / 10),
    Math.floor((leaseMs - heartbeatIntervalMs) / 2),
  );
}

/**
 * Renews, in one statement, the lease of every attempt this process holds. An attempt whose
 * row no longer matches was rescued elsewhere (its lease had expired): its signal is
 * aborted and its outcome will not be written, since the job may already run again. An
 * attempt whose row an operator cancelled is stopped too, as a cancel (JobCancelledError,
 * `job.attempt-cancelled`), not as a lost lease.
 *
 * The same happens to an attempt this process could not renew for `leaseMs` less the safety
 * margin, measured on the monotonic clock from when the statement that last set its lease
 * was sent (claim or renewal): the database is unreachable (a partition, a half-open
 * connection), and once the lease expires any instance that can reach it rescues the job.
 * That is checked while a renewal is in flight too, and a beat comes early when a lease
 * would lapse before it: a renewal that hangs or fails cannot delay it.
 */
export class LeaseHeartbeat extends PeriodicTask {
  /** How long after the statement that last set it a lease counts as lost here. */
  private readonly lapseAfterMs: number;

  constructor(
    private readonly repository: JobsRepository,
    private readonly heldAttempts: () => Iterable<HeldAttempt>,
    private readonly events: JobsEvents,
    private readonly leaseMs: number,
    intervalMs: number,
  ) {
    super('renew the leases of running jobs', intervalMs);
    this.lapseAfterMs = leaseMs - leaseSafetyMarginMs(leaseMs, intervalMs);
  }

  protected async run(): Promise<void> {
    this.loseLapsedLeases();
    const held = [...this.heldAttempts()].filter((job) => job.ownsAttempt);
    if (held.length === 0) return;
    const sentAt = performance.now();
    let beat: HeartbeatResult;
    try {
      beat = await this.losingLapsedLeasesUntil(
        this.repository.heartbeat(
          held.map((job) => ({
            id: job.id,
            attempt: job.attempt,
            releases: job.releases,
          })),
          this.leaseMs,
        ),
      );
    } catch (error) {
      // The next beat retries; an attempt left unrenewed too long is given up meanwhile.
      this.logger.warn(
        `Could not renew the leases of ${held.length} running job(s): ${describeError(error)}`,
      );
      return;
    }
    for (const job of held) {
      if (!job.ownsAttempt) continue;
      // By attempt, not id: this process may also hold the newer attempt of the same job.
      const key = attemptKey(job);
      // Busy: its row is locked by the handler's transaction that completes or
      // checkpoints it. No one else can change the row while that lock is held (a rescue
      // skips locked rows), and the transaction is bounded by transactionTimeoutMs.
      if (beat.renewed.has(key) || beat.busy.has(key)) {
        job.leaseRenewedAt = sentAt;
        continue;
      }
      // Cancelled by an operator: not a lost lease (the job will not run elsewhere). This is
      // how a cancel reaches an instance without a LISTEN connection.
      if (beat.cancelled.has(key)) {
        stopCancelledAttempt(job, this.events);
        continue;
      }
      // A finished attempt's row usually stopped matching because our own outcome write
      // committed while this heartbeat ran. If it was rescued instead, the fenced write
      // changes nothing; either way there is no handler left to abort.
      if (job.handlerDone) continue;
      this.lose(job);
    }
  }

  /** After the interval, or sooner when a lease would lapse before it. */
  protected override nextDelayMs(): number {
    return Math.min(super.nextDelayMs(), this.msUntilNextLapse());
  }

  /** Waits for `renewal`, giving up each lease that lapses before it answers. */
  private async losingLapsedLeasesUntil<T>(renewal: Promise<T>): Promise<T> {
    const answered = renewal.then(
      () => true,
      () => true,
    );
    for (;;) {
      const waitMs = this.msUntilNextLapse();
      if (waitMs === Infinity) return renewal;
      let timer: NodeJS.Timeout | undefined;
      const lapsed = new Promise<boolean>((resolve) => {
        timer = setTimeout(resolve, waitMs, false);
      });
      const done = await Promise.race([answered, lapsed]);
      clearTimeout(timer);
      if (done) return renewal;
      this.loseLapsedLeases();
    }
  }

  /** Milliseconds until the next lease held here lapses (Infinity: none can). */
  private msUntilNextLapse(): number {
    let next = Infinity;
    for (const job of this.heldAttempts()) {
      if (!this.canLapse(job)) continue;
      next = Math.min(next, job.leaseRenewedAt + this.lapseAfterMs);
    }
    return next === Infinity ? next : Math.max(0, next - performance.now());
  }

  private loseLapsedLeases(): void {
    const now = performance.now();
    for (const job of this.heldAttempts()) {
      if (this.canLapse(job) && now >= job.leaseRenewedAt + this.lapseAfterMs)
        this.lose(job);
    }
  }

  /**
   * Only a running handler's attempt is given up: a finished one waits for its outcome
   * write, which the database fences by attempt, so it is harmless once the job was rescued.
   */
  private canLapse(job: HeldAttempt): boolean {
    return job.ownsAttempt && !job.handlerDone;
  }

  private lose(job: HeldAttempt): void {
    job.leaseLost = true;
    job.abort(new LeaseLostError());
    this.events.emit('job.lease-lost', { job: job.info });
  }
}
