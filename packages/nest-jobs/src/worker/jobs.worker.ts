import { AsyncResource } from 'node:async_hooks';
import {
  Inject,
  Injectable,
  Logger,
  type BeforeApplicationShutdown,
  type OnApplicationBootstrap,
} from '@nestjs/common';
import type { DataSource } from 'typeorm';
import {
  dedicatedConnectionConfig,
  withClientTimeouts,
} from '../connections/connection-config.js';
import { JobsClock } from '../clock/jobs-clock.js';
import { WorkerModeError } from '../errors/worker-mode.error.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobHandlerRegistry } from '../handlers/job-handler.registry.js';
import { JOBS_DATA_SOURCE, JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import { EnqueueNotifier } from '../notifications/enqueue-notifier.js';
import { ListenCheck } from '../notifications/listen-check.js';
import { NotificationListener } from '../notifications/notification-listener.js';
import { parseCancelMessage } from '../notifications/cancel-message.js';
import { parseQueueStateMessage } from '../notifications/queue-state-message.js';
import { PausedQueues } from '../queues/paused-queues.js';
import { RECONNECT_BACKOFF } from '../retry/backoff.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import { QueueRepository } from '../sql/queue.repository.js';
import { type ClaimedJobRow } from '../sql/job-rows.js';
import { ClaimAheadAllowance } from './claim-ahead.js';
import { ClaimScheduler } from './claim-scheduler.js';
import { queueClaim, type QueueClaim } from '../queues/queue-claim.js';
import { QueueDiscovery } from '../queues/queue-discovery.js';
import { QueuePatterns } from '../queues/queue-patterns.js';
import { HeldAttempt } from './held-attempt.js';
import { stopCancelledAttemptByRef } from './attempt-cancel.js';
import type { DrainOptions, DrainResult } from './drain-options.interface.js';
import { ManualDrain } from './manual-drain.js';
import { createWorkerParts, type WorkerParts } from './worker-parts.js';
import type { WorkerStatusSnapshot } from './worker-status.js';
import type { ResolvedWorkerOptions } from './worker.options.js';
import type { ResolvedDatabaseOptions } from '../connections/database.options.js';
import type { PeriodicTask } from '../maintenance/periodic-task.js';

/**
 * The least time shutdown gives pending outcome writes (a quarter lease if longer): past it the
 * leases rescue what is left.
 */
const MIN_OUTCOME_DRAIN_MS = 2_000;

/** Where the worker is in its life. */
export type WorkerState =
  | 'idle'
  | 'disabled'
  | 'running'
  /** `worker.mode: 'manual'`: runs jobs only when drained. */
  | 'manual'
  | 'stopping'
  | 'stopped';

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
  private readonly database: ResolvedDatabaseOptions;
  private readonly parts: WorkerParts;
  private readonly pausedQueues: PausedQueues;
  private listener: NotificationListener | null = null;
  private listenCheck: ListenCheck | null = null;
  /** Set when a failed LISTEN check closed the listener: polls only from then on. */
  private listenerClosed: Promise<void> | null = null;
  /** Created at start, when the queues are known. */
  private claims: ClaimScheduler | null = null;
  private stopLocalWakeUps: (() => void) | null = null;
  private stopClockWakeUps: (() => void) | null = null;
  /** The drain in progress (manual mode): shutdown waits for it. */
  private draining: Promise<DrainResult> | null = null;
  private queues: string[] = [];
  /** Other features' periodic tasks on the worker's connections (runAlongside). */
  private readonly alongside: PeriodicTask<unknown>[] = [];
  private state: WorkerState = 'idle';
  private stopped: Promise<void> | null = null;
  private readonly claim: QueueClaim;
  /** The patterns of worker.queues (`emails.*`): queues they match are worked once seen. */
  private patterns = new QueuePatterns([]);
  private discovery: QueueDiscovery | null = null;

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS) moduleOptions: ResolvedJobsOptions,
    @Inject(JOBS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: JobHandlerRegistry,
    appRepository: JobsRepository,
    private readonly notifier: EnqueueNotifier,
    private readonly events: JobsEvents,
    private readonly clock: JobsClock,
  ) {
    this.options = moduleOptions.worker;
    this.database = moduleOptions.database;
    this.parts = createWorkerParts(
      moduleOptions,
      dataSource,
      appRepository,
      events,
      {
        wake: () => this.wake(),
        slotsFreed: () => this.slotsFreed(),
        claimable: (queues) => this.wake(queues),
      },
    );
    this.claim = queueClaim(
      this.parts.repository,
      moduleOptions.queuePolicies,
      this.options.leaseMs,
      (delayMs, queue) => {
        this.parts.timers.wakeAfter(delayMs);
        this.claims?.rateSpent(queue);
      },
    );
    this.pausedQueues = new PausedQueues(
      new QueueRepository(this.parts.repository),
      this.options.pollIntervalMs,
      (queues) => this.wake(queues),
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
      claimedAhead: this.parts.claimedAhead.size,
      claimSize: this.claims?.claimSize ?? this.options.batchSize,
      listening: this.listener?.listening ?? false,
      claimFailuresInARow: this.parts.claimFailures.inARow,
      pausedQueues: this.pausedQueues
        .list()
        .filter((queue) => this.queues.includes(queue)),
    };
  }

  private start(): void {
    if (this.state !== 'idle') return;
    const configured = this.options.queues;
    this.patterns = new QueuePatterns(
      this.options.enabled
        ? (configured?.filter((entry) => QueuePatterns.isPattern(entry)) ?? [])
        : [],
    );
    this.queues = this.options.enabled
      ? configured
        ? configured.filter((entry) => !QueuePatterns.isPattern(entry))
        : this.registry.queues()
      : [];
    if (this.queues.length === 0 && this.patterns.empty) {
      this.state = 'disabled';
      if (this.options.enabled)
        this.logger.log(
          'No @Job handlers and no worker.queues: this instance only enqueues',
        );
      return;
    }
    if (this.options.mode === 'manual') {
      this.state = 'manual';
      this.logger.log(
        `Worker in manual mode: queues ${this.queues.join(', ')} run only when drained`,
      );
      return;
    }
    this.state = 'running';
    const { slots, claimFailures, claimedAhead } = this.parts;
    if (this.database.wakeUps === 'listen') this.listener = this.listen();
    // Unset worker.claimAhead: claim ahead what the slots finish in about 50 ms.
    const aheadAllowance =
      this.options.claimAhead === null
        ? new ClaimAheadAllowance(
            () => slots.usage(),
            this.options.concurrency,
            this.options.batchSize,
          )
        : null;
    // The scheduler owns the list from here on: queues a pattern matches join it (and so
    // this.queues, the same array) through claims.addQueues.
    const claims = new ClaimScheduler(
      this.queues,
      {
        batchSize: this.options.batchSize,
        // One connection stays free for outcome writes and heartbeats.
        maxInFlight: Math.max(1, this.options.connections - 1),
        claimAhead: this.options.claimAhead ?? this.options.batchSize,
      },
      {
        // Jobs claimed ahead hold the slots they will take.
        freeSlots: () => slots.free() - claimedAhead.size,
        freeSlotsIn: (queue) =>
          slots.freeIn(queue) - claimedAhead.sizeIn(queue),
        isPaused: (queue) => this.pausedQueues.has(queue),
        claim: this.claim,
        start: (row, claimSentAt) => this.startJob(row, claimSentAt),
        onClaimSucceeded: () => claimFailures.succeeded(),
        onClaimFailed: (error) => claimFailures.failed(error),
        claimAhead: aheadAllowance ? () => aheadAllowance.jobs : undefined,
      },
    );
    this.claims = claims;
    this.listener?.start();
    // Enqueues of this process reach the worker at once, and when it takes them all no
    // NOTIFY is sent (see EnqueueNotifier). The claim runs in the worker's own async
    // context, not the enqueuing request's: handlers must not inherit its
    // AsyncLocalStorage stores (trace id, CLS).
    const workerScope = new AsyncResource('nest-jobs:local-wake-up');
    this.stopLocalWakeUps = this.notifier.onEnqueued((queue, count) =>
      this.queues.includes(queue) || this.adopt(queue)
        ? workerScope.runInAsyncScope(() => claims.claimNew(queue, count))
        : null,
    );
    if (!this.patterns.empty) {
      this.discovery = new QueueDiscovery(
        new QueueRepository(this.parts.repository),
        this.patterns,
        this.options.pollIntervalMs,
        (queue) => this.queues.includes(queue),
        (found) => {
          for (const queue of found) this.adopt(queue);
          this.wake(found);
        },
      );
      this.discovery.start(0);
    }
    // Read at once: until it answers, no queue is claimed from (see PausedQueues).
    this.pausedQueues.start(0);
    this.parts.heartbeat.start();
    // Sweep once at start: the previous run of this very process may have left orphans.
    this.parts.rescue.start(0);
    this.parts.janitor.start();
    this.parts.timers.startPolling();
    // A test that moves the clock made retries, delays and leases due: claim and rescue now.
    this.stopClockWakeUps = this.clock.onChange(() => {
      this.wake();
      void this.parts.rescue.runNow();
    });
    this.logger.log(
      `Worker started: queues ${[...this.queues, ...this.patterns.patterns].join(', ')}; concurrency ${this.options.concurrency}; ` +
        `lease ${this.options.leaseMs} ms; poll ${this.options.pollIntervalMs} ms` +
        (this.listener ? '' : ' (poll only: database.wakeUps is poll)'),
    );
    this.events.emit('worker.started', {
      queues: this.queues,
      concurrency: this.options.concurrency,
    });
    this.wake();
  }

  /**
   * Runs the task `create` builds on the worker's connections while the worker runs, its
   * first run in `firstRunInMs`: the worker's pool has the worker's bounds (a statement or
   * a connection attempt that does not answer is given up and closed), and the
   * application's pool stays the application's. Stopped, and waited for, before the
   * worker closes its connections. False, building nothing, when the worker does not run
   * on its own in this instance (disabled, no queue, manual mode, stopping).
   */
  runAlongside(
    create: (repository: JobsRepository) => PeriodicTask<unknown>,
    firstRunInMs: number,
  ): boolean {
    if (this.state !== 'running') return false;
    const task = create(this.parts.repository);
    this.alongside.push(task);
    task.start(firstRunInMs);
    return true;
  }

  /**
   * Manual mode only: claims the due jobs of the worked queues (or `options.queues`) and
   * runs them in this process, one at a time, until none is due (see ManualDrain).
   * @throws WorkerModeError when the worker runs on its own, or not at all, or a drain is
   * already in progress (a handler that drained would wait for itself).
   */
  async runDue(options?: DrainOptions): Promise<DrainResult> {
    if (this.state !== 'manual')
      throw new WorkerModeError('drain()', this.state);
    if (this.draining) throw new WorkerModeError('drain()', 'draining');
    const drain = new ManualDrain(
      this.parts,
      this.events,
      this.options.leaseMs,
      (row) => this.startJob(row, performance.now()),
    );
    const running = drain.run(this.queues, options);
    this.draining = running;
    try {
      return await running;
    } finally {
      this.draining = null;
    }
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
    if (this.state === 'manual') return this.stopManual();
    const wasRunning = this.state === 'running';
    this.state = wasRunning ? 'stopping' : 'stopped';
    this.stopLocalWakeUps?.();
    this.stopClockWakeUps?.();
    const parts = this.parts;
    parts.timers.stop();
    this.pausedQueues.stop();
    for (const task of this.alongside) task.stop();
    this.discovery?.stop();
    if (!wasRunning) return;
    await this.claims?.stop();
    // Jobs claimed ahead never started: other instances may run them at once.
    await parts.held.release(
      parts.claimedAhead.takeAll(),
      parts.repository,
      this.events,
    );
    const idle = await parts.slots.waitForIdle(this.options.shutdownTimeoutMs);
    if (!idle)
      await parts.held.releaseUnfinished(parts.repository, this.events);
    await parts.outcomes.drain(
      Math.max(MIN_OUTCOME_DRAIN_MS, this.options.leaseMs / 4),
    );
    // After the drain: it wrote the last progress of attempts that finished.
    parts.progress.stop();
    parts.heartbeat.stop();
    parts.rescue.stop();
    parts.janitor.stop();
    // Handlers released above that ignore their signal are no longer timed.
    parts.executor.stop();
    this.listenCheck?.stop();
    await (this.listenerClosed ?? this.listener?.close());
    await Promise.all(this.alongside.map((task) => task.idle()));
    // Waits for statements still in flight (a heartbeat, a sweep), then disconnects.
    await parts.pool.end();
    this.state = 'stopped';
    this.logger.log('Worker stopped');
    this.events.emit('worker.stopped', {});
  }

  /** Manual mode: lets a drain in progress end, then closes the worker's connections. */
  private async stopManual(): Promise<void> {
    this.state = 'stopping';
    await this.draining?.catch(() => undefined);
    this.parts.timers.stop();
    this.pausedQueues.stop();
    this.parts.progress.stop();
    this.parts.rescue.stop();
    this.parts.executor.stop();
    await this.parts.pool.end();
    this.state = 'stopped';
    this.events.emit('worker.stopped', {});
  }

  /**
   * The LISTEN connection (past a pooler with `database.directUrl`), checked once with a
   * notification sent to itself: when that does not come back, the worker polls only.
   */
  private listen(): NotificationListener {
    const { repository } = this.parts;
    const check = new ListenCheck(
      (payload) => repository.notify([payload]),
      this.database.listenCheckMs,
      () => this.pollOnly(),
    );
    this.listenCheck = check;
    return new NotificationListener(
      withClientTimeouts(
        dedicatedConnectionConfig(
          this.dataSource,
          'listener',
          this.database.directUrl,
        ),
        this.options.queryTimeoutMs,
      ),
      repository.jobsTable.channel,
      {
        onNotification: (queue) => {
          if (!check.heard(queue)) this.onNotification(queue);
        },
        onConnected: () => {
          this.wake();
          check.connected();
        },
        onDisconnected: () => check.disconnected(),
      },
      RECONNECT_BACKOFF,
      {
        probeIntervalMs: this.options.heartbeatIntervalMs,
        closeTimeoutMs: this.options.queryTimeoutMs,
      },
    );
  }

  private pollOnly(): void {
    if (this.state !== 'running' || !this.listener) return;
    this.logger.warn(
      `LISTEN delivered no notification within ${this.database.listenCheckMs} ms of one this worker sent itself: ` +
        'the LISTEN connection likely goes through a transaction pooler (PgBouncer in transaction mode, ' +
        "Supabase's port 6543, Neon's pooled endpoint), which cannot deliver notifications. The worker polls " +
        `only from now on (every ${this.options.pollIntervalMs} ms; this process's own enqueues and retries still ` +
        (this.database.directUrl
          ? 'wake it at once). database.directUrl is set: check that it reaches the server itself, and the same database'
          : "wake it at once). Set database.directUrl to a connection past the pooler, or database.wakeUps: 'poll'"),
    );
    this.listenerClosed = this.listener.close();
    this.listener = null;
  }

  /**
   * A NOTIFY names the queue of the jobs it announces (only that queue is claimed from), or
   * is a cancel message (the attempt it names is stopped if this process holds it), or says
   * that a queue was paused or resumed.
   */
  private onNotification(payload: string): void {
    const cancelled = parseCancelMessage(payload);
    if (cancelled) {
      stopCancelledAttemptByRef(this.parts.held, cancelled, this.events);
      return;
    }
    const change = parseQueueStateMessage(payload);
    if (change) this.pausedQueues.apply(change.queue, change.paused);
    else if (this.queues.includes(payload) || this.adopt(payload))
      this.wake([payload]);
  }

  /**
   * Works `queue` from now on if a pattern of worker.queues matches it and it is not worked
   * yet; returns whether it was adopted.
   */
  private adopt(queue: string): boolean {
    if (
      this.state !== 'running' ||
      !this.claims ||
      this.queues.includes(queue) ||
      !this.patterns.matches(queue)
    )
      return false;
    this.claims.addQueues([queue]);
    this.logger.log(`Worker works queue ${queue} (worker.queues pattern)`);
    this.events.emit('worker.queue-added', { queue });
    return true;
  }

  /** Something may be due on `queues` (default: all): the scheduler claims as slots allow. */
  private wake(queues?: readonly string[]): void {
    if (this.state !== 'running') return;
    this.claims?.wake(queues);
  }

  /**
   * A claimed job runs at once when a slot of its queue is free, else waits among the jobs
   * claimed ahead (worker.claimAhead) for one.
   */
  private startJob(row: ClaimedJobRow, claimSentAt: number): void {
    const job = new HeldAttempt(row, claimSentAt);
    const { held, slots, claimedAhead } = this.parts;
    held.add(job);
    if (this.events.has('job.claimed'))
      this.events.emit('job.claimed', { job: job.info });
    if (slots.free() > 0 && slots.freeIn(row.queue) > 0) this.run(job);
    else claimedAhead.add(job);
  }

  private run(job: HeldAttempt): void {
    this.parts.slots.take(job.row.queue);
    this.parts.executor.run(job, this.registry.get(job.row.jobType));
  }

  /** A handler finished: jobs claimed ahead take the free slots first, then claims may. */
  private slotsFreed(): void {
    const { held, slots, claimedAhead } = this.parts;
    // Stopping: the drain returns them to pending instead.
    while (this.state === 'running' && slots.free() > 0) {
      const job = claimedAhead.takeStartable(
        (queue) => slots.freeIn(queue) > 0,
      );
      if (!job) break;
      // Its lease lapsed, or an operator cancelled it, while it waited.
      if (job.ownsAttempt) this.run(job);
      else held.delete(job);
    }
    this.claims?.slotsFreed();
  }
}
