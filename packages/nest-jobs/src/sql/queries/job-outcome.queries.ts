import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { plannedPerCall } from './named-statement.js';

/**
 * What becomes of the attempts a worker holds: batch writes keyed by (id, attempt), so a
 * stale attempt (its lease expired and the job was claimed again) changes nothing. All are
 * planned per call: they join an array to the table (see NamedStatement).
 */
export const jobOutcomeQueries = (t: JobsTable) => ({
  /** $1 ids, $2 attempts: completes the attempts that still hold their claim. */
  complete: plannedPerCall(
    t,
    'complete',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Completed}', finished_at = now(), locked_until = NULL
     FROM unnest($1::uuid[], $2::int[]) AS done(id, attempt)
     WHERE job.id = done.id AND job.attempts = done.attempt AND job.status = '${JobStatus.Running}'`,
  ),
  /**
   * complete for `retention.completedMs: 0`: deletes the rows instead of keeping them. No
   * history wanted: deleting costs PostgreSQL about a quarter less than the update (no new
   * row version, no finished_at index entry) and spares the janitor the row.
   */
  completeByDeleting: plannedPerCall(
    t,
    'complete',
    `DELETE FROM ${t.qualified} AS job
     USING unnest($1::uuid[], $2::int[]) AS done(id, attempt)
     WHERE job.id = done.id AND job.attempts = done.attempt AND job.status = '${JobStatus.Running}'`,
  ),
  /** $1 ids, $2 attempts, $3 errors, $4 retry delays in ms (null: failed for good). */
  fail: plannedPerCall(
    t,
    'fail',
    `UPDATE ${t.qualified} AS job
     SET status = CASE WHEN failure.retry_in_ms IS NULL THEN '${JobStatus.Failed}' ELSE '${JobStatus.Pending}' END,
         run_at = CASE WHEN failure.retry_in_ms IS NULL THEN job.run_at
                       ELSE now() + failure.retry_in_ms * interval '1 millisecond' END,
         finished_at = CASE WHEN failure.retry_in_ms IS NULL THEN now() ELSE NULL END,
         locked_until = NULL,
         last_error = failure.error
     FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bigint[]) AS failure(id, attempt, error, retry_in_ms)
     WHERE job.id = failure.id AND job.attempts = failure.attempt AND job.status = '${JobStatus.Running}'`,
  ),
  /** $1 ids, $2 attempts, $3 lease ms: renews leases; returns the (id, attempts) still held. */
  heartbeat: plannedPerCall(
    t,
    'heartbeat',
    `UPDATE ${t.qualified} AS job
     SET locked_until = now() + $3::bigint * interval '1 millisecond'
     FROM unnest($1::uuid[], $2::int[]) AS held(id, attempt)
     WHERE job.id = held.id AND job.attempts = held.attempt AND job.status = '${JobStatus.Running}'
     RETURNING job.id, job.attempts`,
  ),
  /** $1 ids, $2 attempts, $3 reason: returns interrupted attempts to pending at once. */
  release: plannedPerCall(
    t,
    'release',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Pending}', run_at = now(), locked_until = NULL, last_error = $3
     FROM unnest($1::uuid[], $2::int[]) AS interrupted(id, attempt)
     WHERE job.id = interrupted.id AND job.attempts = interrupted.attempt AND job.status = '${JobStatus.Running}'`,
  ),
});
