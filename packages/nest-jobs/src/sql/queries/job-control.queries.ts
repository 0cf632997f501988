import { JobStatus } from '../../enums/job-status.enum.js';
import { CANCEL_MESSAGE_SQL } from '../../notifications/cancel-message.js';
import type { JobsTable } from '../jobs-table.js';
import { holdsUniqueKey } from '../unique-index.js';
import { plannedPerCall } from './named-statement.js';

/**
 * Operator actions (admin/job-control.ts). Each single-job statement locks the row first
 * (`target`, FOR UPDATE: a claim in flight either skips it or is waited for, and the state
 * read is the one acted on), acts only when that state allows it, and returns the state it
 * found (no row: no such job), so one round trip both acts and explains a refusal. Wake-ups
 * and cancel messages are `pg_notify`s in the same statement: inside a caller's transaction
 * they are delivered at its commit, never for a rollback. All are planned per call: they are
 * rare, and a custom plan can use the partial indexes for the filters' literal values.
 */
export const jobControlQueries = (t: JobsTable) => {
  const target = `target AS (SELECT id, status, unique_key FROM ${t.qualified} WHERE id = $1 FOR UPDATE)`;
  /**
   * Another job that holds `row`'s unique key now (a newer job with the same key waits or
   * runs): moving `row` back to pending would break the key, so retry and redrive leave it.
   */
  const keyHolder = (row: string, from = '') =>
    `SELECT holder.id FROM ${from}${t.qualified} AS holder
    WHERE ${row}.unique_key IS NOT NULL AND holder.unique_key = ${row}.unique_key
      AND holder.id <> ${row}.id AND ${holdsUniqueKey('holder')}`;
  /** The filter of the bulk actions: $1 statuses, $2 queue, $3 name, $4 error text, $5/$6 finished range, $7 limit. */
  const filtered = (extra = '') => `ARRAY(
    SELECT id FROM ${t.qualified} AS candidate
    WHERE status = ANY($1::text[])${extra}
      AND ($2::text IS NULL OR queue = $2)
      AND ($3::text IS NULL OR job_type = $3)
      AND ($4::text IS NULL OR strpos(last_error, $4) > 0)
      AND ($5::timestamptz IS NULL OR finished_at >= $5)
      AND ($6::timestamptz IS NULL OR finished_at < $6)
    ORDER BY id
    LIMIT $7
    FOR UPDATE SKIP LOCKED)`;
  /**
   * Back to pending now, with one more attempt when its budget is spent (as Oban's and
   * River's retry do): max_retries is raised to the attempts made so far when below them.
   * `attempts` itself never goes down (the attempt fence relies on it).
   */
  const requeue = `status = '${JobStatus.Pending}', run_at = now(), finished_at = NULL,
    locked_until = NULL, max_retries = GREATEST(job.max_retries, job.attempts)`;
  return {
    /**
     * $1 id, $2 channel: a pending job becomes cancelled; a running one too, and a cancel
     * message tells the instance running it. Returns the status found and whether it moved.
     */
    cancel: plannedPerCall(
      t,
      'cancel',
      `WITH ${target},
       changed AS (
         UPDATE ${t.qualified} AS job
         SET status = '${JobStatus.Cancelled}', finished_at = now(), locked_until = NULL
         FROM target
         WHERE job.id = target.id
           AND target.status IN ('${JobStatus.Pending}', '${JobStatus.Running}')
         RETURNING job.id, ${CANCEL_MESSAGE_SQL} AS message, target.status AS previous)
       SELECT target.status,
         (SELECT count(*) FROM changed) > 0 AS changed,
         (SELECT count(pg_notify($2, message)) FROM changed
          WHERE previous = '${JobStatus.Running}') AS notified
       FROM target`,
    ),
    /**
     * $1 id, $2 channel: a failed or cancelled job back to pending now, its queue woken;
     * `held_by`: the job holding its unique key, when that kept it where it was.
     */
    retry: plannedPerCall(
      t,
      'retry',
      `WITH ${target},
       held AS (${keyHolder('target', 'target, ')} LIMIT 1),
       changed AS (
         UPDATE ${t.qualified} AS job SET ${requeue}
         FROM target
         WHERE job.id = target.id
           AND target.status IN ('${JobStatus.Failed}', '${JobStatus.Cancelled}')
           AND NOT EXISTS (SELECT 1 FROM held)
         RETURNING job.queue)
       SELECT target.status, (SELECT count(pg_notify($2, queue)) FROM changed) > 0 AS changed,
         (SELECT id FROM held) AS held_by
       FROM target`,
    ),
    /** $1 id: deletes a job that is not running. */
    delete: plannedPerCall(
      t,
      'delete',
      `WITH ${target},
       changed AS (
         DELETE FROM ${t.qualified} AS job USING target
         WHERE job.id = target.id AND target.status <> '${JobStatus.Running}'
         RETURNING job.id)
       SELECT target.status, (SELECT count(*) FROM changed) > 0 AS changed FROM target`,
    ),
    /** $1 id, $2 channel: a pending job (scheduled or not) due now, its queue woken. */
    runNow: plannedPerCall(
      t,
      'run_now',
      `WITH ${target},
       changed AS (
         UPDATE ${t.qualified} AS job SET run_at = LEAST(job.run_at, now())
         FROM target
         WHERE job.id = target.id AND target.status = '${JobStatus.Pending}'
         RETURNING job.queue)
       SELECT target.status, (SELECT count(pg_notify($2, queue)) FROM changed) > 0 AS changed
       FROM target`,
    ),
    /**
     * $1-$7 the filter (statuses must be failed and/or cancelled), $8 channel: one batch of
     * redrive; returns the ids moved. Rows locked elsewhere are skipped (the next batch or
     * call takes them), and so are jobs whose unique key another job holds, or would hold
     * once this batch moved it (of several redriven jobs with one key, the oldest goes).
     */
    redriveBatch: plannedPerCall(
      t,
      'redrive',
      `WITH changed AS (
         UPDATE ${t.qualified} AS job SET ${requeue}
         WHERE job.id = ANY(${filtered(`
      AND NOT EXISTS (${keyHolder('candidate')})
      AND NOT EXISTS (SELECT 1 FROM ${t.qualified} AS twin
        WHERE candidate.unique_key IS NOT NULL AND twin.unique_key = candidate.unique_key
          AND twin.id < candidate.id AND twin.status = ANY($1::text[]))`)})
           AND job.status = ANY($1::text[])
         RETURNING job.id, job.queue)
       SELECT array_agg(id) AS ids,
         (SELECT count(pg_notify($8, queue)) FROM (SELECT DISTINCT queue FROM changed) AS woken) AS notified
       FROM changed`,
    ),
    /** $1-$7 the filter (statuses must not include running): one batch of deletes; returns the ids. */
    deleteBatch: plannedPerCall(
      t,
      'delete_many',
      `WITH changed AS (
         DELETE FROM ${t.qualified} AS job
         WHERE job.id = ANY(${filtered()}) AND job.status <> '${JobStatus.Running}'
         RETURNING job.id)
       SELECT array_agg(id) AS ids FROM changed`,
    ),
  };
};
