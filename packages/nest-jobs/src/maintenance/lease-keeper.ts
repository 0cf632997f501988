import { Logger } from '@nestjs/common';
import { LeaseLostError } from '../errors/job-failure.errors.js';
import { attemptKey, type JobsRepository } from '../sql/jobs.repository.js';
import type { HeldAttempt } from '../worker/held-attempt.js';
import { describeError } from '../utils/describe-error.js';

/**
 * Keeps leases honest on both sides:
 * - heartbeat: renews, in one statement, the lease of every attempt this process holds; an
 *   attempt whose row no longer matches was rescued elsewhere, so its signal is aborted and
 *   its outcome will not be written;
 * - recovery: returns running jobs whose lease expired (their worker died) to pending, or to
 *   failed when no retries remain. Any worker does it; SKIP LOCKED keeps sweeps disjoint.
 */
export class LeaseKeeper {
  private readonly logger = new Logger('JobsWorker');
  private heartbeatTimer: NodeJS.Timeout | undefined;
  private recoveryTimer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly repository: JobsRepository,
    private readonly heldAttempts: () => HeldAttempt[],
    private readonly onRecovered: () => void,
    private readonly timing: {
      leaseMs: number;
      heartbeatIntervalMs: number;
      recoveryIntervalMs: number;
    },
  ) {}

  start(): void {
    this.scheduleHeartbeat();
    // Sweep once at start: the previous run of this very process may have left orphans.
    this.scheduleRecovery(0);
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.heartbeatTimer);
    clearTimeout(this.recoveryTimer);
  }

  /** Renews the leases now; exposed so tests and shutdown need not wait for the timer. */
  async heartbeat(): Promise<void> {
    const held = this.heldAttempts().filter((job) => job.ownsAttempt);
    if (held.length === 0) return;
    try {
      const stillHeld = await this.repository.heartbeat(
        held.map((job) => ({ id: job.id, attempt: job.attempt })),
        this.timing.leaseMs,
      );
      for (const job of held) {
        // By attempt, not id: this process may also hold the newer attempt of the same job.
        if (stillHeld.has(attemptKey(job)) || !job.ownsAttempt) continue;
        // A finished attempt's row usually stopped matching because our own outcome write
        // committed while this heartbeat ran. If it was rescued instead, the fenced write
        // changes nothing; either way there is no handler left to abort.
        if (job.handlerDone) continue;
        job.leaseLost = true;
        job.abort(new LeaseLostError());
        this.logger.warn(
          `Lost the lease of job ${job.id} (${job.row.jobType}) attempt ${job.attempt}; it may run again elsewhere`,
        );
      }
    } catch (error) {
      this.logger.warn(
        `Could not renew the leases of ${held.length} running job(s): ${describeError(error)}`,
      );
    }
  }

  /** Rescues expired leases now; returns how many jobs were rescued. */
  async recover(): Promise<number> {
    let total = 0;
    try {
      for (;;) {
        const recovered = await this.repository.recoverExpired(500);
        for (const job of recovered) {
          this.logger.warn(
            `Rescued job ${job.id} (${job.jobType}) whose lease expired during attempt ${job.attempt}: now ${job.status}`,
          );
        }
        total += recovered.length;
        if (recovered.length < 500 || this.stopped) break;
      }
    } catch (error) {
      this.logger.warn(
        `Could not sweep expired leases: ${describeError(error)}`,
      );
    }
    if (total > 0) this.onRecovered();
    return total;
  }

  private scheduleHeartbeat(): void {
    if (this.stopped) return;
    this.heartbeatTimer = setTimeout(async () => {
      await this.heartbeat();
      this.scheduleHeartbeat();
    }, this.timing.heartbeatIntervalMs);
  }

  private scheduleRecovery(delayMs = this.timing.recoveryIntervalMs): void {
    if (this.stopped) return;
    this.recoveryTimer = setTimeout(async () => {
      await this.recover();
      this.scheduleRecovery();
    }, delayMs);
  }
}
