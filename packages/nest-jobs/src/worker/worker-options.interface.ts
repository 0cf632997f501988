/** Options of the worker that claims and runs jobs in this process. */
export interface JobsWorkerOptions {
  /** `false` makes an API-only instance: it enqueues but never claims. Default true. */
  enabled?: boolean;
  /** Queues this process works. Default: every queue that has a `@Job()` handler here. */
  queues?: string[];
  /** Jobs run at once by this process, all queues together. Default 20. */
  concurrency?: number;
  /** Per-queue caps under `concurrency`, e.g. `{ emails: 2 }`. */
  queueConcurrency?: Record<string, number>;
  /**
   * Most jobs claimed by one statement (never more than free slots). Default: `concurrency`.
   * With `concurrency` at least twice this, a queue with a backlog is claimed by overlapping
   * claims (the next on the wire while the database answers the last).
   */
  batchSize?: number;
  /** Milliseconds between polls when no notification arrives. Default 1000. */
  pollIntervalMs?: number;
  /** Milliseconds a claim is valid before the job is presumed orphaned. Default 60000. */
  leaseMs?: number;
  /** Milliseconds between lease renewals of running jobs. Default min(15000, leaseMs / 3); must be < leaseMs. */
  heartbeatIntervalMs?: number;
  /** Milliseconds between sweeps that rescue jobs with an expired lease. Default 15000. */
  recoveryIntervalMs?: number;
  /** Milliseconds shutdown waits for running jobs before aborting them. Default 10000. */
  shutdownTimeoutMs?: number;
  /** Default per-attempt timeout in milliseconds (a `@Job()` may set its own). Default 15 min. */
  jobTimeoutMs?: number;
  /** Milliseconds between sweeps that delete finished jobs past their retention. Default 60000. */
  cleanupIntervalMs?: number;
  /**
   * Size of the worker's own connection pool (claims, outcome writes, heartbeats, sweeps),
   * beside the application's TypeORM pool and the LISTEN connection. At most
   * `connections - 1` claims are in flight at once. Default 3.
   */
  connections?: number;
}
