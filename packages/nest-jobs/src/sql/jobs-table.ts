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
