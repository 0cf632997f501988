import { AsyncResource } from 'node:async_hooks';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import { dedicatedConnectionConfig } from '../connections/connection-config.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { JOBS_DATA_SOURCE, JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { EnqueueNotifier } from '../notifications/enqueue-notifier.js';
import { NotificationListener } from '../notifications/notification-listener.js';
import { RECONNECT_BACKOFF } from '../retry/backoff.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import { type ClaimedJobRow } from '../sql/job-rows.js';
import { ClaimScheduler } from './claim-scheduler.js';
import { HeldAttempt } from './held-attempt.js';
import { createWorkerParts, type WorkerParts } from './worker-parts.js';
import type { WorkerStatusSnapshot } from './worker-status.js';
import type { ResolvedWorkerOptions } from './worker.options.js';

/**
 * The least time shutdown gives pending outcome writes (a quarter lease if longer): past it the
 * leases rescue what is left.
 */
const MIN_OUTCOME_DRAIN_MS = 2_000;

/** Where the worker is in its life. */
export type WorkerState =
  'idle' | 'disabled' | 'running' | 'stopping' | 'stopped';

/**
 * Claims and runs jobs in this process: the lifecycle only, what starts in which order and
 * what drains in which order; each step is a part of its own (worker-parts.ts). Starts in
 * onApplicationBootstrap (after every handler was collected in onModuleInit), drains in
 * beforeApplicationShutdown (while the DataSource is still open). It knows no SQL.
 */
@Injectable()
export class JobsWorker
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(JobsWorker.name);
  private readonly options: ResolvedWorkerOptions;
  private readonly parts: WorkerParts;
  private listener: NotificationListener | null = null;
  /** Created at start, when the queues are known. */
  private claims: ClaimScheduler | null = null;
  private stopLocalWakeUps: (() => void) | null = null;
  private queues: string[] = [];
  private state: WorkerState = 'idle';
  private stopped: Promise<void> | null = null;

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS) moduleOptions: ResolvedJobsOptions,
    @Inject(JOBS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: JobHandlerRegistry,
    appRepository: JobsRepository,
    private readonly notifier: EnqueueNotifier,
    private readonly events: JobsEvents,
  ) {
    this.options = moduleOptions.worker;
    this.parts = createWorkerParts(
      moduleOptions,
      dataSource,
      appRepository,
      events,
      {
        wake: () => this.wake(),
        slotsFreed: () => this.claims?.slotsFreed(),
      },
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
    return this.parts.slots.inUse;
  }

  /** The queues this worker claims from (empty when disabled or without handlers). */
  get workedQueues(): readonly string[] {
    return this.queues;
  }

  /** A point-in-time view (what `JobsWorkerStatus` serves). */
  snapshot(): WorkerStatusSnapshot {
    return {
      state: this.state,
      queues: [...this.queues],
      running: this.parts.slots.inUse,
      concurrency: this.options.concurrency,
      listening: this.listener?.listening ?? false,
      claimFailuresInARow: this.parts.claimFailures.inARow,
    };
  }

  private start(): void {
    if (this.state !== 'idle') return;
    this.queues = this.options.enabled
      ? (this.options.queues ?? this.registry.queues())
      : [];
    if (this.queues.length === 0) {
      this.state = 'disabled';
      if (this.options.enabled)
        this.logger.log(
          'No @Job handlers and no worker.queues: this instance only enqueues',
        );
      return;
    }
    this.state = 'running';
    const { repository, slots, claimFailures } = this.parts;
    this.listener = new NotificationListener(
      dedicatedConnectionConfig(this.dataSource, 'listener'),
      repository.jobsTable.channel,
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
        freeSlots: () => slots.free(),
        freeSlotsIn: (queue) => slots.freeIn(queue),
        claim: (queue, limit) =>
          repository.claim(queue, limit, this.options.leaseMs),
        start: (row) => this.startJob(row),
        onClaimSucceeded: () => claimFailures.succeeded(),
        onClaimFailed: (error) => claimFailures.failed(error),
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
    this.parts.heartbeat.start();
    // Sweep once at start: the previous run of this very process may have left orphans.
    this.parts.rescue.start(0);
    this.parts.janitor.start();
    this.parts.timers.startPolling();
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
    const parts = this.parts;
    parts.timers.stop();
    if (!wasRunning) return;
    await this.claims?.stop();
    const idle = await parts.slots.waitForIdle(this.options.shutdownTimeoutMs);
    if (!idle)
      await parts.held.releaseUnfinished(parts.repository, this.events);
    await parts.outcomes.drain(
      Math.max(MIN_OUTCOME_DRAIN_MS, this.options.leaseMs / 4),
    );
    parts.heartbeat.stop();
    parts.rescue.stop();
    parts.janitor.stop();
    // Handlers released above that ignore their signal are no longer timed.
    parts.executor.stop();
    await this.listener?.close();
    // Waits for statements still in flight (a heartbeat, a sweep), then disconnects.
    await parts.pool.end();
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

  private startJob(row: ClaimedJobRow): void {
    const job = new HeldAttempt(row);
    this.parts.held.add(job);
    this.parts.slots.take(row.queue);
    if (this.events.has('job.claimed'))
      this.events.emit('job.claimed', { job: job.info });
    this.parts.executor.run(job, this.registry.get(row.jobType));
  }
}
