import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { appendAttemptError } from './attempt-history.js';
import { named } from './named-statement.js';

/** What `last_error` and the attempt history say of an attempt whose lease expired. */
const LEASE_EXPIRED_TEXT = `'Lease expired while attempt ' || job.attempts ||
           ' was running (its worker stopped or lost its database connection); last lease ended at ' ||
           to_char(job.locked_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** Rescue of attempts whose worker died: their lease expired while they were running. */
export const jobRescueQueries = (t: JobsTable) => ({
  /**
   * $1 limit: rescues running jobs whose lease expired, and appends the expiry to
   * `attempt_errors` (no instance: the row does not say which one held the lease).
   */
  recoverExpired: named(
    t,
    'recover_expired',
    `UPDATE ${t.qualified} AS job
     SET status = CASE WHEN job.attempts > job.max_retries THEN '${JobStatus.Failed}' ELSE '${JobStatus.Pending}' END,
         finished_at = CASE WHEN job.attempts > job.max_retries THEN now() ELSE NULL END,
         run_at = now(),
         locked_until = NULL,
         last_error = ${LEASE_EXPIRED_TEXT},
         attempt_errors = ${appendAttemptError('lease-expired', LEASE_EXPIRED_TEXT, 'NULL')}
     WHERE job.id = ANY(ARRAY(
       SELECT id FROM ${t.qualified}
       WHERE status = '${JobStatus.Running}' AND locked_until < now()
       ORDER BY locked_until
       LIMIT $1
       FOR UPDATE SKIP LOCKED))
     RETURNING job.id, job.job_type, job.status, job.attempts`,
  ),
});
