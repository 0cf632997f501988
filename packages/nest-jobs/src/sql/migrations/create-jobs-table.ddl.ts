import type { JobsTable } from '../jobs-table.js';

/**
 * DDL of the jobs table and its two partial indexes (see shared design: schema.md).
 * Every statement is idempotent; the advisory lock serialises instances that migrate at
 * the same start-up (CREATE ... IF NOT EXISTS alone can still race on the catalog).
 */
export function createJobsTableDdl(jobs: JobsTable): string[] {
  const t = jobs.qualified;
  const ddl = [`SELECT pg_advisory_xact_lock(hashtext('nest-jobs:migrate'))`];
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
}

export function dropJobsTableDdl(jobs: JobsTable): string[] {
  return [`DROP TABLE IF EXISTS ${jobs.qualified}`];
}

/** Second migration: a per-job retry policy set at enqueue (null: the handler's policy). */
export function addRetryPolicyDdl(jobs: JobsTable): string[] {
  return [
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS retry_policy jsonb`,
  ];
}

export function dropRetryPolicyDdl(jobs: JobsTable): string[] {
  return [
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS retry_policy`,
  ];
}

/** Third migration: lets retention sweeps find old finished rows without scanning the table. */
export function addFinishedIndexDdl(jobs: JobsTable): string[] {
  return [
    `CREATE INDEX IF NOT EXISTS "${jobs.finishedIndex}" ON ${jobs.qualified} (finished_at)
     WHERE status IN ('completed', 'failed')`,
  ];
}

export function dropFinishedIndexDdl(jobs: JobsTable): string[] {
  return [`DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.finishedIndex}"`];
}
