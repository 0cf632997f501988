import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 12, for rate limits per key (`queuePolicies.<queue>.keyRateLimit`).
 *
 * `<table>_starts` gains `ordering_key`, the key of a start of a keyed queue (null: a start
 * of a queue without keys, or one recorded by an instance of version 11), and the partial
 * index `<table>_starts_key_idx` (queue, ordering_key, started_at) over keyed starts only:
 * a claim of a queue limited per key counts each key's starts of the period with one
 * descent. Starts of queues limited only as a whole keep writing the null column and never
 * touch the index. The table holds one period of starts (it is pruned by every claim that
 * records one), so the index is built at once, in the migration's transaction.
 */
export const addKeyStarts = defineJobsMigration({
  version: 12,
  name: 'NestJobsAddKeyStarts',
  up: (jobs) => [
    `ALTER TABLE ${jobs.startsQualified} ADD COLUMN IF NOT EXISTS ordering_key text COLLATE "C"`,
    `CREATE INDEX IF NOT EXISTS "${jobs.startsKeyIndex}" ON ${jobs.startsQualified} (queue, ordering_key, started_at)
     WHERE ordering_key IS NOT NULL`,
  ],
  down: (jobs) => [
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.startsKeyIndex}"`,
    `ALTER TABLE IF EXISTS ${jobs.startsQualified} DROP COLUMN IF EXISTS ordering_key`,
  ],
});
