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
  | 'payload-rejected';

/** Every event, by name, with its payload. */
export interface JobsEventMap {
  /** Rows were written (pooled: committed; `transactional`: in the caller's transaction, not yet committed). */
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
  /** A heartbeat found the attempt no longer held here (rescued elsewhere): its signal was aborted. */
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
  /** The worker started claiming. */
  'worker.started': {
    readonly queues: readonly string[];
    readonly concurrency: number;
  };
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
