import { Injectable } from '@nestjs/common';
import type { EntityManager } from 'typeorm';
import { JobStatus } from '../enums/job-status.enum.js';
import { JobNotFoundError } from '../errors/job-not-found.error.js';
import { UniqueKeyHeldError } from '../errors/unique-key-held.error.js';
import { JobStateError } from '../errors/job-state.error.js';
import { JobsEvents } from '../events/jobs-events.js';
import { JobsRepository } from '../sql/jobs.repository.js';
import type { NamedStatement } from '../sql/queries/named-statement.js';
import {
  BULK_BATCH,
  checkBulkLimit,
  checkJobId,
  filterParameters,
  type JobFilter,
} from './job-filter.js';

/** Where an operator action runs: with `manager`, inside its transaction (effects at its commit). */
export interface JobControlOptions {
  manager?: EntityManager;
}

/** A bulk operator action's options: at most `limit` jobs per call (default 10,000, cap 100,000). */
export interface BulkJobControlOptions extends JobControlOptions {
  limit?: number;
}

/** The row a single-job statement found: its state, and whether the action applied. */
interface ActionRow {
  status: string;
  changed: boolean;
  /** retry: the job holding the unique key that kept this one where it was. */
  held_by?: string | null;
}

/**
 * Operator actions on jobs: cancel, retry, redrive, delete, run now. Each checks its input
 * before any SQL (InvalidJobIdError, InvalidJobFilterError, BulkLimitError), acts in one
 * statement per job or per batch, and refuses what the job's state does not allow with
 * JobStateError naming that state (JobNotFoundError for an id no row has). Every write
 * accepts `{ manager }` to join the caller's transaction; wake-ups and cancel messages are
 * then delivered at its commit.
 */
@Injectable()
export class JobControl {
  constructor(
    private readonly repository: JobsRepository,
    private readonly events: JobsEvents,
  ) {}

  /**
   * Cancels a pending (due or scheduled) or running job: it becomes `cancelled`, final. A
   * running job's attempt ends there too, whatever its handler does afterwards; the
   * instance running it aborts its `ctx.signal` with JobCancelledError, told by a NOTIFY
   * (at once) or, without LISTEN, by its next heartbeat.
   */
  async cancel(id: string, options: JobControlOptions = {}): Promise<void> {
    const jobId = checkJobId(id);
    const row = await this.act(
      'cancel',
      jobId,
      this.repository.queries.cancel,
      [jobId, this.repository.jobsTable.channel],
      [JobStatus.Pending, JobStatus.Running],
      options,
    );
    this.events.emit('job.cancelled', {
      id: jobId,
      previousStatus: row.status as 'pending' | 'running',
      transactional: options.manager !== undefined,
    });
  }

  /**
   * Puts a failed or cancelled job back to pending, due now. Its attempt count is kept (it
   * is the job's history and fences late writes of earlier attempts); when its retries were
   * spent, `max_retries` is raised to allow exactly one more attempt (as Oban's and River's
   * retry do); a job cancelled with retries left keeps them.
   */
  async retry(id: string, options: JobControlOptions = {}): Promise<void> {
    const jobId = checkJobId(id);
    await this.act(
      'retry',
      jobId,
      this.repository.queries.retry,
      [jobId, this.repository.jobsTable.channel],
      [JobStatus.Failed, JobStatus.Cancelled],
      options,
    );
    this.events.emit('job.redriven', {
      ids: [jobId],
      transactional: options.manager !== undefined,
    });
  }

  /** Deletes a job in any state but running (cancel it first). */
  async delete(id: string, options: JobControlOptions = {}): Promise<void> {
    const jobId = checkJobId(id);
    await this.act(
      'delete',
      jobId,
      this.repository.queries.delete,
      [jobId],
      NOT_RUNNING,
      options,
    );
    this.events.emit('job.deleted', {
      ids: [jobId],
      transactional: options.manager !== undefined,
    });
  }

  /** Makes a pending job due now (a scheduled one's `run_at` becomes now) and wakes its queue. */
  async runNow(id: string, options: JobControlOptions = {}): Promise<void> {
    const jobId = checkJobId(id);
    await this.act(
      'runNow',
      jobId,
      this.repository.queries.runNow,
      [jobId, this.repository.jobsTable.channel],
      [JobStatus.Pending],
      options,
    );
    this.events.emit('job.run-now', {
      id: jobId,
      transactional: options.manager !== undefined,
    });
  }

  /**
   * Retries, as `retry` does, up to `limit` failed (by default; `statuses` may add or name
   * cancelled) jobs matching `filter`, in batches of 1,000 that skip rows locked elsewhere.
   * Returns how many it moved: fewer than `limit` means none was left matching, apart from
   * jobs whose unique key another job holds (left as they are, as `retry` leaves them).
   */
  async redrive(
    filter: JobFilter = {},
    options: BulkJobControlOptions = {},
  ): Promise<number> {
    const limit = checkBulkLimit('redrive', options.limit);
    const parameters = filterParameters(
      filter,
      [JobStatus.Failed, JobStatus.Cancelled],
      [JobStatus.Failed],
    );
    const ids = await this.inBatches(
      this.repository.queries.redriveBatch,
      parameters,
      [this.repository.jobsTable.channel],
      limit,
      options.manager,
    );
    if (ids.length > 0)
      this.events.emit('job.redriven', {
        ids,
        transactional: options.manager !== undefined,
      });
    return ids.length;
  }

  /**
   * Deletes up to `limit` jobs matching `filter`, whose `statuses` are required and may not
   * include running; in batches of 1,000 that skip rows locked elsewhere. Returns how many.
   */
  async deleteMany(
    filter: JobFilter,
    options: BulkJobControlOptions = {},
  ): Promise<number> {
    const limit = checkBulkLimit('deleteMany', options.limit);
    const parameters = filterParameters(filter, NOT_RUNNING, null);
    const ids = await this.inBatches(
      this.repository.queries.deleteBatch,
      parameters,
      [],
      limit,
      options.manager,
    );
    if (ids.length > 0)
      this.events.emit('job.deleted', {
        ids,
        transactional: options.manager !== undefined,
      });
    return ids.length;
  }

  /** Runs a single-job statement; throws unless the job exists and its state allowed it. */
  private async act(
    action: string,
    id: string,
    statement: NamedStatement,
    values: unknown[],
    allowed: readonly JobStatus[],
    options: JobControlOptions,
  ): Promise<ActionRow> {
    const [row] = (await this.run(statement, values, options.manager)) as
      ActionRow[] | [];
    if (!row) throw new JobNotFoundError(id);
    if (!row.changed && row.held_by)
      throw new UniqueKeyHeldError(id, action, row.held_by);
    if (!row.changed) throw new JobStateError(id, action, row.status, allowed);
    return row;
  }

  private async inBatches(
    statement: NamedStatement,
    filter: unknown[],
    extra: unknown[],
    limit: number,
    manager: EntityManager | undefined,
  ): Promise<string[]> {
    const ids: string[] = [];
    while (ids.length < limit) {
      const batch = Math.min(BULK_BATCH, limit - ids.length);
      const [row] = await this.run(
        statement,
        [...filter, batch, ...extra],
        manager,
      );
      const moved: string[] = row?.ids ?? [];
      ids.push(...moved);
      if (moved.length < batch) break;
    }
    return ids;
  }

  private async run(
    statement: NamedStatement,
    values: unknown[],
    manager: EntityManager | undefined,
  ): Promise<any[]> {
    const sql = this.repository.sql;
    return manager
      ? sql.runOn(manager, statement, values)
      : (await sql.run(statement, values)).rows;
  }
}

const NOT_RUNNING = [
  JobStatus.Pending,
  JobStatus.Completed,
  JobStatus.Failed,
  JobStatus.Cancelled,
];
