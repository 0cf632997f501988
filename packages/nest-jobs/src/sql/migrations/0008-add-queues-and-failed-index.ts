import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 5, for the operator's tools. The queues table, `<table>_queues`, one row per queue an operator acted on:
 * `paused_at` is set while the queue is paused. A table of its own, not a column of the jobs
 * table: pausing is a fact about a queue, written rarely, read by every worker once per poll
 * interval, and it holds for a queue that has no job yet. A new table blocks nobody, so
 * instances of version 4 keep running beside it (they do not know of pausing and keep
 * claiming paused queues until they are upgraded).
 *
 * And a partial index of failed jobs by id: the reader pages failed jobs newest first, and
 * without it a page walks the primary key past every newer row of other states (640 ms at
 * 1,000,000 rows). It holds failed rows only, so claims and completions never write to it.
 * Built like 0003's (a migration runs in a transaction, where CONCURRENTLY is refused): it
 * blocks writes to the table while it scans it, about a second per million rows.
 */
export const addQueuesAndFailedIndex = defineJobsMigration({
  version: 8,
  name: 'NestJobsAddQueuesAndFailedIndex',
  up: (jobs) => [
    `CREATE TABLE IF NOT EXISTS ${jobs.queuesQualified} (
       name varchar(255) NOT NULL,
       paused_at timestamptz,
       updated_at timestamptz NOT NULL DEFAULT now(),
       CONSTRAINT "${jobs.queuesPrimaryKey}" PRIMARY KEY (name)
     )`,
    `CREATE INDEX IF NOT EXISTS "${jobs.failedIndex}" ON ${jobs.qualified} (id)
     WHERE status = 'failed'`,
  ],
  down: (jobs) => [
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.failedIndex}"`,
    `DROP TABLE IF EXISTS ${jobs.queuesQualified}`,
  ],
});
