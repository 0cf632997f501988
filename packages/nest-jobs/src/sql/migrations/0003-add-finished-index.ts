import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 3: lets retention sweeps find old finished rows without scanning the table. Its
 * predicate lists the finished states of this version, written out (history: see 0001).
 */
export const addFinishedIndex = defineJobsMigration({
  version: 3,
  name: 'NestJobsAddFinishedIndex',
  up: (jobs) => [
    `CREATE INDEX IF NOT EXISTS "${jobs.finishedIndex}" ON ${jobs.qualified} (finished_at)
     WHERE status IN ('completed', 'failed')`,
  ],
  down: (jobs) => [
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.finishedIndex}"`,
  ],
});
