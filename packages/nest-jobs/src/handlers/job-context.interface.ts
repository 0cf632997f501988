import type { LoggerService } from '@nestjs/common';

/** One attempt of a job: what handlers, events and middleware all know of it. */
export interface JobAttemptInfo {
  /** Row id (uuid). */
  readonly id: string;
  /** Job name (`job_type`). */
  readonly name: string;
  /** Queue the job was claimed from. */
  readonly queue: string;
  /** 1 for the first attempt, 2 for the first retry, and so on. */
  readonly attempt: number;
  /** Retries allowed after the first attempt. */
  readonly maxRetries: number;
  /** Trace id of the request that enqueued the job, or null. Follow-up enqueues inherit it. */
  readonly traceId: string | null;
}

/** What a `@Job()` handler receives as its second argument. */
export interface JobContext extends JobAttemptInfo {
  /** When the job was enqueued. */
  readonly createdAt: Date;
  /**
   * Aborted on timeout, on shutdown after the grace period, and when the lease was lost.
   * Pass it to fetch/pg/timers so a cancelled attempt stops doing work; `signal.reason`
   * says why.
   */
  readonly signal: AbortSignal;
  /** A logger whose context is the job name; lines carry the job id. */
  readonly logger: LoggerService;
}
