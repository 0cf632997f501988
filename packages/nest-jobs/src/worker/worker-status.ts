import { Injectable } from '@nestjs/common';
import { JobsWorker, type WorkerState } from './jobs.worker.js';

/** A point-in-time view of this process's worker. */
export interface WorkerStatusSnapshot {
  /** `disabled`: `worker.enabled: false`, or no handler and no `worker.queues`. */
  readonly state: WorkerState;
  /** Queues claimed from (empty unless running). */
  readonly queues: readonly string[];
  /** Handlers running now, and the most that may. */
  readonly running: number;
  readonly concurrency: number;
  /** Whether the LISTEN connection is up; while it is not, the worker only polls. */
  readonly listening: boolean;
  /** Claims that failed in a row (database unreachable); 0 when the last one succeeded. */
  readonly claimFailuresInARow: number;
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
