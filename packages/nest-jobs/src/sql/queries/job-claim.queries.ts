import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named, statementElapsedMs } from './named-statement.js';
import { claimStartedAt } from './start-clock.js';

/**
 * What a claim returns of each job: only what the worker cannot know (not the queue it
 * asked for), and the creation time as float8 epoch milliseconds (date_part: extract()
 * would compute numeric).
 *
 * `statementMs`: how long the statement had run on the server when this row was returned
 * (statementElapsedMs is read per row; the last row's is the statement's own time, before
 * its commit). The worker sizes its claims by it (ClaimSizer): the time node sees also holds
 * the round trip, the commit's WAL flush and its own event loop's delays, which grow with
 * everything else the machine does, not with the rows claimed (issue 25, point 6).
 */
export const CLAIM_RETURNING = `job.id, job.job_type AS "jobType", job.payload::text AS payload,
               job.attempts AS attempt, job.releases, job.max_retries AS "maxRetries",
               job.retry_policy::text AS "retryPolicy", job.trace_id AS "traceId",
               date_part('epoch', job.created_at) * 1000 AS "createdAtMs",
               job.checkpoint::text AS checkpoint, job.payload_bytes AS "payloadBytes",
               ${statementElapsedMs} AS "statementMs"`;

/** Claiming: due pending jobs become running attempts of this worker. */
export const jobClaimQueries = (t: JobsTable) => ({
  /**
   * $1 queue, $2 limit, $3 lease ms: claims due pending jobs, highest priority first, then in
   * run_at order, skipping locked rows. Returns only what the worker cannot know (not the
   * queue it asked for), and the creation time as float8 epoch milliseconds (date_part:
   * extract() would compute numeric).
   *
   * Level by level of the claim index `(queue, priority DESC, run_at)` (migration 5): the
   * queue's priority levels come from a loose scan (one descent each, only as far as the
   * claim needs), and each level is an index range `priority = level AND run_at <= now()`
   * that ends at its first job not due yet. One walk in `ORDER BY priority DESC, run_at`
   * cannot end there (PostgreSQL 15 has no skip scan): a claim that found fewer due jobs
   * than its limit, the usual claim of an idle worker, read every scheduled job of the
   * queue (200,000 scheduled jobs: 32 ms per claim, against 0.4 ms level by level). The
   * nested loop over the levels in descending order yields the jobs in claim order, and
   * locks a row only as the outer LIMIT takes it.
   *
   * `id = ANY(ARRAY(subquery))`, not `UPDATE ... FROM (subquery)`: with FROM the planner
   * may hash-join the candidates to a scan of the whole table (it did at 40k rows, custom
   * and generic plan alike).
   *
   * Planned per call, not prepared: on a table of a few pages a sequential scan is the
   * cheapest way to reach the claimed rows, and a prepared statement's generic plan, made
   * after its fifth run, is kept until the table's statistics change. With autovacuum off
   * (or before its first ANALYZE) a worker that started on an empty table kept that plan
   * for good, and every claim read the whole table: at 4,000 jobs/s offered, 24 buffers and
   * 400 µs of PostgreSQL time per claimed row against 12 µs for the hand-written queue
   * (issue 25). A plan per call sees the table's current size (about 0.1-0.3 ms per claim,
   * not per row). test/e2e/sql/claim-plan.e2e-spec.ts pins it.
   */
  claim: named(
    t,
    'claim',
    `WITH RECURSIVE levels AS (
       (SELECT priority FROM ${t.qualified}
        WHERE status = '${JobStatus.Pending}' AND queue = $1
        ORDER BY priority DESC LIMIT 1)
       UNION ALL
       SELECT (SELECT priority FROM ${t.qualified}
               WHERE status = '${JobStatus.Pending}' AND queue = $1 AND priority < l.priority
               ORDER BY priority DESC LIMIT 1)
       FROM levels l WHERE l.priority IS NOT NULL)
     UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Running}', attempts = job.attempts + 1,
         started_at = ${claimStartedAt(t, 4)},
         locked_until = now() + $3::bigint * interval '1 millisecond'
     WHERE job.id = ANY(ARRAY(
       SELECT due.id FROM levels l CROSS JOIN LATERAL (
         SELECT id FROM ${t.qualified}
         WHERE status = '${JobStatus.Pending}' AND queue = $1 AND priority = l.priority
           AND run_at <= now()
         ORDER BY run_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED) due
       WHERE l.priority IS NOT NULL
       LIMIT $2))
     RETURNING ${CLAIM_RETURNING}`,
    false,
  ),
});
