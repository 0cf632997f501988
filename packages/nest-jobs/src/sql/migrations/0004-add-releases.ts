import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 4: `releases`, how many attempts of the job a shutdown returned to pending
 * uncounted. With `attempts` it fences every write of an attempt (see the release
 * statement in queries/job-outcome.queries.ts). A column with a constant default is added
 * without rewriting the table: a brief ACCESS EXCLUSIVE lock on the catalog entry only.
 */
export const addReleases = defineJobsMigration({
  version: 4,
  name: 'NestJobsAddReleases',
  up: (jobs) => [
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS releases integer NOT NULL DEFAULT 0`,
  ],
  down: (jobs) => [
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS releases`,
  ],
});
