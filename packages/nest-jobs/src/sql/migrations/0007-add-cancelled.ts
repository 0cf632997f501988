import { defineJobsMigration } from './migration-definition.js';

/**
 * Version 5: the final state `cancelled`. The status CHECK is replaced by one that also
 * accepts it (its list written out: a migration is history), added NOT VALID and then
 * validated: the ALTER that swaps it holds its ACCESS EXCLUSIVE lock only for the catalog
 * change, and the validation scans under a lock that lets reads and writes go on. Instances
 * of version 4 still running never write the new state, so they are unaffected.
 *
 * A partial index on finished_at for cancelled rows serves their retention sweep (the
 * finished index of version 3 lists the states of its own version). Built like that one:
 * TypeORM runs a migration in a transaction, where CONCURRENTLY is refused; it starts empty
 * (no row is cancelled yet), but its build scans the table once under a lock that blocks
 * writes meanwhile (about a second per million rows on the project's machines).
 *
 * Down turns cancelled rows into failed ones (with a last_error saying so) first: the old
 * CHECK would refuse them.
 */
export const addCancelled = defineJobsMigration({
  version: 7,
  name: 'NestJobsAddCancelled',
  up: (jobs) => {
    const check = `"${jobs.table}_status_check"`;
    return [
      `ALTER TABLE ${jobs.qualified} DROP CONSTRAINT IF EXISTS ${check},
       ADD CONSTRAINT ${check}
       CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')) NOT VALID`,
      `ALTER TABLE ${jobs.qualified} VALIDATE CONSTRAINT ${check}`,
      `CREATE INDEX IF NOT EXISTS "${jobs.table}_cancelled_idx" ON ${jobs.qualified} (finished_at)
       WHERE status = 'cancelled'`,
    ];
  },
  down: (jobs) => {
    const check = `"${jobs.table}_status_check"`;
    return [
      `UPDATE ${jobs.qualified} SET status = 'failed',
       last_error = 'Cancelled (recorded as failed when nest-jobs was migrated down)'
       WHERE status = 'cancelled'`,
      `ALTER TABLE ${jobs.qualified} DROP CONSTRAINT IF EXISTS ${check},
       ADD CONSTRAINT ${check}
       CHECK (status IN ('pending', 'running', 'completed', 'failed'))`,
      `DROP INDEX IF EXISTS "${jobs.schema}"."${jobs.table}_cancelled_idx"`,
    ];
  },
});
