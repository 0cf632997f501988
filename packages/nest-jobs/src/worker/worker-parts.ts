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
import type { JobsRepository } from '../sql/jobs.repository.js';
import type { PgPool } from '../sql/sql-runner.js';
import { AttemptFinisher } from './attempt-finisher.js';
import { ClaimFailures } from './claim-failures.js';
import { HeldAttempts } from './held-attempts.js';
import { JobExecutor } from './job-executor.js';
import { OutcomeWriter } from './outcome-writer.js';
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
  readonly executor: JobExecutor;
  readonly outcomes: OutcomeWriter;
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
  const pool = createWorkerPool(
    dedicatedConnectionConfig(dataSource, 'worker'),
    options.connections,
  );
  const repository = appRepository.through(pool as unknown as PgPool);
  const slots = new Slots(options.concurrency, options.queueConcurrency);
  const held = new HeldAttempts();
  const timers = new WakeTimers(options.pollIntervalMs, callbacks.wake);
  const outcomes = new OutcomeWriter(
    repository,
    (written) => {
      for (const outcome of written) {
        held.delete(outcome.job);
        // Armed once written: the row's run_at was computed by that statement, so it is
        // due no later than retryInMs from now.
        if (outcome.kind === 'failed' && outcome.failure.retryInMs !== null)
          timers.wakeAfter(outcome.failure.retryInMs + 5);
      }
    },
    RECONNECT_BACKOFF,
    moduleOptions.retention.completedMs === 0,
    (dropped) => held.delete(dropped.job),
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
    outcomes,
    timers,
    executor: new JobExecutor(options.jobTimeoutMs, events, (job, h, o) =>
      finisher.settle(job, h, o),
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
