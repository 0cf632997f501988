import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** Rescue of attempts whose worker died: their lease expired while they were running. */
export const jobRescueQueries = (t: JobsTable) => ({
  /** $1 limit: rescues running jobs whose lease expired. */
  recoverExpired: named(
    t,
    'recover_expired',
    `UPDATE ${t.qualified} AS job
     SET status = CASE WHEN job.attempts > job.max_retries THEN '${JobStatus.Failed}' ELSE '${JobStatus.Pending}' END,
         finished_at = CASE WHEN job.attempts > job.max_retries THEN now() ELSE NULL END,
         run_at = now(),
         locked_until = NULL,
         last_error = 'Lease expired while attempt ' || job.attempts ||
           ' was running (its worker stopped or lost its database connection); last lease ended at ' ||
           to_char(job.locked_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
     WHERE job.id = ANY(ARRAY(
       SELECT id FROM ${t.qualified}
       WHERE status = '${JobStatus.Running}' AND locked_until < now()
       ORDER BY locked_until
       LIMIT $1
       FOR UPDATE SKIP LOCKED))
     RETURNING job.id, job.job_type, job.status, job.attempts`,
  ),
});
