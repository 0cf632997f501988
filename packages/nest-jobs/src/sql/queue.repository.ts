import type { EntityManager } from 'typeorm';
import type { JobsRepository } from './jobs.repository.js';

/** A paused queue, as the queues table records it. */
export interface PausedQueueRow {
  readonly queue: string;
  /** Epoch milliseconds. */
  readonly pausedAtMs: number;
}

/**
 * The queues table's statements, sent the way `jobs` sends its own (the application's pool,
 * or the worker's connections for a repository made `through` them).
 */
export class QueueRepository {
  constructor(private readonly jobs: JobsRepository) {}

  /**
   * Pauses (or resumes) `queue` and, when that changed its state, sends `notification` on
   * the jobs channel; with `manager`, inside its transaction. Returns whether it changed.
   */
  async setPaused(
    queue: string,
    paused: boolean,
    notification: string,
    manager?: EntityManager,
  ): Promise<boolean> {
    const { queries, sql, jobsTable } = this.jobs;
    const statement = paused ? queries.pauseQueue : queries.resumeQueue;
    const values = [queue, jobsTable.channel, notification];
    const rows: unknown[] = manager
      ? await sql.runOn(manager, statement, values)
      : (await sql.run(statement, values)).rows;
    return rows.length > 0;
  }

  /** The queues that have pending jobs, by name. */
  async pending(): Promise<string[]> {
    const result = await this.jobs.sql.run(this.jobs.queries.pendingQueues, []);
    return result.rows.map((row) => row.queue);
  }

  /** Every paused queue, by name. */
  async paused(): Promise<PausedQueueRow[]> {
    const result = await this.jobs.sql.run(this.jobs.queries.pausedQueues, []);
    return result.rows.map((row) => ({
      queue: row.queue,
      pausedAtMs: Number(row.pausedAtMs),
    }));
  }
}
