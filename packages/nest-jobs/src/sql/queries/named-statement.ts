import type { JobsTable } from '../jobs-table.js';

/**
 * A statement of the library. `prepared` ones have a stable name, so each pooled connection
 * parses and plans them once. Those that join an array parameter to the table are planned
 * per call instead: after five runs PostgreSQL switches a prepared statement to a generic
 * plan, which cannot know the array's size and, with statistics taken while few rows were
 * running, walked every running row for each id (a 2,000-id completion beside 2,000 running
 * rows took 692 ms instead of 13 ms). A plan per call costs about 0.1 ms per batch.
 */
export interface NamedStatement {
  readonly name: string;
  readonly text: string;
  readonly prepared: boolean;
}

/**
 * A prepared statement of `jobs`: its name carries the table's prefix (two tables on one
 * pool never share a prepared name), and its text starts with a comment tag naming it
 * (`nest-jobs:<name>`), by which test/bench classifies what the database ran.
 */
export function named(
  jobs: JobsTable,
  name: string,
  text: string,
  prepared = true,
): NamedStatement {
  return {
    name: `${jobs.statementPrefix}_${name}`,
    // The tag names the statement in pg_stat_activity and pg_stat_statements, prepared or not.
    text: `/* nest-jobs:${name} */ ${text.replace(/\s+/g, ' ').trim()}`,
    prepared,
  };
}

/** A statement planned on every call (see NamedStatement: array joins). */
export function plannedPerCall(
  jobs: JobsTable,
  name: string,
  text: string,
): NamedStatement {
  return named(jobs, name, text, false);
}
