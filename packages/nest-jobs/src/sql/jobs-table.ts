import { createHash } from 'node:crypto';

/** Where the jobs table lives, and the names derived from it (quoted, channel, statements). */
export interface JobsTable {
  readonly schema: string;
  readonly table: string;
  /** `"schema"."table"`, safe to splice into SQL: both parts are validated identifiers. */
  readonly qualified: string;
  /** LISTEN/NOTIFY channel of this table (at most 63 bytes, as PostgreSQL requires). */
  readonly channel: string;
  /** Prefix of prepared-statement names, distinct per table on a shared pool. */
  readonly statementPrefix: string;
  /** Name of the index that serves retention sweeps (created by the third migration). */
  readonly finishedIndex: string;
}

/** PostgreSQL's identifier limit (NAMEDATALEN - 1): longer names are silently truncated. */
export const MAX_IDENTIFIER_BYTES = 63;

/**
 * What the migrations append to the table's name to name its constraints and indexes
 * (`<table>_status_check`, ...). PostgreSQL truncates a longer name without an error, so two
 * of them could become one (the second `CREATE INDEX IF NOT EXISTS` then silently does
 * nothing): the table name is checked against the longest. A migration that derives a new
 * name adds its suffix here; a unit test checks every quoted name of the DDL against this.
 */
export const TABLE_NAME_SUFFIXES = [
  '_status_check',
  '_max_retries_check',
  '_pending_idx',
  '_running_lease_idx',
  '_finished_idx',
] as const;

/** Longest table name, in bytes, whose derived names all fit MAX_IDENTIFIER_BYTES. */
export const MAX_TABLE_NAME_BYTES =
  MAX_IDENTIFIER_BYTES -
  Math.max(...TABLE_NAME_SUFFIXES.map((suffix) => suffix.length));

/** Where the jobs table is, its derived names and statement prefix (nothing is checked here). */
export function describeJobsTable(schema: string, table: string): JobsTable {
  const digest = createHash('sha1').update(`${schema}.${table}`).digest('hex');
  const readableChannel =
    schema === 'public' && table === 'nest_jobs'
      ? 'nest_jobs'
      : `nest_jobs:${schema}.${table}`;
  return {
    schema,
    table,
    qualified: `"${schema}"."${table}"`,
    channel:
      readableChannel.length <= 63 ? readableChannel : `nest_jobs:${digest}`,
    statementPrefix: `nest_jobs_${digest.slice(0, 8)}`,
    finishedIndex: `${table.slice(0, 50)}_finished_idx`,
  };
}
