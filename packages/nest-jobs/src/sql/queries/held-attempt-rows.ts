import { JobStatus } from '../../enums/job-status.enum.js';

/**
 * SQL shared by the statements that write to attempts a worker holds (outcomes, heartbeats,
 * progress): they must reach each row through the primary key, one probe per id, whatever
 * the planner believes of the table. Two things decide that:
 *
 * - The arrays are unnested from InitPlans (`(SELECT $1::uuid[])`): the planner cannot see
 *   their length and assumes a handful of rows, so it probes the primary key per id (a
 *   nested loop) rather than hash-joining the ids to a scan of the table, which it did
 *   once a batch was a sizeable share of its (stale) row estimate.
 * - `status` is compared under COLLATE "C": the same equality (deterministic collations
 *   compare bytes), but one the planner cannot match to the predicate of the running-lease
 *   partial index (`WHERE status = 'running'`, proofs need the same collation). Otherwise
 *   that index is eligible, and with autovacuum off it holds an entry for every attempt
 *   ever claimed: a 700-id completion planned onto it read 77,222 entries.
 *
 * test/e2e/sql/outcome-plans.e2e-spec.ts pins both, custom and generic plans alike.
 */

/** A column of the attempt rows: its name and the SQL type of its array parameter. */
export type AttemptColumn = readonly [name: string, type: string];

/** (id, attempt, releases): the fence of an attempt, parameters $1 to $3 (attemptArrays). */
const FENCE_COLUMNS: readonly AttemptColumn[] = [
  ['id', 'uuid'],
  ['attempt', 'int'],
  ['releases', 'int'],
];

/**
 * The FROM item `unnest(...) AS alias(id, attempt, releases, ...more)`: one row per held
 * attempt from parameters $1, $2, ... in column order, their length hidden from the planner.
 */
export function heldAttemptRows(
  alias: string,
  more: readonly AttemptColumn[] = [],
): string {
  const columns = [...FENCE_COLUMNS, ...more];
  const arrays = columns.map(([, type], i) => `(SELECT $${i + 1}::${type}[])`);
  const names = columns.map(([name]) => name);
  return `unnest(${arrays.join(', ')}) AS ${alias}(${names.join(', ')})`;
}

/** `job` is the attempt `alias` holds (same id, attempt and releases). */
export function fencedBy(alias: string): string {
  return `job.id = ${alias}.id AND job.attempts = ${alias}.attempt AND job.releases = ${alias}.releases`;
}

/** `job.status` is one of `statuses`, in a form no partial index's predicate matches. */
export function statusOf(...statuses: JobStatus[]): string {
  const list = statuses.map((status) => `'${status}'`).join(', ');
  return statuses.length === 1
    ? `job.status COLLATE "C" = ${list}`
    : `job.status COLLATE "C" IN (${list})`;
}

/** The status of a claimed attempt. */
export const RUNNING = statusOf(JobStatus.Running);
