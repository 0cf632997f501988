import { Logger } from '@nestjs/common';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import { describeError } from '../utils/describe-error.js';

const BATCH = 1_000;

/**
 * Deletes finished jobs older than their retention, in small batches (short transactions,
 * SKIP LOCKED so several workers' sweeps never wait on each other), walking the partial
 * index on finished_at. Without it the table, and every index on it, would grow forever.
 */
export class FinishedJobsJanitor {
  private readonly logger = new Logger('JobsWorker');
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(
    private readonly repository: JobsRepository,
    private readonly retention: ResolvedJobsOptions['retention'],
    private readonly intervalMs: number,
  ) {}

  start(): void {
    if (
      this.retention.completedMs === false &&
      this.retention.failedMs === false
    )
      return;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    clearTimeout(this.timer);
  }

  /** One sweep; returns how many rows it deleted. */
  async sweep(): Promise<number> {
    let deleted = 0;
    try {
      for (const status of ['completed', 'failed'] as const) {
        const ageMs =
          status === 'completed'
            ? this.retention.completedMs
            : this.retention.failedMs;
        if (ageMs === false) continue;
        for (let count = BATCH; count === BATCH && !this.stopped;) {
          count = await this.repository.deleteFinished(status, ageMs, BATCH);
          deleted += count;
        }
      }
    } catch (error) {
      this.logger.warn(
        `Could not delete finished jobs: ${describeError(error)}`,
      );
    }
    if (deleted > 0)
      this.logger.log(
        `Deleted ${deleted} finished job(s) past their retention`,
      );
    return deleted;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(async () => {
      await this.sweep();
      this.schedule();
    }, this.intervalMs);
  }
}
