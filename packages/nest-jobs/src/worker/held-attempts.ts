import { Logger } from '@nestjs/common';
import type { JobsEvents } from '../events/jobs-events.js';
import { WorkerShutdownError } from '../errors/job-failure.errors.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import { describeError } from '../utils/describe-error.js';
import { sleep } from '../utils/sleep.js';
import type { HeldAttempt } from './held-attempt.js';

/** Tries of the release at shutdown before the leases are left to expire. */
const RELEASE_TRIES = 3;

/**
 * Attempts held by this process, from claim until their outcome is written. Each
 * HeldAttempt is one attempt: after a lost lease this process may claim the job again while
 * the old attempt's handler still runs, and each attempt must keep (or lose) its own lease.
 */
export class HeldAttempts implements Iterable<HeldAttempt> {
  private readonly logger = new Logger('JobsWorker');
  private readonly held = new Set<HeldAttempt>();

  add(job: HeldAttempt): void {
    this.held.add(job);
  }

  delete(job: HeldAttempt): void {
    this.held.delete(job);
  }

  get size(): number {
    return this.held.size;
  }

  [Symbol.iterator](): Iterator<HeldAttempt> {
    return this.held.values();
  }

  /**
   * At shutdown, after the grace period: aborts the handlers still running, forgets their
   * attempts (their outcomes are no longer written) and returns the jobs to pending, so
   * another instance runs them at once instead of after their lease.
   */
  async releaseUnfinished(
    repository: JobsRepository,
    events: JobsEvents,
  ): Promise<void> {
    await this.release(
      [...this.held].filter((job) => !job.handlerDone),
      repository,
      events,
    );
  }

  /**
   * Returns `jobs` (those this process still owns) to pending at once, their attempts not
   * counted, aborting any handler among them: at shutdown, the unfinished ones and those
   * claimed ahead that never started.
   */
  async release(
    jobs: readonly HeldAttempt[],
    repository: JobsRepository,
    events: JobsEvents,
  ): Promise<void> {
    const unfinished = jobs.filter((job) => job.ownsAttempt);
    if (unfinished.length === 0) return;
    const reason = new WorkerShutdownError();
    for (const job of unfinished) {
      job.released = true;
      job.abort(reason);
      this.held.delete(job);
    }
    const refs = unfinished.map((job) => ({
      id: job.id,
      attempt: job.attempt,
      releases: job.releases,
    }));
    for (let attempt = 1; attempt <= RELEASE_TRIES; attempt += 1) {
      try {
        await repository.release(refs, reason.message);
        events.emit('job.released', {
          jobs: unfinished.map((job) => job.info),
          reason: reason.message,
        });
        return;
      } catch (error) {
        this.logger.warn(
          `Could not return unfinished jobs to pending (try ${attempt}/${RELEASE_TRIES}): ${describeError(error)}`,
        );
        await sleep(200 * attempt);
      }
    }
    this.logger.error(
      `${refs.length} unfinished job(s) stay running until their lease expires, then run again`,
    );
  }
}
