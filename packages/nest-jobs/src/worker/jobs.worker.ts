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
import { JOBS_DATA_SOURCE, JOBS_RESOLVED_OPTIONS } from '../jobs.constants.js';
import { WorkerShutdownError } from '../errors/job-failure.errors.js';
import { effectiveRetryPolicy } from '../handlers/job-definition.js';
import {
  JobHandlerRegistry,
  type RegisteredJob,
} from '../handlers/job-handler.registry.js';
import type { ResolvedJobsOptions } from '../jobs.options.js';
import type { RetryPolicy } from '../retry/retry-policy.interface.js';
import {
  JobsRepository,
  type ClaimedJobRow,
  type PgPool,
} from '../sql/jobs.repository.js';
import { retryDelayMs } from '../retry/backoff.js';
import { formatJobError } from '../utils/format-error.js';
import { ClaimScheduler } from './claim-scheduler.js';
import { JobExecutor, type AttemptOutcome } from './job-executor.js';
import { FinishedJobsJanitor } from '../maintenance/finished-jobs-janitor.js';
import { LeaseKeeper } from '../maintenance/lease-keeper.js';
import { NotificationListener } from '../notifications/notification-listener.js';
import { dedicatedConnectionConfig } from '../connections/connection-config.js';
import { createWorkerPool } from '../connections/worker-pool.js';
import { OutcomeWriter, type WrittenOutcome } from './outcome-writer.js';
import { HeldAttempt } from './held-attempt.js';
import { sleep } from '../utils/sleep.js';
import { describeError } from '../utils/describe-error.js';
import { EnqueueNotifier } from '../notifications/enqueue-notifier.js';

/**
 * Claims and runs jobs in this process. Starts in onApplicationBootstrap (after every
 * handler was collected in onModuleInit), drains in beforeApplicationShutdown (while the
 * DataSource is still open). The loop knows no SQL: the repository does the talking.
 */
@Injectable()
export class JobsWorker
  implements OnApplicationBootstrap, BeforeApplicationShutdown
{
  private readonly logger = new Logger(JobsWorker.name);
  private readonly options: ResolvedJobsOptions['worker'];
  private readonly executor: JobExecutor;
  private readonly outcomes: OutcomeWriter;
  private readonly leases: LeaseKeeper;
  private readonly janitor: FinishedJobsJanitor;
  /** The worker's own connections, and the repository that sends its statements through them. */
  private readonly pool: pg.Pool;
  private readonly repository: JobsRepository;
  /** Retry delays of the outcome writes and of the LISTEN reconnection. */
  private readonly reconnectBackoff: { baseMs: number; capMs: number };
  private listener: NotificationListener | null = null;
  private stopLocalWakeUps: (() => void) | null = null;

  /**
   * Attempts held by this process, from claim until their outcome is written. Each
   * HeldAttempt is one attempt: after a lost lease this process may claim the job again while
   * the old attempt's handler still runs, and each attempt must keep (or lose) its own lease.
   */
  private readonly held = new Set<HeldAttempt>();
  /** Handlers running now, per queue and in all; this is what concurrency limits. */
  private readonly runningPerQueue = new Map<string, number>();
  private running = 0;
  private queues: string[] = [];
  /** Created at start, when the queues are known. */
  private claims: ClaimScheduler | null = null;

  private started = false;
  private stopping = false;
  private stopped: Promise<void> | null = null;
  private pollTimer: NodeJS.Timeout | undefined;
  /** A wake-up armed for the earliest retry this worker scheduled, and when it fires. */
  private retryTimer: NodeJS.Timeout | undefined;
  private retryTimerAt = Infinity;
  private claimFailures = 0;
  private readonly idleWaiters = new Set<() => void>();

  constructor(
    @Inject(JOBS_RESOLVED_OPTIONS)
    private readonly moduleOptions: ResolvedJobsOptions,
    @Inject(JOBS_DATA_SOURCE) private readonly dataSource: DataSource,
    private readonly registry: JobHandlerRegistry,
    appRepository: JobsRepository,
    private readonly notifier: EnqueueNotifier,
  ) {
    this.options = moduleOptions.worker;
    // Connects on first use: an instance that never starts its worker opens nothing.
    this.pool = createWorkerPool(
      dedicatedConnectionConfig(dataSource, 'worker'),
      this.options.connections,
    );
    const repository = appRepository.through(this.pool as unknown as PgPool);
    this.repository = repository;
    this.reconnectBackoff = {
      baseMs: this.options.reconnectBaseMs,
      capMs: this.options.reconnectCapMs,
    };
    this.executor = new JobExecutor(
      this.options.jobTimeoutMs,
      (job, handler, outcome) => this.onAttemptSettled(job, handler, outcome),
    );
    this.outcomes = new OutcomeWriter(
      repository,
      (written) => this.onOutcomesWritten(written),
      this.reconnectBackoff,
      moduleOptions.retention.completedMs === 0,
    );
    this.leases = new LeaseKeeper(
      repository,
      () => [...this.held.values()],
      () => this.wake(),
      this.options,
    );
    this.janitor = new FinishedJobsJanitor(
      repository,
      moduleOptions.retention,
      this.options.cleanupIntervalMs,
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
    return this.running;
  }

  /** The queues this worker claims from (empty when disabled or without handlers). */
  get workedQueues(): readonly string[] {
    return this.queues;
  }

  private start(): void {
    if (this.started || !this.options.enabled) return;
    this.started = true;
    this.queues = this.options.queues ?? this.registry.queues();
    if (this.queues.length === 0) {
      this.logger.log(
        'No @Job handlers and no worker.queues: this instance only enqueues',
      );
      return;
    }
    this.listener = new NotificationListener(
      dedicatedConnectionConfig(this.dataSource, 'listener'),
      this.repository.jobsTable.channel,
      {
        onNotification: (queue) => this.onNotification(queue),
        onConnected: () => this.wake(),
      },
      this.reconnectBackoff,
    );
    this.claims = new ClaimScheduler(
      this.queues,
      {
        batchSize: this.options.batchSize,
        // One connection stays free for outcome writes and heartbeats.
        maxInFlight: Math.max(1, this.options.connections - 1),
      },
      {
        freeSlots: () => this.options.concurrency - this.running,
        freeSlotsIn: (queue) => {
          const cap = this.options.queueConcurrency[queue];
          return cap === undefined
            ? Infinity
            : cap - (this.runningPerQueue.get(queue) ?? 0);
        },
        claim: (queue, limit) =>
          this.repository.claim(queue, limit, this.options.leaseMs),
        start: (row) => this.startJob(row),
        onClaimSucceeded: () => {
          if (this.claimFailures > 0)
            this.logger.log('Database reachable again: claiming resumed');
          this.claimFailures = 0;
        },
        onClaimFailed: (error) => this.onClaimError(error),
      },
    );
    this.listener.start();
    // Enqueues of this process reach the worker at once, and when it takes them all no
    // NOTIFY is sent (see EnqueueNotifier). The claim runs in the worker's own async
    // context, not the enqueuing request's: handlers must not inherit its
    // AsyncLocalStorage stores (trace id, CLS).
    const workerScope = new AsyncResource('nest-jobs:local-wake-up');
    const claims = this.claims;
    this.stopLocalWakeUps = this.notifier.onEnqueued((queue, count) =>
      this.queues.includes(queue)
        ? workerScope.runInAsyncScope(() => claims.claimNew(queue, count))
        : null,
    );
    this.leases.start();
    this.janitor.start();
    this.schedulePoll();
    this.logger.log(
      `Worker started: queues ${this.queues.join(', ')}; concurrency ${this.options.concurrency}; ` +
        `lease ${this.options.leaseMs} ms; poll ${this.options.pollIntervalMs} ms`,
    );
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
    this.stopping = true;
    this.stopLocalWakeUps?.();
    clearTimeout(this.pollTimer);
    clearTimeout(this.retryTimer);
    if (!this.started || this.queues.length === 0) return;
    await this.claims?.stop();
    const finished = await this.waitForIdle(this.options.shutdownTimeoutMs);
    if (!finished) await this.releaseUnfinished();
    await this.outcomes.drain(Math.max(2_000, this.options.leaseMs / 4));
    this.leases.stop();
    this.janitor.stop();
    // Handlers released above that ignore their signal are no longer timed.
    this.executor.stop();
    await this.listener?.close();
    // Waits for statements still in flight (a heartbeat, a sweep), then disconnects.
    await this.pool.end();
    this.logger.log('Worker stopped');
  }

  private async releaseUnfinished(): Promise<void> {
    const unfinished = [...this.held.values()].filter(
      (job) => !job.handlerDone && job.ownsAttempt,
    );
    if (unfinished.length === 0) return;
    const reason = new WorkerShutdownError();
    for (const job of unfinished) {
      job.released = true;
      job.abort(reason);
      this.held.delete(job);
    }
    const refs = unfinished.map((job) => ({
      id: job.id,
      attempt: job.attempt,
    }));
    for (let attempt = 1; attempt <= 3; attempt += 1) {
      try {
        await this.repository.release(refs, reason.message);
        this.logger.warn(
          `Shutdown timeout: returned ${refs.length} unfinished job(s) to pending`,
        );
        return;
      } catch (error) {
        this.logger.warn(
          `Could not return unfinished jobs to pending (try ${attempt}/3): ${describeError(error)}`,
        );
        await sleep(200 * attempt);
      }
    }
    this.logger.error(
      `${refs.length} unfinished job(s) stay running until their lease expires, then run again`,
    );
  }

  private waitForIdle(timeoutMs: number): Promise<boolean> {
    if (this.running === 0) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (idle: boolean) => {
        clearTimeout(timer);
        this.idleWaiters.delete(onIdle);
        resolve(idle);
      };
      const onIdle = () => done(true);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.idleWaiters.add(onIdle);
    });
  }

  /** A NOTIFY names the queue of the jobs it announces: only that queue is claimed from. */
  private onNotification(queue: string): void {
    if (this.queues.includes(queue)) this.wake([queue]);
  }

  private schedulePoll(): void {
    if (this.stopping) return;
    this.pollTimer = setTimeout(() => {
      this.wake();
      this.schedulePoll();
    }, this.options.pollIntervalMs);
  }

  /** Something may be due on `queues` (default: all): the scheduler claims as slots allow. */
  private wake(queues?: readonly string[]): void {
    if (this.stopping || !this.started) return;
    this.claims?.wake(queues);
  }

  /**
   * Wakes when a retry this worker scheduled becomes due, if that is before the next poll:
   * no NOTIFY announces a retry, and a poll interval would make short backoffs much longer.
   */
  private wakeAfter(delayMs: number): void {
    if (delayMs >= this.options.pollIntervalMs) return;
    const at = Date.now() + delayMs;
    if (at >= this.retryTimerAt) return;
    clearTimeout(this.retryTimer);
    this.retryTimerAt = at;
    this.retryTimer = setTimeout(() => {
      this.retryTimerAt = Infinity;
      this.wake();
    }, delayMs + 1);
  }

  private onClaimError(error: unknown): void {
    this.claimFailures += 1;
    // Log the first failure and then every tenth, so an outage does not flood the log.
    if (this.claimFailures === 1 || this.claimFailures % 10 === 0) {
      this.logger.error(
        `Could not claim jobs (${this.claimFailures} failure(s) in a row); retrying at the next poll: ${describeError(error)}`,
      );
    }
  }

  private startJob(row: ClaimedJobRow): void {
    const job = new HeldAttempt(row);
    this.held.add(job);
    this.running += 1;
    this.runningPerQueue.set(
      row.queue,
      (this.runningPerQueue.get(row.queue) ?? 0) + 1,
    );
    // Per-job lines: built only when debug is on, this runs for every job.
    if (Logger.isLevelEnabled('debug')) {
      this.logger.debug(
        `Claimed job ${row.id} (${row.jobType}) attempt ${row.attempt}${traceSuffix(row)}`,
      );
    }
    this.executor.run(job, this.registry.get(row.jobType));
  }

  /** The executor's callback: an attempt's handler returned, threw or timed out. */
  private onAttemptSettled(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: AttemptOutcome,
  ): void {
    try {
      this.finishJob(job, handler, outcome);
    } catch (error) {
      // Unreachable by design; kept so that a bug here cannot stop the other jobs of a
      // claim from starting, nor become an unhandled rejection that ends the application.
      this.logger.error(
        `Internal error finishing job ${job.id}: ${describeError(error)}`,
      );
    }
  }

  private finishJob(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: AttemptOutcome,
  ): void {
    job.handlerDone = true;
    this.running -= 1;
    this.runningPerQueue.set(
      job.row.queue,
      (this.runningPerQueue.get(job.row.queue) ?? 1) - 1,
    );
    if (job.ownsAttempt) {
      this.outcomes.add(this.toWrittenOutcome(job, handler, outcome));
    } else {
      this.held.delete(job);
    }
    if (this.running === 0)
      for (const waiter of [...this.idleWaiters]) waiter();
    this.claims?.slotsFreed();
  }

  private toWrittenOutcome(
    job: HeldAttempt,
    handler: RegisteredJob | undefined,
    outcome: AttemptOutcome,
  ): WrittenOutcome {
    const { row } = job;
    if (outcome.kind === 'completed') {
      // Per-job lines: built only when debug is on, this runs for every job.
      if (Logger.isLevelEnabled('debug')) {
        this.logger.debug(
          `Completed job ${row.id} (${row.jobType}) attempt ${row.attempt}${traceSuffix(row)}`,
        );
      }
      return { kind: 'completed', job };
    }
    const error = formatJobError(outcome.error);
    const policy = effectiveRetryPolicy(
      this.moduleOptions.retry,
      handler?.definition,
      parsePolicy(row.retryPolicy),
    );
    const retryInMs =
      outcome.fatal || row.attempt > row.maxRetries
        ? null
        : retryDelayMs(policy, row.attempt);
    const firstLine = error.split('\n', 1)[0];
    if (retryInMs === null) {
      this.logger.error(
        `Job ${row.id} (${row.jobType}) failed for good at attempt ${row.attempt}${traceSuffix(row)}: ${firstLine}`,
      );
    } else {
      this.logger.warn(
        `Job ${row.id} (${row.jobType}) attempt ${row.attempt} failed, retry in ${retryInMs} ms${traceSuffix(row)}: ${firstLine}`,
      );
    }
    return {
      kind: 'failed',
      job,
      failure: { id: row.id, attempt: row.attempt, error, retryInMs },
    };
  }

  private onOutcomesWritten(written: readonly WrittenOutcome[]): void {
    for (const outcome of written) {
      this.held.delete(outcome.job);
      // Armed once written: the row's run_at was computed by that statement, so it is due
      // no later than retryInMs from now.
      if (outcome.kind === 'failed' && outcome.failure.retryInMs !== null) {
        this.wakeAfter(outcome.failure.retryInMs + 5);
      }
    }
  }
}

function parsePolicy(json: string | null): RetryPolicy | undefined {
  if (!json) return undefined;
  try {
    return JSON.parse(json) as RetryPolicy;
  } catch {
    return undefined;
  }
}

function traceSuffix(row: ClaimedJobRow): string {
  return row.traceId ? ` [trace ${row.traceId}]` : '';
}
