import {
  FINISHED_STATUSES,
  type FinishedStatus,
} from '../enums/job-status.enum.js';
import type { ResolvedRetention } from './retention.options.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import { PeriodicTask } from './periodic-task.js';

/** Rows one retention statement deletes at most: short transactions, small WAL bursts. */
const RETENTION_BATCH = 1_000;

/**
 * The retention option of each finished state: a new finished state does not compile until
 * it says how long it is kept.
 */
const RETENTION_OPTION: {
  readonly [S in FinishedStatus]: keyof ResolvedRetention;
} = {
  completed: 'completedMs',
  failed: 'failedMs',
  cancelled: 'cancelledMs',
};

/**
 * Deletes finished jobs older than their retention, in small batches (short transactions,
 * SKIP LOCKED so several workers' sweeps never wait on each other), walking the partial
 * index on finished_at. Without it the table, and every index on it, would grow forever.
 */
export class FinishedJobsJanitor extends PeriodicTask<number> {
  constructor(
    private readonly repository: JobsRepository,
    private readonly retention: ResolvedRetention,
    intervalMs: number,
  ) {
    super('delete finished jobs', intervalMs);
  }

  protected override get enabled(): boolean {
    return FINISHED_STATUSES.some(
      (status) => this.retention[RETENTION_OPTION[status]] !== false,
    );
  }

  /** One sweep; resolves with how many rows it deleted. */
  protected async run(): Promise<number> {
    let deleted = 0;
    try {
      for (const status of FINISHED_STATUSES) {
        const ageMs = this.retention[RETENTION_OPTION[status]];
        if (ageMs === false) continue;
        for (let count = RETENTION_BATCH; count === RETENTION_BATCH;) {
          if (this.isStopped) return deleted;
          count = await this.repository.deleteFinished(
            status,
            ageMs,
            RETENTION_BATCH,
          );
          deleted += count;
        }
      }
    } finally {
      if (deleted > 0)
        this.logger.log(
          `Deleted ${deleted} finished job(s) past their retention`,
        );
    }
    return deleted;
  }
}
