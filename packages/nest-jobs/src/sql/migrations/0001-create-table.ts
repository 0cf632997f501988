import {
  defineJobsMigration,
  MIGRATION_LOCK_DDL,
} from './migration-definition.js';

/**
 * Version 1: the jobs table and its two partial indexes (see shared design: schema.md).
 * Every statement is idempotent; the advisory lock serialises instances that migrate at
 * the same time. The status CHECK lists the states of this version, written out: a
 * migration is history, so a later state widens the CHECK in its own migration (and joins
 * JobStatus), never here.
 */
export const createTable = defineJobsMigration({
  version: 1,
  name: 'NestJobsCreateTable',
  up: (jobs) => {
    const t = jobs.qualified;
    const ddl = [MIGRATION_LOCK_DDL];
    if (jobs.schema !== 'public')
      ddl.push(`CREATE SCHEMA IF NOT EXISTS "${jobs.schema}"`);
    ddl.push(
      `CREATE TABLE IF NOT EXISTS ${t} (
      id           uuid          PRIMARY KEY DEFAULT gen_random_uuid(),
      queue        varchar(255)  NOT NULL DEFAULT 'default',
      job_type     varchar(255)  NOT NULL,
      payload      jsonb         NOT NULL DEFAULT '{}',
      status       varchar(32)   NOT NULL DEFAULT 'pending'
                   CONSTRAINT "${jobs.table}_status_check"
                   CHECK (status IN ('pending', 'running', 'completed', 'failed')),
      attempts     integer       NOT NULL DEFAULT 0,
      max_retries  integer       NOT NULL DEFAULT 3 CONSTRAINT "${jobs.table}_max_retries_check" CHECK (max_retries >= 0),
      run_at       timestamptz   NOT NULL DEFAULT now(),
      started_at   timestamptz,
      locked_until timestamptz,
      finished_at  timestamptz,
      last_error   text,
      trace_id     varchar(64),
      created_at   timestamptz   NOT NULL DEFAULT now()
    )`,
      `CREATE INDEX IF NOT EXISTS "${jobs.table}_pending_idx" ON ${t} (queue, run_at) WHERE status = 'pending'`,
      `CREATE INDEX IF NOT EXISTS "${jobs.table}_running_lease_idx" ON ${t} (locked_until) WHERE status = 'running'`,
    );
    return ddl;
  },
  down: (jobs) => [`DROP TABLE IF EXISTS ${jobs.qualified}`],
});
