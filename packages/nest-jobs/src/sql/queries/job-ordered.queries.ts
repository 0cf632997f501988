import { JobStatus } from '../../enums/job-status.enum.js';
import type { JobsTable } from '../jobs-table.js';
import { CLAIM_RETURNING } from './job-claim.queries.js';
import { named } from './named-statement.js';
import { claimStartedAt, startClock } from './start-clock.js';

/** run_at: an explicit time wins; else now() plus the delay, computed on the database clock. */
const runAt = (at: string, delay: string) =>
  `COALESCE(${at}::timestamptz, now() + COALESCE(${delay}::bigint, 0) * interval '1 millisecond')`;

/**
 * The keys of a queue with pending jobs matching `pending` (which names the queue as $1),
 * as the CTE `keys`: first those after $5 in key order, then from the first up to $5 (round
 * robin across claims). A loose scan, one descent per key, read lazily by the claim.
 */
const keyWalk = (t: JobsTable, pending: string) => `
  after_cursor AS (
    (SELECT ordering_key FROM ${t.qualified} WHERE ${pending} AND ordering_key > $5::text
     ORDER BY ordering_key LIMIT 1)
    UNION ALL
    SELECT (SELECT ordering_key FROM ${t.qualified} WHERE ${pending} AND ordering_key > k.ordering_key
            ORDER BY ordering_key LIMIT 1)
    FROM after_cursor k WHERE k.ordering_key IS NOT NULL),
  up_to_cursor AS (
    (SELECT ordering_key FROM ${t.qualified} WHERE ${pending}
     ORDER BY ordering_key LIMIT 1)
    UNION ALL
    SELECT (SELECT ordering_key FROM ${t.qualified} WHERE ${pending} AND ordering_key > k.ordering_key
              AND ordering_key <= $5::text
            ORDER BY ordering_key LIMIT 1)
    FROM up_to_cursor k WHERE k.ordering_key IS NOT NULL),
  keys AS (
    SELECT ordering_key FROM after_cursor WHERE ordering_key IS NOT NULL
    UNION ALL
    SELECT ordering_key FROM up_to_cursor WHERE ordering_key <= $5::text)`;

/**
 * How many starts of the key `key` (an SQL expression) the queue $1 had in the last `period`
 * ms (a parameter), as a scalar subquery: one descent of `<table>_starts_key_idx`.
 */
const keyStarts = (t: JobsTable, key: string, period: string) => `
  (SELECT count(*)::int FROM ${t.startsQualified} s
   WHERE s.queue = $1 AND s.ordering_key = ${key}
     AND s.started_at > ${startClock(t)} - ${period}::bigint * interval '1 millisecond')`;

/**
 * The claim of a keyed queue (claimKeyLimited below), `share` the SQL of the most jobs one
 * key `k` may take in this claim besides its room.
 */
const claimKeyLimitedSql = (t: JobsTable, keyLimited: string, share: string) =>
  `WITH RECURSIVE ${keyWalk(t, `status = '${JobStatus.Pending}' AND queue = $1 AND ${keyLimited}`)},
   picks AS (
     SELECT due.id FROM keys k
     CROSS JOIN LATERAL (
       SELECT CASE WHEN $4::int IS NULL THEN 0 ELSE (
         SELECT count(*)::int FROM ${t.qualified} r
         WHERE r.status = '${JobStatus.Running}' AND r.queue = $1 AND r.ordering_key = k.ordering_key
           AND r.order_seq IS NULL) END AS n) running
     CROSS JOIN LATERAL (
       SELECT CASE WHEN $6::int IS NULL THEN 0
                   ELSE ${keyStarts(t, 'k.ordering_key', '$7')} END AS n) started
     CROSS JOIN LATERAL (
       SELECT id FROM ${t.qualified}
       WHERE status = '${JobStatus.Pending}' AND queue = $1 AND ordering_key = k.ordering_key
         AND order_seq IS NULL AND run_at <= now()
       ORDER BY run_at
       LIMIT GREATEST(LEAST(COALESCE($4::int - running.n, $2::int), COALESCE($6::int - started.n, $2::int),
                            ${share}), 0)
       FOR UPDATE SKIP LOCKED) due)
     UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Running}', attempts = job.attempts + 1, started_at = ${claimStartedAt(t, 9)},
     locked_until = now() + $3::bigint * interval '1 millisecond'
     WHERE job.id = ANY(ARRAY(SELECT id FROM picks LIMIT $2))
     RETURNING ${CLAIM_RETURNING}, job.ordering_key AS "orderingKey"`;

/**
 * Ordered queues (migration 11): the insert that gives each keyed job its place in its key's
 * order, the claim that takes only the first job of each key, and the reader's blocked keys.
 * Used only for queues declared ordered: every other queue keeps the plain statements.
 */
export const jobOrderedQueries = (t: JobsTable) => {
  // The place comes from one sequence, in the order of the arrays (unnest yields its rows
  // in order, and nothing sorts them before the target list is computed), so a batch keeps
  // its order and two instances with different clocks still agree on it.
  const insertOrderedSql = `
    INSERT INTO ${t.qualified} (id, queue, job_type, payload, max_retries, run_at, trace_id, retry_policy,
                                priority, ordering_key, order_seq)
    SELECT id, queue, job_type, payload::jsonb, max_retries, ${runAt('run_at', 'delay_ms')}, trace_id, retry_policy::jsonb,
           priority, ordering_key,
           CASE WHEN ordering_key IS NOT NULL AND sequenced THEN nextval('${t.orderSequenceQualified}'::regclass) END
    FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::text[], $5::int[], $6::timestamptz[],
                $7::bigint[], $8::varchar[], $9::text[], $10::smallint[], $11::text[], $12::boolean[])
      AS input(id, queue, job_type, payload, max_retries, run_at, delay_ms, trace_id, retry_policy,
               priority, ordering_key, sequenced)`;
  const ordered = `ordering_key IS NOT NULL AND order_seq IS NOT NULL`;
  const pending = `status = '${JobStatus.Pending}' AND queue = $1 AND ${ordered}`;
  const keyLimited = `ordering_key IS NOT NULL AND order_seq IS NULL`;
  return {
    /**
     * insertMany's nine arrays plus $10 priority smallint[], $11 ordering_key text[] (null:
     * no key) and $12 sequenced boolean[]: a keyed row of an ordered queue takes the next
     * place of the order sequence, one of a key-limited queue none.
     */
    insertOrdered: named(t, 'insert_ordered', insertOrderedSql),
    /** insertOrdered, then one pg_notify($13 channel, queue) per distinct queue. */
    insertOrderedAndNotify: named(
      t,
      'insert_ordered_notify',
      `WITH inserted AS (${insertOrderedSql} RETURNING queue)
       SELECT pg_notify($13, queue) FROM (SELECT DISTINCT queue FROM inserted) AS queues`,
    ),
    /**
     * $1 queue, $2 limit, $3 lease ms, $4 block on failure, $5 the key to start after ('':
     * the first), $6 starts allowed per key in a period (null: no limit), $7 that period in
     * ms: claims at most one job per key of an ordered queue, the key's first pending job
     * (lowest order_seq), and only when it is due, no job of the key is running, (with $4)
     * none failed for good ahead of it and (with $6) the key's starts of the period leave
     * room (counted on `<table>_starts_key_idx`; sent with $6 only under the queue's lock).
     *
     * The keys are walked round robin: those after $5 in key order, then from the first key
     * up to $5 (the worker passes the last key its previous claim took), each key offering
     * one job, so a key with a long backlog gets no more turns than a key with one job. The
     * walk is a loose scan of `<table>_ordered_idx` (one descent per key with a pending
     * job, plus one each for its first job, its running job and its failed jobs), read
     * lazily: it stops once `$2` jobs are locked, so a claim costs its batch and the keys it
     * passes over (running, not due, blocked), not every key of the queue. First jobs are
     * locked with SKIP LOCKED one by one (a first job locked by another claim is that
     * claim's; the next job of its key is never taken instead). The unique index
     * `<table>_key_running_idx` guarantees one running job per key even when two claims
     * read the table at different moments: the later one fails with 23505, and the
     * repository claims again.
     */
    claimOrdered: named(
      t,
      'claim_ordered',
      `WITH RECURSIVE ${keyWalk(t, pending)},
       heads AS (
         SELECT head.id FROM keys k CROSS JOIN LATERAL (
           SELECT id, run_at, order_seq FROM ${t.qualified}
           WHERE ${pending} AND ordering_key = k.ordering_key
           ORDER BY order_seq LIMIT 1) head
         WHERE head.run_at <= now()
           AND NOT EXISTS (SELECT 1 FROM ${t.qualified} r
                           WHERE r.status = '${JobStatus.Running}' AND r.queue = $1
                             AND r.ordering_key = k.ordering_key AND r.order_seq IS NOT NULL)
           AND NOT ($4::boolean AND EXISTS (
                 SELECT 1 FROM ${t.qualified} f
                 WHERE f.status = '${JobStatus.Failed}' AND f.queue = $1
                   AND f.ordering_key = k.ordering_key AND f.order_seq IS NOT NULL
                   AND f.order_seq < head.order_seq))
           AND ($6::int IS NULL OR ${keyStarts(t, 'k.ordering_key', '$7')} < $6::int))
     UPDATE ${t.qualified} AS job
     SET status = '${JobStatus.Running}', attempts = job.attempts + 1, started_at = ${claimStartedAt(t, 8)},
         locked_until = now() + $3::bigint * interval '1 millisecond'
     WHERE job.id = ANY(ARRAY(
       SELECT locked.id FROM heads h CROSS JOIN LATERAL (
         SELECT id FROM ${t.qualified} WHERE id = h.id AND status = '${JobStatus.Pending}'
         FOR UPDATE SKIP LOCKED) locked
       LIMIT $2))
     RETURNING ${CLAIM_RETURNING}, job.ordering_key AS "orderingKey"`,
    ),
    /**
     * $1 queue, $2 limit, $3 lease ms, $4 running jobs allowed per key (null: no limit), $5
     * the key to start after, $6 starts allowed per key in a period (null: no limit), $7 that
     * period in ms, $8 jobs one key may take in this claim (null: its room): claims due jobs
     * of a keyed queue (`fair`, `keyConcurrency`, `keyRateLimit`), keys walked round robin
     * from the one after $5 like claimOrdered (a loose scan of `<table>_keylim_idx`), each
     * key's due jobs in run_at order up to its room, until `$2` are locked. A key's room is
     * the least of $4 minus its running jobs (counted on `<table>_keylim_run_idx`), $6 minus
     * its starts of the period (on `<table>_starts_key_idx`) and $8; a key without room is
     * passed over, so a flooded or rate-limited key never holds back the keys after it. The
     * counts are read only when their limit is given (a CASE runs its subquery lazily). With
     * $4 or $6 the statement is sent only in the queue's claim transaction, after its lock
     * (lockQueueClaims): no other claim of the queue runs meanwhile, so the counts are exact.
     */
    claimKeyLimited: named(
      t,
      'claim_key_limited',
      claimKeyLimitedSql(t, keyLimited, `COALESCE($8::int, $2::int)`),
    ),
    /**
     * claimKeyLimited for a queue with weights per key (`fair: { weights }`), plus $10 the
     * weights (jsonb: key -> integer) and $11 the weight of a key without one: a key takes at
     * most $8 times its weight in this claim (null: its room), so a walk gives each key as
     * many turns as its weight. A separate statement: a queue without weights keeps the one
     * above, unchanged. One jsonb lookup per key walked.
     */
    claimKeyWeighted: named(
      t,
      'claim_key_weighted',
      claimKeyLimitedSql(
        t,
        keyLimited,
        `COALESCE($8::int * COALESCE(($10::jsonb ->> k.ordering_key)::int, $11::int), $2::int)`,
      ),
    ),
    /**
     * $1 lock class (the table's name), $2 queue: waits for, then holds until the end of the
     * transaction, the lock that serialises the claims of a queue with a cluster-wide limit.
     * Only a statement sent after it returned sees every claim committed before.
     */
    lockQueueClaims: named(
      t,
      'lock_queue_claims',
      `SELECT pg_advisory_xact_lock(hashtext($1::text), hashtext($2::text))`,
    ),
    /**
     * $1 queue, $2 period ms: how many jobs of the rate-limited queue were claimed within the
     * period (on the start clock, see start-clock.ts), and in how many milliseconds the oldest of them
     * leaves it (null: none).
     */
    startsInPeriod: named(
      t,
      'starts_in_period',
      `SELECT count(s.queue)::int AS started,
              date_part('epoch', min(s.started_at) + $2::bigint * interval '1 millisecond' - clock.at) * 1000
                AS "reopensInMs"
       FROM (SELECT ${startClock(t)} AS at) clock
       LEFT JOIN ${t.startsQualified} s
         ON s.queue = $1 AND s.started_at > clock.at - $2::bigint * interval '1 millisecond'
       GROUP BY clock.at`,
    ),
    /**
     * $1 queue, $2 the keys of the jobs claimed, one per job (null: a job without a key),
     * $3 ms to keep: records the claims of a rate-limited queue (at the start clock's time)
     * and forgets those older than $3 (the longest of the queue's periods).
     */
    recordStarts: named(
      t,
      'record_starts',
      `WITH pruned AS (
         DELETE FROM ${t.startsQualified}
         WHERE queue = $1 AND started_at <= now() - $3::bigint * interval '1 millisecond')
       INSERT INTO ${t.startsQualified} (queue, ordering_key, started_at)
       SELECT $1, key, ${startClock(t)} FROM unnest($2::text[]) AS key`,
    ),
    /**
     * $1 queue, $2 starts allowed per key, $3 period ms, $4 ordered: in how many
     * milliseconds the first of the queue's keys that spent its window and still has a
     * pending job gets room again (its oldest start of the period leaves it; null: no such
     * key). Read after a claim that found less than it asked for, so the worker claims again
     * then rather than at its next poll.
     */
    keyRateReopens: named(
      t,
      'key_rate_reopens',
      `SELECT date_part('epoch', min(s.oldest) + $3::bigint * interval '1 millisecond' - ${startClock(t)}) * 1000
                AS "reopensInMs"
       FROM (SELECT ordering_key, min(started_at) AS oldest FROM ${t.startsQualified}
             WHERE queue = $1 AND ordering_key IS NOT NULL
               AND started_at > ${startClock(t)} - $3::bigint * interval '1 millisecond'
             GROUP BY ordering_key HAVING count(*) >= $2::int) s
       WHERE CASE WHEN $4::boolean
         THEN EXISTS (SELECT 1 FROM ${t.qualified} p
                      WHERE p.status = '${JobStatus.Pending}' AND p.queue = $1
                        AND p.ordering_key = s.ordering_key AND p.order_seq IS NOT NULL)
         ELSE EXISTS (SELECT 1 FROM ${t.qualified} p
                      WHERE p.status = '${JobStatus.Pending}' AND p.queue = $1
                        AND p.ordering_key = s.ordering_key AND p.order_seq IS NULL
                        AND p.run_at <= now()) END`,
    ),
    /** $1 queue: how many of its jobs are running on every instance (expired leases included). */
    runningInQueue: named(
      t,
      'running_in_queue',
      `SELECT count(*)::int AS running FROM ${t.qualified}
       WHERE status = '${JobStatus.Running}' AND queue = $1`,
    ),
    /**
     * $1 queues text[] (those whose policy blocks), $2 limit: the keys held by a job that
     * failed for good while later jobs of the key wait; per key its first failed job and how
     * many pending jobs wait behind it.
     */
    blockedKeys: named(
      t,
      'blocked_keys',
      `SELECT f.queue, f.ordering_key AS "orderingKey", f.id AS "failedJobId",
              date_part('epoch', f.finished_at) * 1000 AS "failedAtMs",
              (SELECT count(*) FROM ${t.qualified} p
               WHERE p.status = '${JobStatus.Pending}' AND p.queue = f.queue
                 AND p.ordering_key = f.ordering_key AND p.order_seq IS NOT NULL
                 AND p.order_seq > f.order_seq)::int AS waiting
       FROM (SELECT DISTINCT ON (queue, ordering_key) id, queue, ordering_key, order_seq, finished_at
             FROM ${t.qualified}
             WHERE status = '${JobStatus.Failed}' AND ${ordered} AND queue = ANY($1::text[])
             ORDER BY queue, ordering_key, order_seq) f
       WHERE EXISTS (SELECT 1 FROM ${t.qualified} p
                     WHERE p.status = '${JobStatus.Pending}' AND p.queue = f.queue
                       AND p.ordering_key = f.ordering_key AND p.order_seq IS NOT NULL
                       AND p.order_seq > f.order_seq)
       ORDER BY f.queue, f.ordering_key
       LIMIT $2`,
    ),
  };
};
