import type { JobsTable } from '../jobs-table.js';
import { named } from './named-statement.js';

/** Columns an insert writes, in the order of the insert statements' parameters. */
const INSERT_COLUMNS =
  'id, queue, job_type, payload, max_retries, run_at, trace_id, retry_policy';

/** run_at: an explicit time wins; else now() plus the delay, computed on the database clock. */
const runAt = (at: string, delay: string) =>
  `COALESCE(${at}::timestamptz, now() + COALESCE(${delay}::bigint, 0) * interval '1 millisecond')`;

/**
 * Enqueue: new rows, one or many, each with a NOTIFY variant for a caller's transaction
 * (there the notification can only be delivered at its commit). Parameters are built by
 * ../insert-parameters.ts.
 */
export const jobInsertQueries = (t: JobsTable) => {
  const insertOneSql = `
    INSERT INTO ${t.qualified} (${INSERT_COLUMNS})
    VALUES ($1::uuid, $2, $3, $4::jsonb, $5::int, ${runAt('$6', '$7')}, $8, $9::jsonb)`;
  const insertManySql = `
    INSERT INTO ${t.qualified} (${INSERT_COLUMNS})
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
    INSERT INTO ${t.qualified} (${INSERT_COLUMNS})
    SELECT ($1::uuid[])[payloads.n], $2::varchar, $3::varchar, payloads.payload, $5::int, ${runAt('$6', '$7')}, $8::varchar, $9::jsonb
    FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS payloads(payload, n)`;

  return {
    /** $1 id, $2 queue, $3 job_type, $4 payload json, $5 max_retries, $6 run_at|null, $7 delay ms|null, $8 trace_id, $9 retry_policy json|null */
    insertOne: named(t, 'insert_one', insertOneSql),
    /**
     * insertOne of a job due now without trace id or retry policy: $1..$5 only, the rest are
     * the column defaults. The usual enqueue: five parameters instead of nine and no run_at
     * expression, which saves the driver and the server a little on every single insert.
     */
    insertOneDueNow: named(
      t,
      'insert_one_due_now',
      `INSERT INTO ${t.qualified} (id, queue, job_type, payload, max_retries)
       VALUES ($1::uuid, $2, $3, $4::jsonb, $5::int)`,
    ),
    /** insertOne, then pg_notify($10 channel, queue): in a transaction it is delivered at commit. */
    insertOneAndNotify: named(
      t,
      'insert_one_notify',
      `WITH inserted AS (${insertOneSql} RETURNING queue)
       SELECT pg_notify($10, inserted.queue) FROM inserted`,
    ),
    /** The same nine columns, each as an array ($1..$9), inserted in one statement. */
    insertMany: named(t, 'insert_many', insertManySql),
    /** insertMany, then one pg_notify($10 channel, queue) per distinct queue. */
    insertManyAndNotify: named(
      t,
      'insert_many_notify',
      `WITH inserted AS (${insertManySql} RETURNING queue)
       SELECT pg_notify($10, queue) FROM (SELECT DISTINCT queue FROM inserted) AS queues`,
    ),
    /** Rows that differ only in id ($1 uuid[] literal) and payload ($4 JSON array, in id order); the other seven are scalars. */
    insertManyShared: named(t, 'insert_many_shared', insertManySharedSql),
    /** insertManyShared, then pg_notify($10 channel, $2 queue). */
    insertManySharedAndNotify: named(
      t,
      'insert_many_shared_notify',
      `WITH inserted AS (${insertManySharedSql} RETURNING 1)
       SELECT pg_notify($10, $2::text) WHERE EXISTS (SELECT 1 FROM inserted)`,
    ),
  };
};
