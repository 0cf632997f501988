import type { JobsTable } from './jobs-table.js';

/**
 * The unique index that enforces unique jobs, and the predicate an insert's ON CONFLICT
 * repeats to infer it (PostgreSQL requires the clause's predicate to imply the index's).
 *
 * One partial index over `unique_key`, holding a row while its status is one of the states
 * its own `unique_states` bits name (River's design): any set of states per job, enforced
 * by the database, with no check-then-insert. Rows without a key are not in it, so a user of
 * plain jobs pays nothing but the predicate's evaluation on each write of a row. The CASE
 * maps every status to its bit of unique/unique-states.ts, `cancelled` included ahead of its
 * state. Changing this text means a new index in a new migration (the old one is history).
 */
export const UNIQUE_INDEX_PREDICATE = uniquePredicate('');

/**
 * Whether the row `alias` is in the unique index now (it holds its key): the index's
 * predicate, for a row of a query. Operator actions that move a job back to pending use it
 * to leave alone a job whose key another job holds.
 */
export const holdsUniqueKey = (alias: string): string =>
  `(${uniquePredicate(`${alias}.`)})`;

/** The predicate over the columns of `prefix` ('' in the index itself, 'holder.' in a query). */
function uniquePredicate(prefix: string): string {
  return `${prefix}unique_key IS NOT NULL AND (${prefix}unique_states & CASE ${prefix}status
  WHEN 'pending' THEN 1 WHEN 'running' THEN 2 WHEN 'completed' THEN 4
  WHEN 'failed' THEN 8 WHEN 'cancelled' THEN 16 ELSE 0 END) <> 0`;
}

/** The unique index's name (suffix listed in TABLE_NAME_SUFFIXES). */
export const uniqueIndexName = (jobs: JobsTable): string =>
  `${jobs.table}_unique_idx`;
