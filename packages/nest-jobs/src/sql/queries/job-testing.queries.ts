import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { plannedPerCall } from './named-statement.js';
import { JOB_VIEW_SELECT_LIST } from './job-read.queries.js';

/**
 * What `nest-jobs/testing` reads and runs: a manual worker's drain and the assertions on
 * enqueued jobs. Never sent unless a test calls them; planned per call (test-sized tables,
 * and each call's plan sees which filters are null).
 */
export const jobTestingQueries = (t: JobsTable) => ({
  /**
   * $1 queues, $2 limit, $3 lease ms, $4 also jobs scheduled later, $5 only these ids (null:
   * any): claims pending jobs of the queues for a manual worker's drain, in the order the
   * worker's claim takes them (priority, then run_at); returns the claim's columns and the
   * queue of each.
   */
  drainClaim: plannedPerCall(
    t,
    'drain_claim',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Running}', attempts = job.attempts + 1, started_at = now(),
         locked_until = now() + $3::bigint * interval '1 millisecond'
     WHERE job.id = ANY(ARRAY(
       SELECT id FROM ${t.qualified}
       WHERE status = '${JobStatus.Pending}' AND queue = ANY($1::text[])
         AND ($4::boolean OR run_at <= now())
         AND ($5::uuid[] IS NULL OR id = ANY($5::uuid[]))
       ORDER BY priority DESC, run_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED))
     RETURNING job.id, job.queue, job.job_type AS "jobType", job.payload::text AS payload,
               job.attempts AS attempt, job.releases, job.max_retries AS "maxRetries",
               job.retry_policy::text AS "retryPolicy", job.trace_id AS "traceId",
               date_part('epoch', job.created_at) * 1000 AS "createdAtMs"`,
  ),
  /** $1 queues, $2 also jobs scheduled later: the ids of the pending jobs a drain would take now. */
  drainableIds: plannedPerCall(
    t,
    'drainable_ids',
    `SELECT array_agg(id) AS ids FROM ${t.qualified}
     WHERE status = '${JobStatus.Pending}' AND queue = ANY($1::text[])
       AND ($2::boolean OR run_at <= now())`,
  ),
  /**
   * $1 job name, $2 statuses, $3 queue (null: any), $4 JSON the payload contains (jsonb
   * `@>`; null: any), $5 limit: jobs as JobView rows, oldest id first.
   */
  findJobs: plannedPerCall(
    t,
    'find_jobs',
    `SELECT ${JOB_VIEW_SELECT_LIST} FROM ${t.qualified}
     WHERE job_type = $1 AND status = ANY($2::text[])
       AND ($3::text IS NULL OR queue = $3)
       AND ($4::jsonb IS NULL OR payload @> $4::jsonb)
     ORDER BY id
     LIMIT $5`,
  ),
});
