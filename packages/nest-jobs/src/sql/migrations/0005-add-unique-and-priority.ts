import { UNIQUE_INDEX_PREDICATE, uniqueIndexName } from '../unique-index.js';
import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 5: unique jobs and priorities.
 *
 * `unique_key` (null: not unique) and `unique_states` (the bits of the states in which the
 * key refuses a duplicate), and the partial unique index that enforces them (see
 * ../unique-index.ts). Both columns are nullable without a default: added without a
 * rewrite, and instances of version 4 keep inserting rows without a key.
 *
 * `priority` (smallint, constant default 0: added without a rewrite) and the claim index
 * `(queue, priority DESC, run_at)` over pending rows, which replaces `(queue, run_at)`: the
 * claim walks it in its ORDER BY, so it stays an index walk however large the table.
 *
 * The indexes are built in the migration's transaction: TypeORM runs migrations in one
 * (its default mode refuses a migration that opts out), where CONCURRENTLY is refused. The
 * unique index holds no entry on an existing table (no row has a key); the claim index
 * holds the pending rows, and its build reads the table while writes wait. For a large
 * backlog, build it first by hand with CREATE INDEX CONCURRENTLY under the same name (the
 * manual gives the statement): IF NOT EXISTS then skips it here.
 */
export const addUniqueAndPriority = defineJobsMigration({
  version: 5,
  name: 'NestJobsAddUniqueAndPriority',
  up: (jobs) => [
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS unique_key text`,
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS unique_states integer`,
    `CREATE UNIQUE INDEX IF NOT EXISTS "${uniqueIndexName(jobs)}" ON ${jobs.qualified} (unique_key)
     WHERE ${UNIQUE_INDEX_PREDICATE}`,
    `ALTER TABLE ${jobs.qualified} ADD COLUMN IF NOT EXISTS priority smallint NOT NULL DEFAULT 0`,
    `CREATE INDEX IF NOT EXISTS "${jobs.table}_claim_idx" ON ${jobs.qualified} (queue, priority DESC, run_at)
     WHERE status = 'pending'`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.table}_pending_idx"`,
  ],
  down: (jobs) => [
    `CREATE INDEX IF NOT EXISTS "${jobs.table}_pending_idx" ON ${jobs.qualified} (queue, run_at) WHERE status = 'pending'`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.table}_claim_idx"`,
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS priority`,
    `DROP INDEX IF EXISTS "${jobs.schema}"."${uniqueIndexName(jobs)}"`,
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS unique_states`,
    `ALTER TABLE IF EXISTS ${jobs.qualified} DROP COLUMN IF EXISTS unique_key`,
  ],
});
