import type { JobsTable } from './jobs-table.js';

/**
 * A statement of the library. `prepared` ones have a stable name, so each pooled connection
 * parses and plans them once. Those that join an array parameter to the table are planned
 * per call instead: after five runs PostgreSQL switches a prepared statement to a generic
 * plan, which cannot know the array's size and, with statistics taken while few rows were
 * running, walked every running row for each id (a 2,000-id completion beside 2,000 running
 * rows took 692 ms instead of 13 ms). A plan per call costs about 0.1 ms per batch.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
  readonly prepared: boolean;
}

/** Columns an insert writes, in the order of the insert statements' parameters. */
const INSERT_COLUMNS =
  'id, queue, job_type, payload, max_retries, run_at, trace_id, retry_policy';

/** Every statement nest-jobs runs at run time (DDL lives in ./migrations). */
export interface JobsQueries {
  /** $1 id, $2 queue, $3 job_type, $4 payload json, $5 max_retries, $6 run_at|null, $7 delay ms|null, $8 trace_id, $9 retry_policy json|null */
  readonly insertOne: NamedStatement;
  /** insertOne of a job due now without trace id or retry policy: $1..$5 only, the rest are the column defaults. */
  readonly insertOneDueNow: NamedStatement;
  /** insertOne, then pg_notify($10 channel, queue): in a transaction it is delivered at commit. */
  readonly insertOneAndNotify: NamedStatement;
  /** The same nine columns, each as an array ($1..$9), inserted in one statement. */
  readonly insertMany: NamedStatement;
  /** insertMany, then one pg_notify($10 channel, queue) per distinct queue. */
  readonly insertManyAndNotify: NamedStatement;
  /** Rows that differ only in id ($1 uuid[] literal) and payload ($4 JSON array, in id order); the other seven are scalars. */
  readonly insertManyShared: NamedStatement;
  /** insertManyShared, then pg_notify($10 channel, $2 queue). */
  readonly insertManySharedAndNotify: NamedStatement;
  /**
   * $1 queue, $2 limit, $3 lease ms: claims due pending jobs in run_at order, skipping locked
   * rows. Returns only what the worker cannot know (not the queue it asked for), and the
   * creation time as float8 epoch milliseconds (date_part: extract() would compute numeric).
   */
  readonly claim: NamedStatement;
  /** $1 ids, $2 attempts: completes the attempts that still hold their claim. */
  readonly complete: NamedStatement;
  /** complete for `retention.completedMs: 0`: deletes the rows instead of keeping them. */
  readonly completeByDeleting: NamedStatement;
  /** $1 ids, $2 attempts, $3 errors, $4 retry delays in ms (null: failed for good). */
  readonly fail: NamedStatement;
  /** $1 ids, $2 attempts, $3 lease ms: renews leases; returns the (id, attempts) still held. */
  readonly heartbeat: NamedStatement;
  /** $1 ids, $2 attempts, $3 reason: returns interrupted attempts to pending at once. */
  readonly release: NamedStatement;
  /** $1 limit: rescues running jobs whose lease expired. */
  readonly recoverExpired: NamedStatement;
  /** $1 channel, $2 queues: one notification per queue. */
  readonly notify: NamedStatement;
  /** $1 status, $2 age in ms, $3 limit: deletes finished rows older than the retention. */
  readonly deleteFinished: NamedStatement;
  /** $1 qualified table name, $2 schema, $3 table, $4 qualified finished index: what start-up checks. */
  readonly tableState: NamedStatement;
}

export function buildJobsQueries(jobs: JobsTable): JobsQueries {
  const t = jobs.qualified;
  const named = (
    name: string,
    text: string,
    prepared = true,
  ): NamedStatement => ({
    name: `${jobs.statementPrefix}_${name}`,
    // The tag names the statement in pg_stat_activity and pg_stat_statements, prepared or not.
    text: `/* nest-jobs:${name} */ ${text.replace(/\s+/g, ' ').trim()}`,
    prepared,
  });
  const plannedPerCall = (name: string, text: string) =>
    named(name, text, false);
  // run_at: an explicit time wins; else now() plus the delay, computed on the database clock.
  const runAt = (at: string, delay: string) =>
    `COALESCE(${at}::timestamptz, now() + COALESCE(${delay}::bigint, 0) * interval '1 millisecond')`;

  const insertOneSql = `
    INSERT INTO ${t} (${INSERT_COLUMNS})
    VALUES ($1::uuid, $2, $3, $4::jsonb, $5::int, ${runAt('$6', '$7')}, $8, $9::jsonb)`;
  const insertManySql = `
    INSERT INTO ${t} (${INSERT_COLUMNS})
    SELECT id, queue, job_type, payload::jsonb, max_retries, ${runAt('run_at', 'delay_ms')}, trace_id, retry_policy::jsonb
    FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::text[], $5::int[], $6::timestamptz[],
                $7::bigint[], $8::varchar[], $9::text[])
      AS input(id, queue, job_type, payload, max_retries, run_at, delay_ms, trace_id, retry_policy)`;
  // enqueueMany of one handler with one set of options: the ids as one array literal and
  // the payloads as one JSON array, scalars for the rest. Against nine arrays this saves
  // PostgreSQL about a sixth of the insert and the driver its per-element array escaping.
  // The n-th payload takes the n-th id by subscript (constant time for a uuid array), not
  // by joining two numbered sets.
  const insertManySharedSql = `
    INSERT INTO ${t} (${INSERT_COLUMNS})
    SELECT ($1::uuid[])[payloads.n], $2::varchar, $3::varchar, payloads.payload, $5::int, ${runAt('$6', '$7')}, $8::varchar, $9::jsonb
    FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS payloads(payload, n)`;

  return {
    insertOne: named('insert_one', insertOneSql),
    // The usual enqueue: five parameters instead of nine and no run_at expression, which
    // saves the driver and the server a little on every single insert.
    insertOneDueNow: named(
      'insert_one_due_now',
      `INSERT INTO ${t} (id, queue, job_type, payload, max_retries)
       VALUES ($1::uuid, $2, $3, $4::jsonb, $5::int)`,
    ),
    insertOneAndNotify: named(
      'insert_one_notify',
      `WITH inserted AS (${insertOneSql} RETURNING queue)
       SELECT pg_notify($10, inserted.queue) FROM inserted`,
    ),
    insertMany: named('insert_many', insertManySql),
    insertManyAndNotify: named(
      'insert_many_notify',
      `WITH inserted AS (${insertManySql} RETURNING queue)
       SELECT pg_notify($10, queue) FROM (SELECT DISTINCT queue FROM inserted) AS queues`,
    ),
    // `id = ANY(ARRAY(subquery))`, not `UPDATE ... FROM (subquery)`: with FROM the planner
    // may hash-join the candidates to a scan of the whole table (it did at 40k rows, custom
    // and generic plan alike); this form always updates through the primary key, so it
    // stays prepared.
    insertManyShared: named('insert_many_shared', insertManySharedSql),
    insertManySharedAndNotify: named(
      'insert_many_shared_notify',
      `WITH inserted AS (${insertManySharedSql} RETURNING 1)
       SELECT pg_notify($10, $2::text) WHERE EXISTS (SELECT 1 FROM inserted)`,
    ),
    claim: named(
      'claim',
      `UPDATE ${t} AS job
       SET status = 'running', attempts = job.attempts + 1, started_at = now(),
           locked_until = now() + $3::bigint * interval '1 millisecond'
       WHERE job.id = ANY(ARRAY(
         SELECT id FROM ${t}
         WHERE status = 'pending' AND queue = $1 AND run_at <= now()
         ORDER BY run_at
         LIMIT $2
         FOR UPDATE SKIP LOCKED))
       RETURNING job.id, job.job_type AS "jobType", job.payload::text AS payload,
                 job.attempts AS attempt, job.max_retries AS "maxRetries",
                 job.retry_policy::text AS "retryPolicy", job.trace_id AS "traceId",
                 date_part('epoch', job.created_at) * 1000 AS "createdAtMs"`,
    ),
    complete: plannedPerCall(
      'complete',
      `UPDATE ${t} AS job
       SET status = 'completed', finished_at = now(), locked_until = NULL
       FROM unnest($1::uuid[], $2::int[]) AS done(id, attempt)
       WHERE job.id = done.id AND job.attempts = done.attempt AND job.status = 'running'`,
    ),
    // No history wanted: deleting costs PostgreSQL about a quarter less than the update
    // (no new row version, no finished_at index entry) and spares the janitor the row.
    completeByDeleting: plannedPerCall(
      'complete',
      `DELETE FROM ${t} AS job
       USING unnest($1::uuid[], $2::int[]) AS done(id, attempt)
       WHERE job.id = done.id AND job.attempts = done.attempt AND job.status = 'running'`,
    ),
    fail: plannedPerCall(
      'fail',
      `UPDATE ${t} AS job
       SET status = CASE WHEN failure.retry_in_ms IS NULL THEN 'failed' ELSE 'pending' END,
           run_at = CASE WHEN failure.retry_in_ms IS NULL THEN job.run_at
                         ELSE now() + failure.retry_in_ms * interval '1 millisecond' END,
           finished_at = CASE WHEN failure.retry_in_ms IS NULL THEN now() ELSE NULL END,
           locked_until = NULL,
           last_error = failure.error
       FROM unnest($1::uuid[], $2::int[], $3::text[], $4::bigint[]) AS failure(id, attempt, error, retry_in_ms)
       WHERE job.id = failure.id AND job.attempts = failure.attempt AND job.status = 'running'`,
    ),
    heartbeat: plannedPerCall(
      'heartbeat',
      `UPDATE ${t} AS job
       SET locked_until = now() + $3::bigint * interval '1 millisecond'
       FROM unnest($1::uuid[], $2::int[]) AS held(id, attempt)
       WHERE job.id = held.id AND job.attempts = held.attempt AND job.status = 'running'
       RETURNING job.id, job.attempts`,
    ),
    release: plannedPerCall(
      'release',
      `UPDATE ${t} AS job
       SET status = 'pending', run_at = now(), locked_until = NULL, last_error = $3
       FROM unnest($1::uuid[], $2::int[]) AS interrupted(id, attempt)
       WHERE job.id = interrupted.id AND job.attempts = interrupted.attempt AND job.status = 'running'`,
    ),
    recoverExpired: named(
      'recover_expired',
      `UPDATE ${t} AS job
       SET status = CASE WHEN job.attempts > job.max_retries THEN 'failed' ELSE 'pending' END,
           finished_at = CASE WHEN job.attempts > job.max_retries THEN now() ELSE NULL END,
           run_at = now(),
           locked_until = NULL,
           last_error = 'Lease expired while attempt ' || job.attempts ||
             ' was running (its worker stopped or lost its database connection); last lease ended at ' ||
             to_char(job.locked_until AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')
       WHERE job.id = ANY(ARRAY(
         SELECT id FROM ${t}
         WHERE status = 'running' AND locked_until < now()
         ORDER BY locked_until
         LIMIT $1
         FOR UPDATE SKIP LOCKED))
       RETURNING job.id, job.job_type, job.status, job.attempts`,
    ),
    notify: named(
      'notify',
      `SELECT pg_notify($1, queue) FROM unnest($2::text[]) AS queue`,
    ),
    // status IN (...) implies the finished index's predicate, which status = $1 alone
    // cannot prove to a generic plan.
    deleteFinished: named(
      'delete_finished',
      `DELETE FROM ${t}
       WHERE id = ANY(ARRAY(
         SELECT id FROM ${t}
         WHERE status = $1 AND status IN ('completed', 'failed')
           AND finished_at < now() - $2::bigint * interval '1 millisecond'
         ORDER BY finished_at
         LIMIT $3
         FOR UPDATE SKIP LOCKED))`,
    ),
    tableState: named(
      'table_state',
      `SELECT to_regclass($1) IS NOT NULL AS table_exists,
              EXISTS (SELECT 1 FROM information_schema.columns
                      WHERE table_schema = $2 AND table_name = $3 AND column_name = 'retry_policy') AS has_retry_policy,
              to_regclass($4) IS NOT NULL AS has_finished_index`,
    ),
  };
}
