import { Injectable } from '@nestjs/common';
import { JobsWorker, type WorkerState } from './jobs.worker.js';

/** A point-in-time view of this process's worker. */
export interface WorkerStatusSnapshot {
  /**
   * `disabled`: `worker.enabled: false`, or no handler and no `worker.queues`; `manual`:
   * `worker.mode: 'manual'`, jobs run only when a test drains them.
   */
  readonly state: WorkerState;
  /** Queues claimed from (empty unless running). */
  readonly queues: readonly string[];
  /** Handlers running now, and the most that may. */
  readonly running: number;
  readonly concurrency: number;
  /** Jobs claimed ahead of a free slot (`worker.claimAhead`), waiting here for one. */
  readonly claimedAhead: number;
  /**
   * Most jobs the next claim asks for: `batchSize`, or less while claims are slow (the
   * worker cuts them to stay short under load).
   */
  readonly claimSize: number;
  /** Whether the LISTEN connection is up; while it is not, the worker only polls. */
  readonly listening: boolean;
  /** Claims that failed in a row (database unreachable); 0 when the last one succeeded. */
  readonly claimFailuresInARow: number;
  /**
   * The queues of this worker that it sees paused (learned by notification, or by its read
   * of the queues table every poll interval): nothing is claimed from them.
   */
  readonly pausedQueues: readonly string[];
}

/**
 * The read model of this process's worker, for health checks, dashboards and metrics:
 * read-only, so an integration can report on the worker without being able to stop it.
 */
@Injectable()
export class JobsWorkerStatus {
  constructor(private readonly worker: JobsWorker) {}

  snapshot(): WorkerStatusSnapshot {
    return this.worker.snapshot();
  }
}
