/** Options of the worker that claims and runs jobs in this process. */
export interface JobsWorkerOptions {
  /** `false` makes an API-only instance: it enqueues but never claims. Default true. */
  enabled?: boolean;
  /**
   * `'auto'` (default): the worker claims and runs jobs on its own. `'manual'`: it runs
   * nothing on its own (no polls, no LISTEN, no sweeps); jobs run only when a test drains
   * them (`nest-jobs/testing`, whose testing module sets this).
   */
  mode?: 'auto' | 'manual';
  /**
   * Queues this process works. Default: every queue that has a `@Job()` handler here. An
   * entry with `*` is a pattern (`emails.*`: `*` matches any characters): the worker works
   * every queue it matches from the moment it sees jobs of it (a notification, an enqueue of
   * this process, or a read of the queues with pending jobs once per poll interval).
   */
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
  /**
   * Jobs a queue with a backlog may claim beyond the free slots: they wait in this process
   * (their leases renewed) for a slot, so the next batch is here when a handler ends instead
   * of one claim round trip later. A small `concurrency` of short jobs drains faster; the
   * cost is that these jobs wait here while another instance may have a free slot (at most
   * this many jobs, each for at most one handler's run). A shutdown returns them to pending
   * at once. 0 claims only for free slots. Default: what this worker's slots finish in about
   * 50 ms at their recent pace, at least `batchSize` and at most 1,000 (more only if
   * `batchSize` is): a few slots of short jobs claim hundreds ahead, long handlers one batch.
   */
  claimAhead?: number;
  /** Milliseconds between polls when no notification arrives. Default 1000. */
  pollIntervalMs?: number;
  /** Milliseconds a claim is valid before the job is presumed orphaned. Default 60000. */
  leaseMs?: number;
  /** Milliseconds between lease renewals of running jobs. Default min(15000, leaseMs / 3); must be < leaseMs. */
  heartbeatIntervalMs?: number;
  /**
   * Milliseconds between writes of the progress handlers report (`ctx.progress`): every
   * value reported meanwhile goes out in one statement, the latest per attempt. Nothing is
   * written, and no timer runs, while no handler reports progress. Default 1000.
   */
  progressIntervalMs?: number;
  /**
   * Milliseconds the worker waits for the database to answer one statement (claim, lease
   * renewal, outcome write, sweep) or to open a connection, before it gives up on that
   * connection (closed, never reused) and retries on a new one: how long a network
   * partition that drops packets instead of closing connections can hold the worker up. Default leaseMs / 2
   * (30000); must be < leaseMs. Leases do not depend on it (an attempt left unrenewed is
   * given up in time however long a renewal hangs); it bounds how long a dead connection
   * holds up claims and outcome writes. A cut claim that committed anyway costs one lease:
   * its jobs run once it expires.
   */
  queryTimeoutMs?: number;
  /** Milliseconds between sweeps that rescue jobs with an expired lease. Default 15000. */
  recoveryIntervalMs?: number;
  /** Milliseconds shutdown waits for running jobs before aborting them. Default 10000. */
  shutdownTimeoutMs?: number;
  /** Default per-attempt timeout in milliseconds (a `@Job()` may set its own). Default 15 min. */
  jobTimeoutMs?: number;
  /**
   * Milliseconds a transaction that completes or checkpoints a job may take from then on
   * (`ctx.complete`, `ctx.checkpoint` with a manager, a `transactional` handler's own
   * transaction from its start): each statement and each wait between statements is
   * bounded by it (PostgreSQL's `statement_timeout` and `idle_in_transaction_session_timeout`,
   * set locally), so a stuck or frozen worker cannot hold the job's row lock longer. A
   * `@Job()` may set its own. Default 60000.
   */
  transactionTimeoutMs?: number;
  /** Milliseconds between sweeps that delete finished jobs past their retention. Default 60000. */
  cleanupIntervalMs?: number;
  /**
   * Size of the worker's own connection pool (claims, outcome writes, heartbeats, sweeps),
   * beside the application's TypeORM pool and the LISTEN connection. At most
   * `connections - 1` claims are in flight at once. Default 3.
   */
  connections?: number;
}
