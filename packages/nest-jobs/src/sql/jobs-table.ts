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
  /**
   * `"schema"."<table>_queues"`: one row per queue an operator acted on (paused and since
   * when; created by the migration that added pausing), safe to splice into SQL.
   */
  readonly queuesQualified: string;
  /** Name of the queues table's primary key. */
  readonly queuesPrimaryKey: string;
  /** Name of the index of failed jobs by id (the reader's pages of failed jobs). */
  readonly failedIndex: string;
  /**
   * `"schema"."<table>_schedules"`: one row per recurring schedule with its next run
   * (created by the migration that added schedules), safe to splice into SQL.
   */
  readonly schedulesQualified: string;
  /** Name of the schedules table's primary key. */
  readonly schedulesPrimaryKey: string;
  /** Name of the index of unpaused schedules by next run (what each tick reads). */
  readonly schedulesDueIndex: string;
  /** `"schema"."<table>_order_seq"`: the enqueue order of ordered jobs, across instances. */
  readonly orderSequenceQualified: string;
  /** Name of the index of pending ordered jobs by queue, key and place (the ordered claim). */
  readonly orderedIndex: string;
  /** Name of the unique index that allows one running job per queue and ordering key. */
  readonly keyRunningIndex: string;
  /** Name of the index of failed ordered jobs by queue, key and place (blocked keys). */
  readonly keyFailedIndex: string;
  /** Name of the index of pending jobs of key-limited queues by queue, key and run_at. */
  readonly keyLimitedIndex: string;
  /** Name of the index of running jobs of key-limited queues by queue and key. */
  readonly keyLimitedRunningIndex: string;
  /**
   * `"schema"."<table>_starts"`: the recent claims of rate-limited queues (queue, when),
   * safe to splice into SQL.
   */
  readonly startsQualified: string;
  /** Name of the starts table's index by queue and time. */
  readonly startsIndex: string;
  /** Name of the starts table's partial index of keyed starts by queue, key and time. */
  readonly startsKeyIndex: string;
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
  '_unique_idx',
  '_claim_idx',
  '_cancelled_idx',
  '_queues',
  '_queues_pkey',
  '_failed_idx',
  '_schedules',
  '_schedules_pkey',
  '_schedules_due_idx',
  '_order_seq',
  '_ordered_idx',
  '_key_running_idx',
  '_key_failed_idx',
  '_keylim_idx',
  '_keylim_run_idx',
  '_starts',
  '_starts_idx',
  '_starts_key_idx',
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
    queuesQualified: `"${schema}"."${table}_queues"`,
    queuesPrimaryKey: `${table}_queues_pkey`,
    failedIndex: `${table}_failed_idx`,
    schedulesQualified: `"${schema}"."${table}_schedules"`,
    schedulesPrimaryKey: `${table}_schedules_pkey`,
    schedulesDueIndex: `${table}_schedules_due_idx`,
    orderSequenceQualified: `"${schema}"."${table}_order_seq"`,
    orderedIndex: `${table}_ordered_idx`,
    keyRunningIndex: `${table}_key_running_idx`,
    keyFailedIndex: `${table}_key_failed_idx`,
    keyLimitedIndex: `${table}_keylim_idx`,
    keyLimitedRunningIndex: `${table}_keylim_run_idx`,
    startsQualified: `"${schema}"."${table}_starts"`,
    startsIndex: `${table}_starts_idx`,
    startsKeyIndex: `${table}_starts_key_idx`,
  };
}
