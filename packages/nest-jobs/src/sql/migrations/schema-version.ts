import type { JobsTable } from '../jobs-table.js';

/**
 * Which migrations a jobs table has, as ONE number: its schema version.
 *
 * From version 4 on, each migration records its version in the table's comment (Oban's
 * model), as a line of its own: `nest-jobs:4`. The comment is shared with the user: a text
 * of theirs is kept, and our line is written after it (and replaced by the next migration).
 * A comment without our line (none, or the user's own text) means a table from before
 * versions were recorded, whose version (0 to 3) is inferred from the catalog as before.
 * A user who later replaces the whole comment erases our line: start-up then infers 3 and
 * asks for migration 4 again, whose DDL is idempotent and writes the line back.
 */

/** The line our record takes in the comment (JavaScript side; the DDL's regexes say the same). */
const RECORD_LINE = /^nest-jobs:(\d+)$/m;

/**
 * Tables from before versions were recorded: the version is how many of these pieces, in
 * order, the table has, and the first one it lacks says what is missing. History: this list
 * never grows, as later migrations record their version instead.
 */
const UNRECORDED_VERSIONS: ReadonlyArray<{
  has(state: TableState): boolean;
  missing(jobs: JobsTable): string;
}> = [
  {
    has: (state) => state.tableExists,
    missing: (jobs) => `table ${jobs.qualified} does not exist`,
  },
  {
    has: (state) => state.hasRetryPolicy,
    missing: (jobs) => `table ${jobs.qualified} has no column retry_policy`,
  },
  {
    has: (state) => state.hasFinishedIndex,
    missing: (jobs) =>
      `table ${jobs.qualified} has no index ${jobs.finishedIndex}`,
  },
];

/** The first version whose migration records itself in the table's comment. */
export const FIRST_RECORDED_VERSION = UNRECORDED_VERSIONS.length + 1;

/** What start-up reads of the table (the schema-state statement's row). */
export interface TableState {
  tableExists: boolean;
  hasRetryPolicy: boolean;
  hasFinishedIndex: boolean;
  /** The table's comment, where a version from FIRST_RECORDED_VERSION on is recorded. */
  comment: string | null;
}

/** The version recorded in a table comment, or null when the comment holds no record of ours. */
export function recordedSchemaVersion(comment: string | null): number | null {
  const record = comment === null ? null : RECORD_LINE.exec(comment);
  return record ? Number(record[1]) : null;
}

/**
 * The table's schema version: the recorded one when there is one, else the one inferred
 * from the catalog (0: no table; at most FIRST_RECORDED_VERSION - 1).
 */
export function schemaVersion(state: TableState): number {
  const recorded = recordedSchemaVersion(state.comment);
  if (recorded !== null) return recorded;
  const lacking = UNRECORDED_VERSIONS.findIndex((piece) => !piece.has(state));
  return lacking === -1 ? UNRECORDED_VERSIONS.length : lacking;
}

/** What a table at `version` lacks, for the error naming the migration after it. */
export function describeMissing(
  jobs: JobsTable,
  state: TableState,
  version: number,
): string {
  if (version < UNRECORDED_VERSIONS.length)
    return UNRECORDED_VERSIONS[version]!.missing(jobs);
  return recordedSchemaVersion(state.comment) === null
    ? `table ${jobs.qualified} is at schema version ${version} (its comment records no later nest-jobs version)`
    : `table ${jobs.qualified} records schema version ${version} in its comment`;
}

/**
 * A statement that records `version` in the table's comment, keeping the user's text: our
 * line is removed from the comment, then (for a recorded version) written again after the
 * rest. Below FIRST_RECORDED_VERSION there is no line, as those versions had none. With
 * `onlyRaise` (an `up`), a record already higher is kept: re-running an older migration's
 * idempotent DDL must not make a newer table look older.
 */
export function recordSchemaVersionDdl(
  jobs: JobsTable,
  version: number,
  onlyRaise: boolean,
): string {
  const line =
    version >= FIRST_RECORDED_VERSION ? `'nest-jobs:${version}'` : 'NULL';
  // COMMENT ON takes a literal, not an expression: hence the DO block and format(%L).
  return `DO $nest_jobs$
DECLARE
  old_comment text := COALESCE(obj_description('${jobs.qualified}'::regclass, 'pg_class'), '');
  recorded int := (regexp_match(old_comment, '^nest-jobs:([0-9]+)$', 'n'))[1]::int;
  kept text := btrim(regexp_replace(old_comment, '^nest-jobs:[0-9]+$', '', 'gn'), E'\\n');
BEGIN
  IF ${onlyRaise ? `recorded IS NULL OR recorded < ${version}` : 'true'} THEN
    EXECUTE format('COMMENT ON TABLE ${jobs.qualified} IS %L', concat_ws(E'\\n', NULLIF(kept, ''), ${line}));
  END IF;
END $nest_jobs$`;
}
