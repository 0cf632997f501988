/**
 * The event catalogue: what nest-jobs tells integrations (logs, metrics, tracing, tests)
 * about jobs and workers. Every event is emitted after the fact it reports; listeners run
 * synchronously in the emitting code path, so keep them short and hand slow work off.
 */
import type { JobAttemptInfo } from '../handlers/job-context.interface.js';

export type { JobAttemptInfo };

/** One job of an enqueue, as events and enqueue middleware see it (before it is written). */
export interface EnqueuedJobInfo {
  readonly id: string;
  readonly name: string;
  readonly queue: string;
  /** The payload as given (already checked to be JSON). Do not change it. */
  readonly payload: unknown;
  readonly maxRetries: number;
  /** Explicit run time, or null (then `delayMs` from now on the database clock, or now). */
  readonly runAt: Date | null;
  readonly delayMs: number | null;
  readonly traceId: string | null;
  /** Higher is claimed first (0 unless set). */
  readonly priority: number;
  /** Its key in an ordered or key-limited queue (see QueuePolicy), or null. */
  readonly orderingKey: string | null;
}

/** Why a job failed for good. */
export type JobFailureReason =
  /** It failed and had no retries left. */
  | 'retries-exhausted'
  /** The handler threw `FatalJobError`. */
  | 'fatal'
  /** No handler for its name in this worker. */
  | 'no-handler'
  /** Its payload is not JSON, or the job's `validate` rejected it. */
  | 'payload-rejected'
  /**
   * PostgreSQL refused to record its retry (e.g. a trigger of the application): it was
   * failed for good instead, after `job.retried` had been emitted for the attempt.
   */
  | 'outcome-refused';

/** Every event, by name, with its payload. */
export interface JobsEventMap {
  /**
   * Rows were written (pooled: committed; `transactional`: in the caller's transaction, not
   * yet committed). A unique job that was a duplicate wrote nothing and is not listed; a
   * call of duplicates only emits nothing.
   */
  'job.enqueued': {
    readonly jobs: readonly EnqueuedJobInfo[];
    readonly transactional: boolean;
  };
  /** This worker claimed an attempt (its lease is held from now on). */
  'job.claimed': { readonly job: JobAttemptInfo };
  /** The handler was called (after the payload was decoded and validated). */
  'job.started': { readonly job: JobAttemptInfo };
  /** The handler returned; the completion is being written. */
  'job.completed': {
    readonly job: JobAttemptInfo;
    readonly durationMs: number;
  };
  /** The attempt failed and the job will run again in `retryInMs`. */
  'job.retried': {
    readonly job: JobAttemptInfo;
    /** What the handler threw (or the timeout error). */
    readonly error: unknown;
    /** `last_error` as stored: message and stack, truncated. */
    readonly errorText: string;
    readonly retryInMs: number;
    readonly durationMs: number;
  };
  /** The attempt failed and the job will not run again. */
  'job.failed': {
    readonly job: JobAttemptInfo;
    readonly error: unknown;
    readonly errorText: string;
    readonly reason: JobFailureReason;
    readonly durationMs: number;
  };
  /**
   * The handler asked to run the job again later (SnoozeJob) without using up an attempt;
   * the snooze is being written. The next run has the same attempt number.
   */
  'job.snoozed': {
    readonly job: JobAttemptInfo;
    readonly delayMs: number;
    readonly durationMs: number;
  };
  /**
   * The handler's run succeeded and asked to run the job again as a fresh job
   * (RescheduleJob), at `runAt` or in `delayMs`; the reschedule is being written.
   */
  'job.rescheduled': {
    readonly job: JobAttemptInfo;
    /** When given as a Date; else null and `delayMs` is set. */
    readonly runAt: Date | null;
    readonly delayMs: number | null;
    readonly durationMs: number;
  };
  /**
   * A running attempt's latest `ctx.progress` was written to its row: at most once per
   * `worker.progressIntervalMs` per attempt (values reported in between are not seen), and
   * once more just before its outcome if a value was still unwritten.
   */
  'job.progress': { readonly job: JobAttemptInfo; readonly value: unknown };
  /**
   * `ctx.checkpoint` stored `state` (a copy, as stored). `inTransaction`: written in the
   * handler's transaction, which may still roll back (then the checkpoint is not kept).
   */
  'job.checkpointed': {
    readonly job: JobAttemptInfo;
    readonly state: unknown;
    readonly inTransaction: boolean;
  };
  /**
   * The attempt is no longer held here: a heartbeat found it rescued elsewhere, or could not
   * renew its lease in time (database unreachable). Its signal was aborted with
   * LeaseLostError and its outcome will not be written.
   */
  'job.lease-lost': { readonly job: JobAttemptInfo };
  /** A sweep returned running jobs whose lease had expired (their worker died). */
  'job.rescued': {
    readonly jobs: readonly {
      readonly id: string;
      readonly name: string;
      /** The attempt that was running when the lease expired. */
      readonly attempt: number;
      /** `pending` (will run again) or `failed` (no retries left). */
      readonly status: string;
    }[];
  };
  /** Shutdown returned unfinished attempts to pending (their handlers' signals were aborted). */
  'job.released': {
    readonly jobs: readonly JobAttemptInfo[];
    readonly reason: string;
  };
  /**
   * An operator cancelled a job (JobControl#cancel): it was pending (then it never runs) or
   * running (then the instance running it aborts its signal: `job.attempt-cancelled`).
   * `transactional`: written in the caller's transaction, not yet committed.
   */
  'job.cancelled': {
    readonly id: string;
    readonly previousStatus: 'pending' | 'running';
    readonly transactional: boolean;
  };
  /**
   * An attempt this worker ran was cancelled: its signal was aborted with JobCancelledError
   * and its outcome is not written (the row is already `cancelled`). `by`: an operator's
   * cancel (heard by NOTIFY or found by the heartbeat), or the handler itself (it threw
   * JobCancelledError).
   */
  'job.attempt-cancelled': {
    readonly job: JobAttemptInfo;
    readonly by: 'operator' | 'handler';
  };
  /** An operator put failed or cancelled jobs back to pending (JobControl#retry, #redrive). */
  'job.redriven': {
    readonly ids: readonly string[];
    readonly transactional: boolean;
  };
  /** An operator deleted jobs (JobControl#delete, #deleteMany). */
  'job.deleted': {
    readonly ids: readonly string[];
    readonly transactional: boolean;
  };
  /** An operator made a scheduled job due now (JobControl#runNow). */
  'job.run-now': { readonly id: string; readonly transactional: boolean };
  /**
   * A queue was paused (JobsQueueControl.pause): every worker stops claiming from it within
   * one poll interval. `transactional`: written in the caller's transaction, not yet
   * committed (the workers hear of it at its commit).
   */
  'queue.paused': { readonly queue: string; readonly transactional: boolean };
  /** A paused queue was resumed (JobsQueueControl.resume); `transactional` as for `queue.paused`. */
  'queue.resumed': { readonly queue: string; readonly transactional: boolean };
  /**
   * A schedule's occurrence was enqueued as the job `jobId` (committed). `occurrence` is
   * the time the cron expression gave (also the job's `run_at`); `triggered`: by
   * JobsSchedules#trigger, not by the expression (then `occurrence` is the database's now).
   */
  'schedule.enqueued': {
    readonly schedule: string;
    readonly occurrence: Date;
    readonly jobId: string;
    readonly triggered: boolean;
  };
  /**
   * A schedule's occurrence was not enqueued (its schedule advanced past it, committed).
   * `missed`: the missed policy dropped it; `overlap`: the schedule's previous job `heldBy`
   * still waits or runs (overlap `skip`); `rejected`: the job's options or payload were
   * refused (`error`); `invalid`: the stored schedule cannot be read (`error`), and it stays
   * dormant until changed. With `unlisted`, `occurrence` stands for more missed occurrences
   * than a tick lists (see the manual).
   */
  'schedule.skipped': {
    readonly schedule: string;
    readonly occurrence: Date | null;
    readonly reason: 'missed' | 'overlap' | 'rejected' | 'invalid';
    readonly heldBy?: string;
    readonly error?: unknown;
    readonly unlisted?: boolean;
  };
  /** A schedule was added, changed, paused, resumed or removed through JobsSchedules. */
  'schedule.changed': {
    readonly schedule: string;
    readonly action: 'added' | 'updated' | 'paused' | 'resumed' | 'removed';
  };
  /** The worker started claiming. */
  'worker.started': {
    readonly queues: readonly string[];
    readonly concurrency: number;
  };
  /**
   * The worker works `queue` from now on: a pattern of `worker.queues` (`emails.*`) matched
   * a queue it saw jobs of (a notification, an enqueue of this process, or its periodic read).
   */
  'worker.queue-added': { readonly queue: string };
  /** The worker drained and closed its connections. */
  'worker.stopped': Record<string, never>;
  /** A claim failed (database unreachable, ...); the next poll retries. */
  'worker.claim-failed': {
    readonly error: unknown;
    readonly failuresInARow: number;
  };
}

/** A name of the catalogue. */
export type JobsEventName = keyof JobsEventMap;

/** A listener of one event. It may throw or return a rejected promise: that is logged, never propagated. */
export type JobsEventListener<K extends JobsEventName> = (
  event: JobsEventMap[K],
) => unknown;
