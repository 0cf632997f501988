import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/**
 * The queues table (one row per queue an operator acted on). Pause and resume notify the
 * workers in the same statement: inside a caller's transaction the notification is
 * delivered at its commit, and not at all after a rollback.
 */
export const queueQueries = (t: JobsTable) => ({
  /**
   * $1 queue, $2 channel, $3 notification: pauses the queue; returns one row when it was
   * not paused before (and only then notifies).
   */
  pauseQueue: named(
    t,
    'pause_queue',
    `WITH changed AS (
       INSERT INTO ${t.queuesQualified} AS q (name, paused_at, updated_at)
       VALUES ($1, now(), now())
       ON CONFLICT (name) DO UPDATE SET paused_at = now(), updated_at = now()
       WHERE q.paused_at IS NULL
       RETURNING q.name)
     SELECT pg_notify($2, $3) FROM changed`,
  ),
  /**
   * $1 queue, $2 channel, $3 notification: resumes the queue; returns one row when it was
   * paused (and only then notifies).
   */
  resumeQueue: named(
    t,
    'resume_queue',
    `WITH changed AS (
       UPDATE ${t.queuesQualified} SET paused_at = NULL, updated_at = now()
       WHERE name = $1 AND paused_at IS NOT NULL
       RETURNING name)
     SELECT pg_notify($2, $3) FROM changed`,
  ),
  /**
   * The queues with pending jobs, by name: a loose scan of the claim index (one descent per
   * queue), what a worker with queue patterns reads once per poll interval.
   */
  pendingQueues: named(
    t,
    'pending_queues',
    `WITH RECURSIVE queues AS (
       (SELECT queue FROM ${t.qualified} WHERE status = '${JobStatus.Pending}' ORDER BY queue LIMIT 1)
       UNION ALL
       SELECT (SELECT queue FROM ${t.qualified}
               WHERE status = '${JobStatus.Pending}' AND queue > q.queue ORDER BY queue LIMIT 1)
       FROM queues q WHERE q.queue IS NOT NULL)
     SELECT queue FROM queues WHERE queue IS NOT NULL`,
  ),
  /**
   * The paused queues and since when (epoch milliseconds). A few rows at most: what every
   * worker reads once per poll interval, so that a pause holds without LISTEN.
   */
  pausedQueues: named(
    t,
    'paused_queues',
    `SELECT name AS queue, date_part('epoch', paused_at) * 1000 AS "pausedAtMs"
     FROM ${t.queuesQualified} WHERE paused_at IS NOT NULL ORDER BY name`,
  ),
});
