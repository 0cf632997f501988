import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { appendAttemptError } from './attempt-history.js';
import {
  fencedBy,
  heldAttemptRows,
  RUNNING,
  statusOf,
} from './held-attempt-rows.js';
import { plannedPerCall } from './named-statement.js';

/**
 * What becomes of the attempts a worker holds: batch writes keyed by (id, attempts,
 * releases), so a stale attempt (its lease expired and the job was claimed again, or it was
 * released at shutdown) changes nothing. Each reaches its rows by primary key only (see
 * held-attempt-rows.ts). All are planned per call (see NamedStatement): a generic plan
 * made while the table is small would be kept however large it grows.
 */
export const jobOutcomeQueries = (t: JobsTable) => ({
  /** $1 ids, $2 attempts, $3 releases: completes the attempts that still hold their claim. */
  complete: plannedPerCall(
    t,
    'complete',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Completed}', finished_at = now(), locked_until = NULL
     FROM ${heldAttemptRows('done')}
     WHERE ${fencedBy('done')} AND ${RUNNING}`,
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
     USING ${heldAttemptRows('done')}
     WHERE ${fencedBy('done')} AND ${RUNNING}`,
  ),
  /**
   * $1 ids, $2 attempts, $3 releases, $4 errors, $5 retry delays in ms (null: failed for
   * good), $6 the failing instance: also appends the failure to `attempt_errors`. Only
   * failures pay for the history: `complete` does not touch it.
   */
  fail: plannedPerCall(
    t,
    'fail',
    `UPDATE ${t.qualified} AS job
     SET status = CASE WHEN failure.retry_in_ms IS NULL THEN '${JobStatus.Failed}' ELSE '${JobStatus.Pending}' END,
         run_at = CASE WHEN failure.retry_in_ms IS NULL THEN job.run_at
                       ELSE now() + failure.retry_in_ms * interval '1 millisecond' END,
         finished_at = CASE WHEN failure.retry_in_ms IS NULL THEN now() ELSE NULL END,
         locked_until = NULL,
         last_error = failure.error,
         attempt_errors = ${appendAttemptError('failed', 'failure.error', '$6::text')}
     FROM ${heldAttemptRows('failure', [
       ['error', 'text'],
       ['retry_in_ms', 'bigint'],
     ])}
     WHERE ${fencedBy('failure')} AND ${RUNNING}`,
  ),
  /**
   * $1 ids, $2 attempts, $3 releases, $4 run times (null: use the delay), $5 delays in ms,
   * $6 fresh: returns attempts whose handler asked to run the job again (snooze,
   * reschedule) to pending. A snooze does not count its attempt (`attempts - 1`, as a
   * release); a reschedule starts the job afresh (`attempts` 0, no progress, no checkpoint). Both lower `attempts`, so
   * both raise `releases`, the fence a late write of this attempt would otherwise pass
   * (see release).
   */
  requeue: plannedPerCall(
    t,
    'requeue',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Pending}',
         run_at = COALESCE(again.run_at, now() + again.delay_ms * interval '1 millisecond'),
         locked_until = NULL,
         attempts = CASE WHEN again.fresh THEN 0 ELSE job.attempts - 1 END,
         progress = CASE WHEN again.fresh THEN NULL ELSE job.progress END,
         checkpoint = CASE WHEN again.fresh THEN NULL ELSE job.checkpoint END,
         releases = job.releases + 1
     FROM ${heldAttemptRows('again', [
       ['run_at', 'timestamptz'],
       ['delay_ms', 'bigint'],
       ['fresh', 'boolean'],
     ])}
     WHERE ${fencedBy('again')} AND ${RUNNING}`,
  ),
  /**
   * $1 ids, $2 attempts, $3 releases, $4 progress values (JSON text): records the latest
   * progress of running attempts that still hold their claim.
   */
  writeProgress: plannedPerCall(
    t,
    'write_progress',
    `UPDATE ${t.qualified} AS job
     SET progress = reported.value
     FROM ${heldAttemptRows('reported', [['value', 'jsonb']])}
     WHERE ${fencedBy('reported')} AND ${RUNNING}`,
  ),
  /**
   * $1 ids, $2 attempts, $3 releases, $4 reasons: ends the attempts whose handler cancelled
   * its own job (threw JobCancelledError): `cancelled`, final, the reason as last error.
   */
  cancelOwn: plannedPerCall(
    t,
    'cancel_own',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Cancelled}', finished_at = now(), locked_until = NULL,
         last_error = own.reason
     FROM ${heldAttemptRows('own', [['reason', 'text']])}
     WHERE ${fencedBy('own')} AND ${RUNNING}`,
  ),
  /**
   * $1 ids, $2 attempts, $3 releases, $4 lease ms: renews leases; returns the (id, attempts,
   * releases) still held, and those an operator cancelled (`cancelled` true: the row is
   * `cancelled`, its lease left cleared). Matching cancelled rows in the UPDATE itself, not
   * in a second read, tells a cancel from a rescue even when the cancel commits while this
   * statement waits for the row. A cancelled attempt is matched at most once: the worker
   * stops renewing it on hearing of it.
   *
   * It never waits for a row lock: a handler's transaction that completed or checkpointed
   * its job holds the row's lock until it ends (for as long as the transaction timeout
   * allows), and a heartbeat waiting for it would hold up every other lease it renews.
   * Such a row is skipped and returned as `busy` when its committed version still matches
   * the attempt: while that lock is held no one else can change the row, so the attempt
   * still holds the job.
   */
  heartbeat: plannedPerCall(
    t,
    'heartbeat',
    `WITH held AS (
       SELECT * FROM ${heldAttemptRows('held')}),
     free AS (
       SELECT job.id FROM ${t.qualified} AS job
       JOIN held ON ${fencedBy('held')}
       WHERE ${statusOf(JobStatus.Running, JobStatus.Cancelled)}
       FOR UPDATE OF job SKIP LOCKED),
     renewed AS (
       UPDATE ${t.qualified} AS job
       SET locked_until = CASE WHEN job.status = '${JobStatus.Running}'
                               THEN now() + $4::bigint * interval '1 millisecond' END
       FROM free WHERE job.id = free.id
       RETURNING job.id, job.attempts, job.releases, job.status = '${JobStatus.Cancelled}' AS cancelled)
     SELECT id, attempts, releases, cancelled, false AS busy FROM renewed
     UNION ALL
     SELECT job.id, job.attempts, job.releases, false, true
     FROM ${t.qualified} AS job
     JOIN held ON ${fencedBy('held')}
     WHERE ${RUNNING} AND NOT EXISTS (SELECT 1 FROM free WHERE free.id = job.id)`,
  ),
  /**
   * $1 ids, $2 attempts, $3 releases, $4 reason: returns interrupted attempts to pending at
   * once. An attempt interrupted by a shutdown does not count: `attempts` goes back to what
   * it was before the claim, so the next claim runs the same attempt number again and a job
   * with `max_retries = 0` still gets its one run.
   *
   * `releases` goes up in the same write: the fence of the released attempt is the pair
   * (attempts, releases), and lowering `attempts` alone would let the next claim bring back
   * the pair the released attempt holds, so its late outcome would land on the new attempt.
   * Every statement that lowers `attempts` raises `releases`, and `releases` never goes
   * down: a pair, once left, never returns, whichever version of the library claims next
   * (one from before `releases` existed raises `attempts` on its claims and never lowers it).
   */
  release: plannedPerCall(
    t,
    'release',
    `UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Pending}', run_at = now(), locked_until = NULL, last_error = $4,
         attempts = job.attempts - 1, releases = job.releases + 1
     FROM ${heldAttemptRows('interrupted')}
     WHERE ${fencedBy('interrupted')} AND ${RUNNING}`,
  ),
});
