import type { BlockedKey } from '../admin/blocked-key.js';
import type { JobsRepository } from './jobs.repository.js';

/** The reader's filter as the list statement takes it (null: not filtered). */
export interface JobListQuery {
  readonly status: string | null;
  readonly queue: string | null;
  readonly name: string | null;
  readonly createdFrom: Date | null;
  readonly createdBefore: Date | null;
  readonly afterId: string | null;
  readonly limit: number;
}

/** A count of the counts statements: `count` is a float (a sampled estimate is scaled). */
export interface JobCountRow {
  readonly queue: string;
  readonly status: string;
  readonly count: number;
}

/** A row of the queue-stats statement. */
export interface QueueStatsRow {
  readonly queue: string;
  readonly oldestDueAgeMs: number | null;
  readonly running: number;
  readonly pausedAtMs: number | null;
}

/** The reader's statements, through the application's pool. */
export class JobReadRepository {
  constructor(private readonly jobs: JobsRepository) {}

  /** The row of job `id` with JOB_VIEW_COLUMNS' properties, or undefined. */
  async job(id: string): Promise<Record<string, unknown> | undefined> {
    const { queries, sql } = this.jobs;
    return (await sql.run(queries.readJob, [id])).rows[0];
  }

  async list(query: JobListQuery): Promise<Record<string, unknown>[]> {
    const { queries, sql } = this.jobs;
    const result = await sql.run(queries.listJobs, [
      query.status,
      query.queue,
      query.name,
      query.createdFrom,
      query.createdBefore,
      query.afterId,
      query.limit,
    ]);
    return result.rows;
  }

  /** The table's size in pages (current, see the statement). */
  async tablePages(): Promise<number> {
    const { queries, sql, jobsTable } = this.jobs;
    const result = await sql.run(queries.tablePages, [jobsTable.qualified]);
    return Number(result.rows[0].pages);
  }

  async exactCounts(): Promise<JobCountRow[]> {
    const { queries, sql } = this.jobs;
    return (await sql.run(queries.exactCounts, [])).rows;
  }

  /** Counts sampled from `percent` of the pages (running rows exact). */
  async sampledCounts(percent: number): Promise<JobCountRow[]> {
    const { queries, sql } = this.jobs;
    return (await sql.run(queries.sampledCounts, [percent])).rows;
  }

  async queueStats(): Promise<QueueStatsRow[]> {
    const { queries, sql } = this.jobs;
    return (await sql.run(queries.queueStats, [])).rows.map((row) => ({
      queue: row.queue,
      oldestDueAgeMs:
        row.oldestDueAgeMs === null ? null : Number(row.oldestDueAgeMs),
      running: row.running,
      pausedAtMs: row.pausedAtMs === null ? null : Number(row.pausedAtMs),
    }));
  }

  async blockedKeys(
    queues: readonly string[],
    limit: number,
  ): Promise<BlockedKey[]> {
    const { queries, sql } = this.jobs;
    return (await sql.run(queries.blockedKeys, [queues, limit])).rows.map(
      (row) => ({
        queue: row.queue,
        orderingKey: row.orderingKey,
        failedJobId: row.failedJobId,
        failedAt: row.failedAtMs === null ? null : new Date(row.failedAtMs),
        waiting: row.waiting,
      }),
    );
  }
}
