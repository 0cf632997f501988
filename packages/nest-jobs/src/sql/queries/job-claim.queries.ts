import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** Claiming: due pending jobs become running attempts of this worker. */
export const jobClaimQueries = (t: JobsTable) => ({
  /**
   * $1 queue, $2 limit, $3 lease ms: claims due pending jobs in run_at order, skipping locked
   * rows. Returns only what the worker cannot know (not the queue it asked for), and the
   * creation time as float8 epoch milliseconds (date_part: extract() would compute numeric).
   *
   * `id = ANY(ARRAY(subquery))`, not `UPDATE ... FROM (subquery)`: with FROM the planner
   * may hash-join the candidates to a scan of the whole table (it did at 40k rows, custom
   * and generic plan alike); this form always updates through the primary key, so it
   * stays prepared.
   */
  claim: named(
    t,
    'claim',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Running}', attempts = job.attempts + 1, started_at = now(),
         locked_until = now() + $3::bigint * interval '1 millisecond'
     WHERE job.id = ANY(ARRAY(
       SELECT id FROM ${t.qualified}
       WHERE status = '${JobStatus.Pending}' AND queue = $1 AND run_at <= now()
       ORDER BY run_at
       LIMIT $2
       FOR UPDATE SKIP LOCKED))
     RETURNING job.id, job.job_type AS "jobType", job.payload::text AS payload,
               job.attempts AS attempt, job.max_retries AS "maxRetries",
               job.retry_policy::text AS "retryPolicy", job.trace_id AS "traceId",
               date_part('epoch', job.created_at) * 1000 AS "createdAtMs"`,
  ),
});
