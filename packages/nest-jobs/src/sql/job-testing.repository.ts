import type { EntityManager } from 'typeorm';
import type { JobView } from '../admin/job-view.js';
import { UNLIMITED_RETRIES_STORED } from '../retry/unlimited-retries.js';
import type { ClaimedJobRow } from './job-rows.js';
import type { JobsRepository } from './jobs.repository.js';

/** What `findJobs` filters on (null: not filtered); every value checked by the caller. */
export interface FindJobsQuery {
  readonly name: string;
  readonly statuses: readonly string[];
  readonly queue: string | null;
  /** JSON text the payload must contain (jsonb `@>`). */
  readonly payloadJson: string | null;
  readonly limit: number;
}

/** The statements of `nest-jobs/testing` (queries/job-testing.queries.ts). */
export class JobTestingRepository {
  constructor(private readonly jobs: JobsRepository) {}

  /** Claims pending jobs of `queues` for a manual worker's drain. */
  async drainClaim(
    queues: readonly string[],
    limit: number,
    leaseMs: number,
    includeScheduled: boolean,
    onlyIds: readonly string[] | null,
  ): Promise<ClaimedJobRow[]> {
    const { queries, sql } = this.jobs;
    const result = await sql.run(queries.drainClaim, [
      queues,
      limit,
      leaseMs,
      includeScheduled,
      onlyIds,
    ]);
    const rows = result.rows as ClaimedJobRow[];
    for (const row of rows) {
      if (row.maxRetries === UNLIMITED_RETRIES_STORED)
        row.maxRetries = Number.POSITIVE_INFINITY;
    }
    return rows;
  }

  /** The ids of the pending jobs a drain of `queues` would take now. */
  async drainableIds(
    queues: readonly string[],
    includeScheduled: boolean,
  ): Promise<string[]> {
    const { queries, sql } = this.jobs;
    const result = await sql.run(queries.drainableIds, [
      queues,
      includeScheduled,
    ]);
    return result.rows[0]?.ids ?? [];
  }

  /** Job `id` (a checked uuid) in any state; none when there is no such job. */
  async findJob(id: string): Promise<JobView[]> {
    const { queries, sql } = this.jobs;
    return (await sql.run(queries.readJob, [id])).rows as JobView[];
  }

  /** Jobs matching `query`, oldest id first; with `manager`, as its transaction sees them. */
  async findJobs(
    query: FindJobsQuery,
    manager?: EntityManager,
  ): Promise<JobView[]> {
    const { queries, sql } = this.jobs;
    const values = [
      query.name,
      query.statuses,
      query.queue,
      query.payloadJson,
      query.limit,
    ];
    const rows = manager
      ? await sql.runOn(manager, queries.findJobs, values)
      : (await sql.run(queries.findJobs, values)).rows;
    return rows as JobView[];
  }
}
