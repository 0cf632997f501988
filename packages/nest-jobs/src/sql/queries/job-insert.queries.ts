import type { JobsTable } from '../jobs-table.js';
import { UNIQUE_INDEX_PREDICATE } from '../unique-index.js';
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
  // One JSON array is one jsonb value, refused over 256 MB: the repository never sends more
  // payloads in one statement than STATEMENT_BUDGET (../insert-budget.ts) allows.
  const insertManySharedSql = `
    INSERT INTO ${t.qualified} (${INSERT_COLUMNS})
    SELECT ($1::uuid[])[payloads.n], $2::varchar, $3::varchar, payloads.payload, $5::int, ${runAt('$6', '$7')}, $8::varchar, $9::jsonb
    FROM jsonb_array_elements($4::jsonb) WITH ORDINALITY AS payloads(payload, n)`;

  // Rows of which at least one has a unique key or a priority: every column. ON CONFLICT on
  // the unique index (./unique-index.ts) makes a duplicate touch the existing row instead
  // (a no-op update, so RETURNING gives its id; xmax is 0 only in a row this statement
  // inserted). It waits for an uncommitted conflicting insert and then decides, so a
  // rollback frees the key. The repository first dedupes the keys of one statement:
  // DO UPDATE cannot affect one row twice. The returned key maps rows back to callers.
  // `bytes`: the source also gives payload_bytes (only insertFull's arrays carry binary
  // payloads; the repository sends rows with bytes through it).
  const freshInsert = (source: string, bytes = false) => `
    INSERT INTO ${t.qualified} (${INSERT_COLUMNS}, priority, unique_key, unique_states${bytes ? ', payload_bytes' : ''})
    ${source}`;
  const fullInsert = (
    source: string,
    bytes = false,
  ) => `${freshInsert(source, bytes)}
    ON CONFLICT (unique_key) WHERE ${UNIQUE_INDEX_PREDICATE}
    DO UPDATE SET unique_key = EXCLUDED.unique_key
    RETURNING id, unique_key AS "uniqueKey", xmax <> 0 AS duplicate, queue`;
  // Without a NOTIFY only the duplicates come back: the usual insert of unique jobs
  // returns no row at all, instead of one per job for the driver to read.
  const duplicatesOf = (insert: string) => `
    WITH inserted AS (${insert})
    SELECT id, "uniqueKey", duplicate FROM inserted WHERE duplicate`;
  const insertFullSql = fullInsert(
    `
    SELECT id, queue, job_type, payload::jsonb, max_retries, ${runAt('run_at', 'delay_ms')}, trace_id, retry_policy::jsonb,
           priority, unique_key, unique_states, payload_bytes
    FROM unnest($1::uuid[], $2::varchar[], $3::varchar[], $4::text[], $5::int[], $6::timestamptz[],
                $7::bigint[], $8::varchar[], $9::text[], $10::smallint[], $11::text[], $12::int[], $13::bytea[])
      AS input(id, queue, job_type, payload, max_retries, run_at, delay_ms, trace_id, retry_policy,
               priority, unique_key, unique_states, payload_bytes)`,
    true,
  );
  // insertManyShared's form for rows that also share priority and unique states and differ
  // in their keys: the keys as one JSON array beside the payloads' (JSON.stringify of
  // strings, no per-element escaping in the driver), walked in step with them by ROWS FROM
  // (a text[] subscript would walk the array from its start for every row). A null $11
  // (no keys) pads the keys with nulls.
  const fullSharedSource = `
    SELECT ($1::uuid[])[input.n], $2::varchar, $3::varchar, input.payload, $5::int, ${runAt('$6', '$7')}, $8::varchar, $9::jsonb,
           $10::smallint, input.unique_key, $12::int
    FROM ROWS FROM (jsonb_array_elements($4::jsonb), jsonb_array_elements_text($11::jsonb))
      WITH ORDINALITY AS input(payload, unique_key, n)`;
  const insertFullSharedSql = fullInsert(fullSharedSource);
  // One row: plain parameters, no arrays to build or unnest.
  const oneFullSource = `
    VALUES ($1::uuid, $2, $3, $4::jsonb, $5::int, ${runAt('$6', '$7')}, $8, $9::jsonb,
            $10::smallint, $11::text, $12::int)`;
  const insertOneFullSql = fullInsert(oneFullSource);
  const andNotify = (insert: string, channel: string) => `
    WITH inserted AS (${insert})
    SELECT id, "uniqueKey", duplicate,
           CASE WHEN NOT duplicate THEN pg_notify(${channel}, queue)::text END AS notified
    FROM inserted`;

  return {
    /**
     * insertMany's nine arrays plus $10 priority smallint[], $11 unique_key text[] (null:
     * not unique), $12 unique_states int[] and $13 payload_bytes bytea[] (null: a JSON
     * payload); returns id, "uniqueKey", duplicate of each duplicate row (the existing
     * job's id).
     */
    insertFull: named(t, 'insert_full', duplicatesOf(insertFullSql)),
    /**
     * insertFull, then pg_notify($14 channel, queue) for each inserted row (PostgreSQL
     * delivers one per queue at commit: identical notifications of a transaction merge);
     * returns every row, with its `duplicate` flag.
     */
    insertFullAndNotify: named(
      t,
      'insert_full_notify',
      andNotify(insertFullSql, '$14'),
    ),
    /**
     * insertManyShared's $1..$9, plus $10 priority, $11 the keys as a JSON array in id order
     * (null: none) and $12 unique_states; returns what insertFull returns.
     */
    insertFullShared: named(
      t,
      'insert_full_shared',
      duplicatesOf(insertFullSharedSql),
    ),
    /** insertFullShared, then pg_notify($13 channel, queue), as insertFullAndNotify. */
    insertFullSharedAndNotify: named(
      t,
      'insert_full_shared_notify',
      andNotify(insertFullSharedSql, '$13'),
    ),
    /** insertOne's $1..$9, plus $10 priority, $11 unique_key and $12 unique_states; returns what insertFull returns. */
    insertOneFull: named(t, 'insert_one_full', duplicatesOf(insertOneFullSql)),
    /**
     * insertOneFull without ON CONFLICT: for keys expected to be free (or no key). A key
     * already held fails it with 23505 on the unique index, and nothing is written. It
     * spares each row the speculative insertion (a second descent of the unique index and
     * one more WAL record): measured on 1,000-row inserts of hashed keys, 16 instead of 19 ms.
     */
    insertOneFullFresh: named(
      t,
      'insert_one_full_fresh',
      freshInsert(oneFullSource),
    ),
    /** insertFullShared without ON CONFLICT, as insertOneFullFresh. */
    insertFullSharedFresh: named(
      t,
      'insert_full_shared_fresh',
      freshInsert(fullSharedSource),
    ),
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
