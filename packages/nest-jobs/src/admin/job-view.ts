import type { JobStatus } from '../enums/job-status.enum.js';
import type { JOB_VIEW_COLUMNS } from '../sql/queries/job-read.queries.js';

/**
 * A job as the reader returns it: the row's columns, typed (JOB_VIEW_COLUMNS lists where
 * each comes from; the compiler holds the two to the same properties).
 */
export interface JobView {
  readonly id: string;
  readonly queue: string;
  /** The job's name (`job_type`). */
  readonly name: string;
  readonly status: JobStatus;
  readonly payload: unknown;
  /** Attempts counted so far. */
  readonly attempts: number;
  /** How many times a shutdown returned the job to pending uncounted. */
  readonly releases: number;
  readonly maxRetries: number;
  readonly runAt: Date;
  readonly startedAt: Date | null;
  readonly lockedUntil: Date | null;
  readonly finishedAt: Date | null;
  readonly lastError: string | null;
  readonly traceId: string | null;
  readonly retryPolicy: unknown;
  readonly createdAt: Date;
  /** The latest `ctx.checkpoint` stored (null: none). A binary job's `payload` is null. */
  readonly checkpoint: unknown;
}

// Fails to compile when JobView and JOB_VIEW_COLUMNS list different properties.
type SameKeys<A, B> = [keyof A] extends [keyof B]
  ? [keyof B] extends [keyof A]
    ? true
    : never
  : never;
export const JOB_VIEW_MATCHES_COLUMNS: SameKeys<
  JobView,
  typeof JOB_VIEW_COLUMNS
> = true;

/** What `JobsReader.list` accepts; every field optional, every value checked before SQL. */
export interface JobListFilter {
  readonly status?: JobStatus | `${JobStatus}`;
  readonly queue?: string;
  /** The job's name. */
  readonly name?: string;
  /** Created at or after this time. */
  readonly createdFrom?: Date;
  /** Created before this time. */
  readonly createdBefore?: Date;
  /** Rows per page, 1 to 500 (default 50). */
  readonly limit?: number;
  /** `nextCursor` of the previous page. */
  readonly cursor?: string;
}

/** One page of jobs, newest id first. */
export interface JobPage {
  readonly jobs: readonly JobView[];
  /** Pass it as `cursor` for the next page; null on the last page. */
  readonly nextCursor: string | null;
}

/** Rows of one queue in one state. */
export interface JobCount {
  readonly queue: string;
  readonly status: JobStatus;
  readonly count: number;
}

/** Rows per queue and state. */
export interface JobCounts {
  readonly counts: readonly JobCount[];
  /**
   * true: sampled from a part of the table (a large table), and rounded: running rows are
   * still exact. false: every row was counted.
   */
  readonly estimated: boolean;
}

/** Per queue: the age of its oldest due job, how many run, and whether it is paused. */
export interface QueueStats {
  readonly queue: string;
  /** Milliseconds since the oldest pending job that is due became due; null when none is due. */
  readonly oldestDueAgeMs: number | null;
  readonly running: number;
  readonly paused: boolean;
  readonly pausedAt: Date | null;
}
