import type pg from 'pg';
import type { DataSource } from 'typeorm';
import { dedicatedConnectionConfig } from '../connections/connection-config.js';
import { createWorkerPool } from '../connections/worker-pool.js';
import type { JobsEvents } from '../events/jobs-events.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { FinishedJobsJanitor } from '../maintenance/finished-jobs-janitor.js';
import { LeaseHeartbeat } from '../maintenance/lease-heartbeat.js';
import { ExpiredLeaseRescue } from '../maintenance/lease-rescue.js';
import { RECONNECT_BACKOFF } from '../retry/backoff.js';
import type { RequeuedAttempt } from '../sql/job-rows.js';
import type { JobsRepository } from '../sql/jobs.repository.js';
import type { PgPool } from '../sql/sql-runner.js';
import { StatementNames } from '../sql/statement-names.js';
import { AttemptFinisher } from './attempt-finisher.js';
import { AttemptTransactions } from './attempt-transactions.js';
import { ClaimFailures } from './claim-failures.js';
import { ClaimedAhead } from './claimed-ahead.js';
import { HeldAttempts } from './held-attempts.js';
import { JobExecutor } from './job-executor.js';
import { OutcomeWriter } from './outcome-writer.js';
import { ProgressWriter } from './progress-writer.js';
import { Slots } from './slots.js';
import { WakeTimers } from './wake-timers.js';

/** The worker's collaborators, each with one role, wired to each other. */
export interface WorkerParts {
  /** The worker's own connections (claims, outcomes, heartbeats, sweeps). */
  readonly pool: pg.Pool;
  /** The repository sending its statements through `pool`. */
  readonly repository: JobsRepository;
  readonly slots: Slots;
  readonly held: HeldAttempts;
  /** Held attempts claimed ahead of a free slot (worker.claimAhead). */
  readonly claimedAhead: ClaimedAhead;
  readonly executor: JobExecutor;
  readonly outcomes: OutcomeWriter;
  /** Batches `ctx.progress` reports; its timer runs only while some are unwritten. */
  readonly progress: ProgressWriter;
  readonly timers: WakeTimers;
  readonly claimFailures: ClaimFailures;
  readonly heartbeat: LeaseHeartbeat;
  readonly rescue: ExpiredLeaseRescue;
  readonly janitor: FinishedJobsJanitor;
}

/** What the parts call back into the worker for. */
export interface WorkerCallbacks {
  /** Something may be due on every queue (poll, retry timer, rescued leases). */
  wake(): void;
  /** A handler slot was freed. */
  slotsFreed(): void;
  /**
   * Outcomes of jobs of ordered or limited queues were written: the next job of their key,
   * or a freed slot of the queue, may be claimed now (no notification says so).
   */
  claimable(queues: readonly string[]): void;
}

/**
 * Builds the worker's parts. Nothing connects yet: the pool opens on first use, so an
 * instance that never starts its worker opens no connection.
 */
export function createWorkerParts(
  moduleOptions: ResolvedJobsOptions,
  dataSource: DataSource,
  appRepository: JobsRepository,
  events: JobsEvents,
  callbacks: WorkerCallbacks,
): WorkerParts {
  const options = moduleOptions.worker;
  const { directUrl, directWorkerPool, preparedStatements } =
    moduleOptions.database;
  const pool = createWorkerPool(
    dedicatedConnectionConfig(
      dataSource,
      'worker',
      directWorkerPool ? directUrl : undefined,
    ),
    options.connections,
    options.queryTimeoutMs,
  );
  // Past the pooler, names are decided for this route alone.
  const repository = appRepository.through(
    pool as unknown as PgPool,
    directWorkerPool ? new StatementNames(preparedStatements) : undefined,
  );
  const { claimAfterOutcome } = moduleOptions.queuePolicies;
  const slots = new Slots(options.concurrency, options.queueConcurrency);
  const held = new HeldAttempts();
  const timers = new WakeTimers(options.pollIntervalMs, callbacks.wake);
  const progress = new ProgressWriter(
    repository,
    events,
    options.progressIntervalMs,
  );
  // The finisher (below) queues outcomes on the writer, and hears back once they are written.
  const outcomes = new OutcomeWriter(
    repository,
    (written) => {
      let freedQueues: Set<string> | undefined;
      for (const outcome of written) {
        if (
          claimAfterOutcome.size > 0 &&
          claimAfterOutcome.has(outcome.job.row.queue)
        )
          (freedQueues ??= new Set()).add(outcome.job.row.queue);
        held.delete(outcome.job);
        // Armed once written: the row's run_at was computed by that statement, so it is
        // due no later than retryInMs from now.
        if (outcome.kind === 'failed' && outcome.failure.retryInMs !== null)
          timers.wakeAfter(outcome.failure.retryInMs + 5);
        else if (outcome.kind === 'requeued')
          timers.wakeAfter(requeuedInMs(outcome.requeue) + 5);
        finisher.written(outcome);
      }
      if (freedQueues) callbacks.claimable([...freedQueues]);
    },
    RECONNECT_BACKOFF,
    moduleOptions.retention.completedMs === 0,
    (dropped) => held.delete(dropped.job),
    progress,
  );
  const finisher = new AttemptFinisher(
    slots,
    held,
    outcomes,
    events,
    moduleOptions.retry,
    callbacks.slotsFreed,
  );
  return {
    pool,
    repository,
    slots,
    held,
    claimedAhead: new ClaimedAhead(),
    outcomes,
    timers,
    progress,
    executor: new JobExecutor(
      options.jobTimeoutMs,
      events,
      (job, h, o) => finisher.settle(job, h, o),
      progress,
      new AttemptTransactions(
        repository,
        dataSource,
        moduleOptions.retention.completedMs === 0,
        options.transactionTimeoutMs,
        events,
      ),
    ),
    claimFailures: new ClaimFailures(events),
    heartbeat: new LeaseHeartbeat(
      repository,
      () => held,
      events,
      options.leaseMs,
      options.heartbeatIntervalMs,
    ),
    rescue: new ExpiredLeaseRescue(
      repository,
      events,
      callbacks.wake,
      options.recoveryIntervalMs,
    ),
    janitor: new FinishedJobsJanitor(
      repository,
      moduleOptions.retention,
      options.cleanupIntervalMs,
    ),
  };
}

/** In how many milliseconds a snoozed or rescheduled job is due (by this process's clock). */
function requeuedInMs(requeue: RequeuedAttempt): number {
  return requeue.runAt === null
    ? (requeue.delayMs ?? 0)
    : Math.max(0, requeue.runAt.getTime() - Date.now());
}
