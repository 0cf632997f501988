import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 10: `checkpoint`, the state a long job stored with `ctx.checkpoint` (jsonb, read by
 * the next attempt), and `payload_bytes`, the payload of a job enqueued with binary data
 * (bytea; `payload` is then JSON null). Both nullable without a default: added to the
 * catalog only, no rewrite, a brief ACCESS EXCLUSIVE lock. Instances of the previous
 * version keep running meanwhile: they never read the columns (a binary job they claim
 * fails its payload check, JSON null, for good: run them only once every instance is on
 * this version).
 */
export const addCheckpoints = defineJobsMigration({
  version: 10,
  name: 'NestJobsAddCheckpoints',
  up: (jobs) => [
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS checkpoint jsonb, ADD COLUMN IF NOT EXISTS payload_bytes bytea`,
  ],
  down: (jobs) => [
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS checkpoint, DROP COLUMN IF EXISTS payload_bytes`,
  ],
});
