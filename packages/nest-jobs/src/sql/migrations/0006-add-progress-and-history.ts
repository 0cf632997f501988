import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 5: `progress`, the latest value a running attempt reported (`ctx.progress`), and
 * `attempt_errors`, the errors of the latest failed attempts (JobAttemptError[], bounded).
 * Both nullable jsonb without a default: added to the catalog only, no rewrite, a brief
 * ACCESS EXCLUSIVE lock. Instances of the previous version keep running meanwhile: they
 * never read the columns, and leave them as they are.
 */
export const addProgressAndHistory = defineJobsMigration({
  version: 6,
  name: 'NestJobsAddProgressAndHistory',
  up: (jobs) => [
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS progress jsonb, ADD COLUMN IF NOT EXISTS attempt_errors jsonb`,
  ],
  down: (jobs) => [
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS progress, DROP COLUMN IF EXISTS attempt_errors`,
  ],
});
