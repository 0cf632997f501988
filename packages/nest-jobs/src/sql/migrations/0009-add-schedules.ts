import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 9, for recurring jobs. The schedules table, `<table>_schedules`, one row per
 * schedule (declared with `@Recurring()` or added at run time) with its next run: every
 * instance's tick claims the due rows with FOR UPDATE SKIP LOCKED, enqueues their
 * occurrences and advances `next_run_at` in one transaction, so there is no leader to elect.
 * `options` holds the settings every instance applies (missed and overlap policies, queue,
 * priority, retries); `version` and `definition_hash` decide, for declared schedules, which
 * instance's declaration is stored during a rolling deploy.
 *
 * The partial index holds unpaused schedules by next run: a tick reads the due ones in
 * order without visiting the rest. A new table blocks nobody, so instances of version 8
 * keep running beside it (they fire no schedules).
 */
export const addSchedules = defineJobsMigration({
  version: 9,
  name: 'NestJobsAddSchedules',
  up: (jobs) => [
    `CREATE TABLE IF NOT EXISTS ${jobs.schedulesQualified} (
       name varchar(255) NOT NULL,
       job_type varchar(255) NOT NULL,
       cron varchar(255) NOT NULL,
       time_zone varchar(255) NOT NULL,
       payload jsonb NOT NULL DEFAULT '{}',
       options jsonb NOT NULL DEFAULT '{}',
       declared boolean NOT NULL DEFAULT false,
       version integer NOT NULL DEFAULT 1,
       definition_hash varchar(64),
       next_run_at timestamptz,
       paused_at timestamptz,
       last_run_at timestamptz,
       last_job_id uuid,
       created_at timestamptz NOT NULL DEFAULT now(),
       updated_at timestamptz NOT NULL DEFAULT now(),
       CONSTRAINT "${jobs.schedulesPrimaryKey}" PRIMARY KEY (name)
     )`,
    `CREATE INDEX IF NOT EXISTS "${jobs.schedulesDueIndex}" ON ${jobs.schedulesQualified} (next_run_at)
     WHERE paused_at IS NULL`,
  ],
  down: (jobs) => [`DROP TABLE IF EXISTS ${jobs.schedulesQualified}`],
});
