import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 11, for flow control (ordered queues, limits per key, rate limits).
 *
 * `ordering_key` (null: the job has no key) and `order_seq`, its place in its key's order,
 * taken from the sequence `<table>_order_seq` when the job is inserted, so enqueue order
 * holds across instances whatever their clocks. Keys compare byte by byte (`COLLATE "C"`):
 * the claims walk them round robin from a key the worker remembers, and the worker must
 * order keys as the index does, whatever the database's collation. Both columns are nullable
 * without a default: added without a rewrite, and instances of version 9 keep inserting rows
 * without a key.
 *
 * `ordering_key` also holds the key of a job of a key-limited queue (`keyConcurrency`): such
 * a job has no place (`order_seq` null), which tells the two kinds apart in the indexes.
 * Five partial indexes hold keyed rows only (`ordering_key IS NOT NULL`), so inserts, claims
 * and completions of jobs without a key never write to them; of ordered jobs:
 * - `<table>_ordered_idx` (queue, ordering_key, order_seq) over pending rows: the ordered
 *   claim walks the queue's keys with one descent each and takes each key's first job;
 * - `<table>_key_running_idx`, unique (queue, ordering_key) over running rows: one running
 *   job per key is a constraint of the database, not a hope of the claim statement (two
 *   claims racing for one key: the second fails, and the repository claims again);
 * - `<table>_key_failed_idx` (queue, ordering_key, order_seq) over failed rows: whether a
 *   job failed for good ahead of a key's first pending job (the `block` policy) and the
 *   reader's blocked keys;
 * and of key-limited jobs `<table>_keylim_idx` (queue, ordering_key, run_at) over pending
 * rows (the claim walks the keys and takes each one's due jobs) and `<table>_keylim_run_idx`
 * (queue, ordering_key) over running rows (each key's running jobs counted).
 *
 * And the table `<table>_starts` (queue, started_at): one row per job claimed from a
 * rate-limited queue (`rateLimit`) within its period, counted and pruned by that queue's
 * claims under its lock; other queues never write to it.
 *
 * They are built in the migration's transaction; on an existing table they hold no entry.
 */
export const addFlowControl = defineJobsMigration({
  version: 11,
  name: 'NestJobsAddFlowControl',
  up: (jobs) => [
    `CREATE SEQUENCE IF NOT EXISTS ${jobs.orderSequenceQualified} AS bigint`,
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS ordering_key text COLLATE "C"`,
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS order_seq bigint`,
    `CREATE INDEX IF NOT EXISTS "${jobs.orderedIndex}" ON ${jobs.qualified} (queue, ordering_key, order_seq)
     WHERE status = 'pending' AND ordering_key IS NOT NULL AND order_seq IS NOT NULL`,
    `CREATE UNIQUE INDEX IF NOT EXISTS "${jobs.keyRunningIndex}" ON ${jobs.qualified} (queue, ordering_key)
     WHERE status = 'running' AND ordering_key IS NOT NULL AND order_seq IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS "${jobs.keyFailedIndex}" ON ${jobs.qualified} (queue, ordering_key, order_seq)
     WHERE status = 'failed' AND ordering_key IS NOT NULL AND order_seq IS NOT NULL`,
    `CREATE INDEX IF NOT EXISTS "${jobs.keyLimitedIndex}" ON ${jobs.qualified} (queue, ordering_key, run_at)
     WHERE status = 'pending' AND ordering_key IS NOT NULL AND order_seq IS NULL`,
    `CREATE INDEX IF NOT EXISTS "${jobs.keyLimitedRunningIndex}" ON ${jobs.qualified} (queue, ordering_key)
     WHERE status = 'running' AND ordering_key IS NOT NULL AND order_seq IS NULL`,
    `CREATE TABLE IF NOT EXISTS ${jobs.startsQualified} (
       queue varchar(255) NOT NULL,
       started_at timestamptz NOT NULL
     )`,
    `CREATE INDEX IF NOT EXISTS "${jobs.startsIndex}" ON ${jobs.startsQualified} (queue, started_at)`,
  ],
  down: (jobs) => [
    `DROP TABLE IF EXISTS ${jobs.startsQualified}`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.keyLimitedRunningIndex}"`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.keyLimitedIndex}"`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.keyFailedIndex}"`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.keyRunningIndex}"`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.orderedIndex}"`,
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS order_seq`,
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS ordering_key`,
    `DROP SEQUENCE IF EXISTS ${jobs.orderSequenceQualified}`,
  ],
});
