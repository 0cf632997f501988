import { defineJobsMigration } from './migration-definition.js';

/** Version 2: a per-job retry policy set at enqueue (null: the handler's policy). */
export const addRetryPolicy = defineJobsMigration({
  version: 2,
  name: 'NestJobsAddRetryPolicy',
  up: (jobs) => [
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS retry_policy jsonb`,
  ],
  down: (jobs) => [
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS retry_policy`,
  ],
});
