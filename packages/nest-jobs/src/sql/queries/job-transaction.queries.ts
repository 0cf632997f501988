import { JobStatus } from '../../enums/job-status.enum.js';
import { UNLIMITED_RETRIES_STORED } from '../../retry/unlimited-retries.js';
import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** `job` is the attempt $1 id, $2 attempts, $3 releases, and it is still running. */
const FENCE = `job.id = $1::uuid AND job.attempts = $2::int AND job.releases = $3::int
       AND job.status = '${JobStatus.Running}'`;

/**
 * Writes a handler makes inside a transaction (the caller's, or the one nest-jobs opens
 * around a `transactional` handler), each fenced to its attempt like the worker's outcome
 * writes. Each answers with a SELECT (`held`: 1 when the attempt still held the job, 0
 * when it no longer did), so TypeORM's `query` returns the same shape for all of them.
 * They lock the job's row until the transaction ends: the heartbeat skips locked rows
 * (see heartbeat) rather than wait for them.
 */
export const jobTransactionQueries = (t: JobsTable) => ({
  /**
   * Completes the attempt in the caller's transaction; $4 the attempt's latest progress
   * (JSON text, NULL: none reported), which no later write could store.
   */
  completeInTransaction: named(
    t,
    'complete_in_transaction',
    `WITH done AS (
       UPDATE ${t.qualified} AS job
       SET status = '${JobStatus.Completed}', finished_at = now(), locked_until = NULL,
           progress = COALESCE($4::jsonb, job.progress)
       WHERE ${FENCE}
       RETURNING 1)
     SELECT count(*)::int AS held FROM done`,
  ),
  /** completeInTransaction for `retention.completedMs: 0`: deletes the row. */
  completeInTransactionByDeleting: named(
    t,
    'complete_in_transaction',
    `WITH done AS (
       DELETE FROM ${t.qualified} AS job
       WHERE ${FENCE}
       RETURNING 1)
     SELECT count(*)::int AS held FROM done`,
  ),
  /**
   * $4 checkpoint (JSON text), $5 whether this is the attempt's first checkpoint and it
   * gives the retry back (`@Job({ checkpointKeepsRetries })`: `max_retries` grows by one,
   * so an attempt that made progress does not use up a retry; unlimited stays unlimited).
   */
  saveCheckpoint: named(
    t,
    'save_checkpoint',
    `WITH saved AS (
       UPDATE ${t.qualified} AS job
       SET checkpoint = $4::jsonb,
           max_retries = CASE WHEN $5::boolean AND job.max_retries < ${UNLIMITED_RETRIES_STORED}
                              THEN job.max_retries + 1 ELSE job.max_retries END
       WHERE ${FENCE}
       RETURNING 1)
     SELECT count(*)::int AS held FROM saved`,
  ),
  /**
   * Whether the attempt still holds the job, by the committed row (no lock: a transaction
   * still open elsewhere is not waited for). Read after a handler that completed its job
   * in its own transaction returned: 1 means that transaction did not commit.
   */
  attemptHeld: named(
    t,
    'attempt_held',
    `SELECT count(*)::int AS held FROM ${t.qualified} AS job WHERE ${FENCE}`,
  ),
  /**
   * $1 milliseconds: bounds the rest of the transaction it runs in (each statement, and
   * each wait between statements: a frozen or stuck worker's transaction, and the row lock
   * it holds, end after it). SET LOCAL's effect, as one statement with a parameter.
   */
  boundTransaction: named(
    t,
    'bound_transaction',
    `SELECT set_config('statement_timeout', $1::text, true),
            set_config('idle_in_transaction_session_timeout', $1::text, true)`,
  ),
  /**
   * Puts the transaction it runs in into the aborted state, so that its COMMIT can only roll
   * back: sent when a fenced write found that the attempt no longer holds the job, in case
   * the handler swallows the error and commits anyway.
   */
  abortTransaction: named(
    t,
    'abort_transaction',
    `DO $$ BEGIN RAISE EXCEPTION 'nest-jobs: this attempt no longer holds its job; the transaction can only roll back'; END $$`,
  ),
});
