import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { named, plannedPerCall } from './named-statement.js';

/**
 * What the reader returns of a job: each property and the column it comes from. The ONE
 * list of returned columns: a migration that adds a column a reader should see adds it here
 * (and to JobView, which the compiler holds to this list). The driver gives each property
 * its type as it is (jsonb parsed, timestamptz a Date, integer a number).
 */
export const JOB_VIEW_COLUMNS = {
  id: 'id',
  queue: 'queue',
  name: 'job_type',
  status: 'status',
  payload: 'payload',
  attempts: 'attempts',
  releases: 'releases',
  maxRetries: 'max_retries',
  runAt: 'run_at',
  startedAt: 'started_at',
  lockedUntil: 'locked_until',
  finishedAt: 'finished_at',
  lastError: 'last_error',
  traceId: 'trace_id',
  retryPolicy: 'retry_policy',
  createdAt: 'created_at',
  checkpoint: 'checkpoint',
} as const;

/** The columns of a JobView, as a select list. */
export const JOB_VIEW_SELECT_LIST = Object.entries(JOB_VIEW_COLUMNS)
  .map(([property, column]) => `${column} AS "${property}"`)
  .join(', ');

/** The reader's statements: one job, pages of jobs, counts and per-queue figures. */
export const jobReadQueries = (t: JobsTable) => ({
  /** $1 id. */
  readJob: named(
    t,
    'read_job',
    `SELECT ${JOB_VIEW_SELECT_LIST} FROM ${t.qualified} WHERE id = $1`,
  ),
  /**
   * $1 status, $2 queue, $3 job name, $4 created from (inclusive), $5 created before, $6
   * cursor (the last id of the previous page), $7 limit; a null filter matches every row.
   * Keyset pagination on the primary key, newest id first: a page is an index walk from the
   * cursor whatever the table's size, and rows inserted meanwhile never shift a later page.
   * Planned per call, so each call's plan sees which filters are null.
   */
  listJobs: plannedPerCall(
    t,
    'list_jobs',
    `SELECT ${JOB_VIEW_SELECT_LIST} FROM ${t.qualified}
     WHERE ($1::text IS NULL OR status = $1)
       AND ($2::text IS NULL OR queue = $2)
       AND ($3::text IS NULL OR job_type = $3)
       AND ($4::timestamptz IS NULL OR created_at >= $4)
       AND ($5::timestamptz IS NULL OR created_at < $5)
       AND ($6::uuid IS NULL OR id < $6)
     ORDER BY id DESC
     LIMIT $7`,
  ),
  /**
   * The table's size in pages (pg_relation_size: current, unlike pg_class.reltuples, which
   * only VACUUM and ANALYZE update, and autovacuum may be off). Decides between exact and
   * sampled counts.
   */
  tablePages: named(
    t,
    'table_pages',
    `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint AS pages`,
  ),
  /** Exact rows per queue and state: a scan of the whole table (small tables only). */
  exactCounts: named(
    t,
    'exact_counts',
    `SELECT queue, status, count(*)::float8 AS count FROM ${t.qualified} GROUP BY queue, status`,
  ),
  /**
   * $1 percent of the table's pages: rows per queue and state estimated from a block sample
   * (TABLESAMPLE SYSTEM reads only those pages), scaled up; running rows are counted exactly
   * (their partial index holds few rows).
   */
  sampledCounts: plannedPerCall(
    t,
    'sampled_counts',
    `SELECT queue, status, count(*) * (100 / $1::float8) AS count
     FROM ${t.qualified} TABLESAMPLE SYSTEM ($1)
     WHERE status <> '${JobStatus.Running}'
     GROUP BY queue, status
     UNION ALL
     SELECT queue, status, count(*)::float8 FROM ${t.qualified}
     WHERE status = '${JobStatus.Running}' GROUP BY queue, status`,
  ),
  /**
   * Per queue that has pending or running jobs, or a row in the queues table: the age of
   * its oldest due pending job (ms; null when none is due), how many run, and whether it is
   * paused. The queues with pending jobs are found by a loose index scan of the pending
   * index (one descent per queue, not a read of every pending row). Each queue's oldest due
   * job: the claim index orders a queue's entries by priority first, so the oldest is the
   * earliest of each priority level's first entry; a second loose scan steps from level to
   * level (one descent each, carrying that level's earliest run_at), instead of reading
   * every due entry of the queue (250,000 entries, 45 ms per queue at 1,000,000 rows).
   */
  queueStats: named(
    t,
    'queue_stats',
    `WITH RECURSIVE pending_queues AS (
       (SELECT queue FROM ${t.qualified} WHERE status = '${JobStatus.Pending}' ORDER BY queue LIMIT 1)
       UNION ALL
       SELECT (SELECT queue FROM ${t.qualified}
               WHERE status = '${JobStatus.Pending}' AND queue > p.queue ORDER BY queue LIMIT 1)
       FROM pending_queues p WHERE p.queue IS NOT NULL),
     running AS (
       SELECT queue, count(*)::int AS running FROM ${t.qualified}
       WHERE status = '${JobStatus.Running}' GROUP BY queue),
     queues AS (
       SELECT queue FROM pending_queues WHERE queue IS NOT NULL
       UNION SELECT queue FROM running
       UNION SELECT name FROM ${t.queuesQualified})
     SELECT q.queue,
            (WITH RECURSIVE levels AS (
               (SELECT priority, run_at FROM ${t.qualified}
                WHERE status = '${JobStatus.Pending}' AND queue = q.queue
                ORDER BY priority DESC, run_at LIMIT 1)
               UNION ALL
               SELECT next.priority, next.run_at FROM levels l,
                 LATERAL (SELECT priority, run_at FROM ${t.qualified}
                          WHERE status = '${JobStatus.Pending}' AND queue = q.queue AND priority < l.priority
                          ORDER BY priority DESC, run_at LIMIT 1) next)
             SELECT date_part('epoch', now() - min(run_at)) * 1000 FROM levels WHERE run_at <= now())
              AS "oldestDueAgeMs",
            coalesce(r.running, 0) AS running,
            date_part('epoch', s.paused_at) * 1000 AS "pausedAtMs"
     FROM queues q
     LEFT JOIN running r ON r.queue = q.queue
     LEFT JOIN ${t.queuesQualified} s ON s.name = q.queue
     ORDER BY q.queue`,
  ),
});
