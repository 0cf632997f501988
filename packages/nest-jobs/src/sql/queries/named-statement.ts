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
  /**
   * The number of the clock parameter (the last one) when the text reads the time, else 0:
   * the SqlRunner binds the JobsClock's value there, NULL unless a test pinned the time.
   */
  readonly clockParameter: number;
}

/**
 * The time a statement works by: the test clock's when one is pinned, else the database's
 * `now()`. In production the parameter is NULL, and `COALESCE(NULL, now())` is `now()` for
 * the planner as for the executor (a stable expression, usable as an index bound).
 */
export const clockExpression = (parameter: number): string =>
  `COALESCE($${parameter}::timestamptz, now())`;

/**
 * Milliseconds the current statement has run on the server when this is evaluated (per row
 * in a RETURNING list): a duration on the server's own clock, not a reading of the time. The
 * worker sizes its claims by it (see ClaimSizer), as it times them in node with
 * performance.now(), so a test's pinned clock must not pin it and it is not read from the
 * clock parameter. The one other use of PostgreSQL's time functions a statement may make:
 * test/unit/sql/clock-statements.spec.ts leaves it out before refusing the rest.
 */
export const statementElapsedMs =
  "date_part('epoch', clock_timestamp() - statement_timestamp()) * 1000";

/** Every `now()` a builder wrote (case and inner spaces aside). */
const NOW_CALL = /\bnow\s*\(\s*\)/gi;
const PARAMETER = /\$(\d+)/g;

/**
 * `text` with each `now()` read from the clock parameter, numbered after the statement's
 * own parameters, and that number (0 when the text does not read the time). Done here, for
 * every statement, so that no builder can forget it; other clock functions
 * (clock_timestamp(), CURRENT_TIMESTAMP...) are not rewritten and a unit test refuses them.
 */
function readTimeFromClock(text: string): [string, number] {
  if (text.search(NOW_CALL) === -1) return [text, 0];
  let last = 0;
  for (const match of text.matchAll(PARAMETER))
    last = Math.max(last, Number(match[1]));
  const parameter = last + 1;
  return [text.replace(NOW_CALL, clockExpression(parameter)), parameter];
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
  const [clocked, clockParameter] = readTimeFromClock(
    text.replace(/\s+/g, ' ').trim(),
  );
  return {
    name: `${jobs.statementPrefix}_${name}`,
    // The tag names the statement in pg_stat_activity and pg_stat_statements, prepared or not.
    text: `/* nest-jobs:${name} */ ${clocked}`,
    prepared,
    clockParameter,
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
