import { AsyncResource } from 'node:async_hooks';
import type pg from 'pg';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { dedicatedConnectionConfig } from '../connections/connection-config.js';
import { createWorkerPool } from '../connections/worker-pool.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { JOBS_DATA_SOURCE, JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { FinishedJobsJanitor } from '../maintenance/finished-jobs-janitor.js';
import { LeaseHeartbeat } from '../maintenance/lease-heartbeat.js';
import { ExpiredLeaseRescue } from '../maintenance/lease-rescue.js';
import { EnqueueNotifier } from '../notifications/enqueue-notifier.js';
import { NotificationListener } from '../notifications/notification-listener.js';
import { RECONNECT_BACKOFF } from '../retry/backoff.js';
import {
  JobsRepository,
  type ClaimedJobRow,
  type PgPool,
} from '../sql/jobs.repository.js';
import { describeError } from '../utils/describe-error.js';
import { AttemptFinisher } from './attempt-finisher.js';
import { ClaimScheduler } from './claim-scheduler.js';
import { HeldAttempt } from './held-attempt.js';
import { HeldAttempts } from './held-attempts.js';
import { JobExecutor } from './job-executor.js';
import { OutcomeWriter, type WrittenOutcome } from './outcome-writer.js';
import { Slots } from './slots.js';
import { WakeTimers } from './wake-timers.js';
import type { ResolvedWorkerOptions } from './worker.options.js';

/** Where the worker is in its life. */
export type WorkerState =
  'idle' | 'disabled' | 'running' | 'stopping' | 'stopped';

/**
 * Claims and runs jobs in this process: the lifecycle only, what starts in which order and
 * what drains in which order; each step is its own collaborator. Starts in
 * onApplicationBootstrap (after every handler was collected in onModuleInit), drains in
 * beforeApplicationShutdown (while the DataSource is still open). It knows no SQL: the
 * repository does the talking.
 */
@Injectable()
export class JobsWorker
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(JobsWorker.name);
  private readonly options: ResolvedWorkerOptions;
  /** The worker's own connections, and the repository that sends its statements through them. */
  private readonly pool: pg.Pool;
  private readonly repository: JobsRepository;
  private readonly slots: Slots;
  private readonly held = new HeldAttempts();
  private readonly executor: JobExecutor;
  private readonly outcomes: OutcomeWriter;
  private readonly heartbeat: LeaseHeartbeat;
  private readonly rescue: ExpiredLeaseRescue;
  private readonly janitor: FinishedJobsJanitor;
  private readonly timers: WakeTimers;
  private listener: NotificationListener | null = null;
  /** Created at start, when the queues are known. */
  private claims: ClaimScheduler | null = null;
  private stopLocalWakeUps: (() => void) | null = null;
  private queues: string[] = [];
  private state: WorkerState = 'idle';
  private stopped: Promise<void> | null = null;
  private claimFailures = 0;

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS) moduleOptions: ResolvedJobsOptions,
    @Inject(JOBS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: JobHandlerRegistry,
    appRepository: JobsRepository,
    private readonly notifier: EnqueueNotifier,
    private readonly events: JobsEvents,
  ) {
    const options = moduleOptions.worker;
    this.options = options;
    // Connects on first use: an instance that never starts its worker opens nothing.
    this.pool = createWorkerPool(
      dedicatedConnectionConfig(dataSource, 'worker'),
      options.connections,
    );
    const repository = appRepository.through(this.pool as unknown as PgPool);
    this.repository = repository;
    this.slots = new Slots(options.concurrency, options.queueConcurrency);
    this.timers = new WakeTimers(options.pollIntervalMs, () => this.wake());
    this.outcomes = new OutcomeWriter(
      repository,
      (written) => this.onOutcomesWritten(written),
      RECONNECT_BACKOFF,
      moduleOptions.retention.completedMs === 0,
    );
    const finisher = new AttemptFinisher(
      this.slots,
      this.held,
      this.outcomes,
      events,
      moduleOptions.retry,
      () => this.claims?.slotsFreed(),
    );
    this.executor = new JobExecutor(
      options.jobTimeoutMs,
      events,
      (job, handler, outcome) => finisher.settle(job, handler, outcome),
    );
    this.heartbeat = new LeaseHeartbeat(
      repository,
      () => this.held,
      events,
      options.leaseMs,
      options.heartbeatIntervalMs,
    );
    this.rescue = new ExpiredLeaseRescue(
      repository,
      events,
      () => this.wake(),
      options.recoveryIntervalMs,
    );
    this.janitor = new FinishedJobsJanitor(
      repository,
      moduleOptions.retention,
      options.cleanupIntervalMs,
    );
  }

  onApplicationBootstrap(): void {
    this.start();
  }

  async beforeApplicationShutdown(): Promise<void> {
    await this.stop();
  }

  /** Number of handlers running in this process now. */
  get runningCount(): number {
    return this.slots.inUse;
  }

  /** The queues this worker claims from (empty when disabled or without handlers). */
  get workedQueues(): readonly string[] {
    return this.queues;
  }

  /** Where the worker is in its life (see `JobsWorkerStatus`). */
  get workerState(): WorkerState {
    return this.state;
  }

  /** Whether the LISTEN connection is up (false when the worker does not run). */
  get listening(): boolean {
    return this.listener?.listening ?? false;
  }

  /** Claims that failed in a row (0 once one succeeds). */
  get claimFailuresInARow(): number {
    return this.claimFailures;
  }

  /** The resolved worker options. */
  get settings(): Readonly<ResolvedWorkerOptions> {
    return this.options;
  }

  private start(): void {
    if (this.state !== 'idle') return;
    if (!this.options.enabled) {
      this.state = 'disabled';
      return;
    }
    this.queues = this.options.queues ?? this.registry.queues();
    if (this.queues.length === 0) {
      this.state = 'disabled';
      this.logger.log(
        'No @Job handlers and no worker.queues: this instance only enqueues',
      );
      return;
    }
    this.state = 'running';
    this.listener = new NotificationListener(
      dedicatedConnectionConfig(this.dataSource, 'listener'),
      this.repository.jobsTable.channel,
      {
        onNotification: (queue) => this.onNotification(queue),
        onConnected: () => this.wake(),
      },
      RECONNECT_BACKOFF,
    );
    const claims = new ClaimScheduler(
      this.queues,
      {
        batchSize: this.options.batchSize,
        // One connection stays free for outcome writes and heartbeats.
        maxInFlight: Math.max(1, this.options.connections - 1),
      },
      {
        freeSlots: () => this.slots.free(),
        freeSlotsIn: (queue) => this.slots.freeIn(queue),
        claim: (queue, limit) =>
          this.repository.claim(queue, limit, this.options.leaseMs),
        start: (row) => this.startJob(row),
        onClaimSucceeded: () => this.onClaimSucceeded(),
        onClaimFailed: (error) => this.onClaimFailed(error),
      },
    );
    this.claims = claims;
    this.listener.start();
    // Enqueues of this process reach the worker at once, and when it takes them all no
    // NOTIFY is sent (see EnqueueNotifier). The claim runs in the worker's own async
    // context, not the enqueuing request's: handlers must not inherit its
    // AsyncLocalStorage stores (trace id, CLS).
    const workerScope = new AsyncResource('nest-jobs:local-wake-up');
    this.stopLocalWakeUps = this.notifier.onEnqueued((queue, count) =>
      this.queues.includes(queue)
        ? workerScope.runInAsyncScope(() => claims.claimNew(queue, count))
        : null,
    );
    this.heartbeat.start();
    // Sweep once at start: the previous run of this very process may have left orphans.
    this.rescue.start(0);
    this.janitor.start();
    this.timers.startPolling();
    this.logger.log(
      `Worker started: queues ${this.queues.join(', ')}; concurrency ${this.options.concurrency}; ` +
        `lease ${this.options.leaseMs} ms; poll ${this.options.pollIntervalMs} ms`,
    );
    this.events.emit('worker.started', {
      queues: this.queues,
      concurrency: this.options.concurrency,
    });
    this.wake();
  }

  /**
   * Stops claiming, waits up to `shutdownTimeoutMs` for running handlers, then aborts the
   * rest and returns them to pending, writes what finished, and closes the LISTEN
   * connection. Idempotent: every call returns the same promise.
   */
  stop(): Promise<void> {
    this.stopped ??= this.drain();
    return this.stopped;
  }

  private async drain(): Promise<void> {
    const wasRunning = this.state === 'running';
    this.state = wasRunning ? 'stopping' : 'stopped';
    this.stopLocalWakeUps?.();
    this.timers.stop();
    if (!wasRunning) return;
    await this.claims?.stop();
    const idle = await this.slots.waitForIdle(this.options.shutdownTimeoutMs);
    if (!idle) await this.held.releaseUnfinished(this.repository, this.events);
    await this.outcomes.drain(Math.max(2_000, this.options.leaseMs / 4));
    this.heartbeat.stop();
    this.rescue.stop();
    this.janitor.stop();
    // Handlers released above that ignore their signal are no longer timed.
    this.executor.stop();
    await this.listener?.close();
    // Waits for statements still in flight (a heartbeat, a sweep), then disconnects.
    await this.pool.end();
    this.state = 'stopped';
    this.logger.log('Worker stopped');
    this.events.emit('worker.stopped', {});
  }

  /** A NOTIFY names the queue of the jobs it announces: only that queue is claimed from. */
  private onNotification(queue: string): void {
    if (this.queues.includes(queue)) this.wake([queue]);
  }

  /** Something may be due on `queues` (default: all): the scheduler claims as slots allow. */
  private wake(queues?: readonly string[]): void {
    if (this.state !== 'running') return;
    this.claims?.wake(queues);
  }

  private onClaimSucceeded(): void {
    if (this.claimFailures > 0)
      this.logger.log('Database reachable again: claiming resumed');
    this.claimFailures = 0;
  }

  private onClaimFailed(error: unknown): void {
    this.claimFailures += 1;
    // Log the first failure and then every tenth, so an outage does not flood the log.
    if (this.claimFailures === 1 || this.claimFailures % 10 === 0) {
      this.logger.error(
        `Could not claim jobs (${this.claimFailures} failure(s) in a row); retrying at the next poll: ${describeError(error)}`,
      );
    }
    this.events.emit('worker.claim-failed', {
      error,
      failuresInARow: this.claimFailures,
    });
  }

  private startJob(row: ClaimedJobRow): void {
    const job = new HeldAttempt(row);
    this.held.add(job);
    this.slots.take(row.queue);
    if (this.events.has('job.claimed'))
      this.events.emit('job.claimed', { job: job.info });
    this.executor.run(job, this.registry.get(row.jobType));
  }

  private onOutcomesWritten(written: readonly WrittenOutcome[]): void {
    for (const outcome of written) {
      this.held.delete(outcome.job);
      // Armed once written: the row's run_at was computed by that statement, so it is due
      // no later than retryInMs from now.
      if (outcome.kind === 'failed' && outcome.failure.retryInMs !== null) {
        this.timers.wakeAfter(outcome.failure.retryInMs + 5);
      }
    }
  }
}
