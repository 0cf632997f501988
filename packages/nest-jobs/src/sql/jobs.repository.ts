import type { DataSource, EntityManager } from 'typeorm';
import { dataSourcePools } from '../connections/data-source-pools.js';
import type { JobsTable } from './jobs-table.js';
import {
  buildJobsQueries,
  type JobsQueries,
  type NamedStatement,
} from './jobs.queries.js';

/** The slice of a pg Pool this repository needs (kept local: no @types/pg in our d.ts). */
export interface PgPool {
  /** pg.Pool's options; `max` is its size. */
  readonly options?: { readonly max?: number };
  query(config: {
    name?: string;
    text: string;
    values?: unknown[];
  }): Promise<{ rows: any[]; rowCount: number | null }>;
}

/** One row to insert, already validated and serialised by JobsService. */
export interface NewJobRow {
  id: string;
  queue: string;
  jobType: string;
  payloadJson: string;
  maxRetries: number;
  runAt: Date | null;
  delayMs: number | null;
  traceId: string | null;
  retryPolicyJson: string | null;
}

/** A row returned by a claim: `payload` and `retryPolicy` stay text so a bad one fails only its job. */
export interface ClaimedJobRow {
  id: string;
  queue: string;
  jobType: string;
  payload: string;
  attempt: number;
  maxRetries: number;
  retryPolicy: string | null;
  traceId: string | null;
  /** Epoch milliseconds: a number is cheaper to read than a timestamp, and few handlers ask. */
  createdAtMs: number;
}

/** Identifies one attempt: completion, failure and heartbeat only touch the attempt they claimed. */
export interface AttemptRef {
  id: string;
  attempt: number;
}

/** `id#attempt`: the key of one attempt, since one process may hold two attempts of a job. */
export function attemptKey(ref: AttemptRef): string {
  return `${ref.id}#${ref.attempt}`;
}

export interface FailedAttempt extends AttemptRef {
  error: string;
  /** null: failed for good. */
  retryInMs: number | null;
}

export interface RecoveredJob {
  id: string;
  jobType: string;
  status: string;
  attempt: number;
}

/**
 * The only code that runs SQL at run time. Pooled statements go straight to a pg pool
 * (the DataSource's, or the worker's own: see `through`), prepared or planned per call as
 * jobs.queries.ts decides: no entity hydration, no TypeORM query logging of the worker's
 * polls. Transactional inserts go through the caller's EntityManager so they join its
 * transaction.
 */
export class JobsRepository {
  readonly queries: JobsQueries;

  constructor(
    private readonly dataSource: DataSource,
    readonly jobsTable: JobsTable,
    /** Where statements go; by default the DataSource's own pool. */
    private readonly ownPool?: PgPool,
  ) {
    this.queries = buildJobsQueries(jobsTable);
  }

  /** The same statements, sent through `pool` (the worker's own connections). */
  through(pool: PgPool): JobsRepository {
    return new JobsRepository(this.dataSource, this.jobsTable, pool);
  }

  /** Inserts rows; with `manager`, inside its transaction and with a NOTIFY delivered at commit. */
  async insert(
    rows: readonly NewJobRow[],
    manager?: EntityManager,
  ): Promise<void> {
    if (rows.length === 0) return;
    const q = this.queries;
    const only = rows[0]!;
    if (rows.length === 1 && !manager && isPlainDueNow(only)) {
      await this.run(q.insertOneDueNow, [
        only.id,
        only.queue,
        only.jobType,
        only.payloadJson,
        only.maxRetries,
      ]);
      return;
    }
    const [statement, notifying, values] =
      rows.length === 1
        ? [q.insertOne, q.insertOneAndNotify, insertOneValues(only)]
        : sharesAllButIdAndPayload(rows)
          ? [
              q.insertManyShared,
              q.insertManySharedAndNotify,
              insertManySharedValues(rows),
            ]
          : [q.insertMany, q.insertManyAndNotify, insertManyValues(rows)];
    if (manager) {
      await manager.query(notifying.text, [...values, this.jobsTable.channel]);
      return;
    }
    await this.run(statement, values);
  }

  async claim(
    queue: string,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedJobRow[]> {
    const result = await this.run(this.queries.claim, [queue, limit, leaseMs]);
    // The statement names its columns as ClaimedJobRow does: the driver's row objects are
    // used as they are (one object per job, not two), with the queue they came from.
    const rows = result.rows as ClaimedJobRow[];
    for (const row of rows) (row as { queue: string }).queue = queue;
    return rows;
  }

  /**
   * Returns how many attempts were completed (a stale attempt is skipped). With
   * `deleteRows` the completed rows are deleted instead of kept (no retention).
   */
  async complete(
    attempts: readonly AttemptRef[],
    deleteRows = false,
  ): Promise<number> {
    const statement = deleteRows
      ? this.queries.completeByDeleting
      : this.queries.complete;
    const result = await this.run(statement, attemptArrays(attempts));
    return result.rowCount ?? 0;
  }

  async fail(failures: readonly FailedAttempt[]): Promise<number> {
    const result = await this.run(this.queries.fail, [
      ...attemptArrays(failures),
      failures.map((f) => f.error),
      failures.map((f) => f.retryInMs),
    ]);
    return result.rowCount ?? 0;
  }

  /** Renews the leases; returns the `attemptKey`s of the attempts that still hold their claim. */
  async heartbeat(
    attempts: readonly AttemptRef[],
    leaseMs: number,
  ): Promise<Set<string>> {
    const result = await this.run(this.queries.heartbeat, [
      ...attemptArrays(attempts),
      leaseMs,
    ]);
    return new Set(
      result.rows.map((row) =>
        attemptKey({ id: row.id, attempt: row.attempts }),
      ),
    );
  }

  async release(
    attempts: readonly AttemptRef[],
    reason: string,
  ): Promise<number> {
    const result = await this.run(this.queries.release, [
      ...attemptArrays(attempts),
      reason,
    ]);
    return result.rowCount ?? 0;
  }

  async recoverExpired(limit: number): Promise<RecoveredJob[]> {
    const result = await this.run(this.queries.recoverExpired, [limit]);
    return result.rows.map((row) => ({
      id: row.id,
      jobType: row.job_type,
      status: row.status,
      attempt: row.attempts,
    }));
  }

  async notify(queues: readonly string[]): Promise<void> {
    await this.run(this.queries.notify, [this.jobsTable.channel, queues]);
  }

  /** Deletes up to `limit` rows of `status` finished more than `ageMs` ago; returns how many. */
  async deleteFinished(
    status: 'completed' | 'failed',
    ageMs: number,
    limit: number,
  ): Promise<number> {
    const result = await this.run(this.queries.deleteFinished, [
      status,
      ageMs,
      limit,
    ]);
    return result.rowCount ?? 0;
  }

  async tableState(): Promise<{
    tableExists: boolean;
    hasRetryPolicy: boolean;
    hasFinishedIndex: boolean;
  }> {
    const { schema, table, qualified, finishedIndex } = this.jobsTable;
    const result = await this.run(this.queries.tableState, [
      qualified,
      schema,
      table,
      `"${schema}"."${finishedIndex}"`,
    ]);
    const row = result.rows[0];
    return {
      tableExists: row.table_exists === true,
      hasRetryPolicy: row.has_retry_policy === true,
      hasFinishedIndex: row.has_finished_index === true,
    };
  }

  /** Connections the pool statements go to may open (pg's default: 10). */
  poolSize(): number {
    return this.pool().options?.max ?? 10;
  }

  private run(statement: NamedStatement, values: unknown[]) {
    return this.pool().query(
      statement.prepared
        ? { name: statement.name, text: statement.text, values }
        : { text: statement.text, values },
    );
  }

  private pool(): PgPool {
    if (this.ownPool) return this.ownPool;
    const pool = dataSourcePools<PgPool>(this.dataSource).primary;
    if (!pool) {
      throw new Error(
        'nest-jobs: the DataSource is not initialized (or not a PostgreSQL DataSource)',
      );
    }
    return pool;
  }
}

/**
 * A PostgreSQL array literal of values that need no quoting (UUIDs, integers), built by
 * hand: the driver would escape each element, for every job of every batch.
 */
function arrayLiteral(values: ReadonlyArray<string | number>): string {
  return `{${values.join(',')}}`;
}

/** The ids and the attempt numbers of `attempts`, as two array literals. */
function attemptArrays(attempts: readonly AttemptRef[]): [string, string] {
  return [
    arrayLiteral(attempts.map((a) => a.id)),
    arrayLiteral(attempts.map((a) => a.attempt)),
  ];
}

/** Due now, no trace id, no retry policy: the column defaults say the rest. */
function isPlainDueNow(row: NewJobRow): boolean {
  return (
    row.runAt === null &&
    row.delayMs === null &&
    row.traceId === null &&
    row.retryPolicyJson === null
  );
}

function insertOneValues(row: NewJobRow): unknown[] {
  return [
    row.id,
    row.queue,
    row.jobType,
    row.payloadJson,
    row.maxRetries,
    row.runAt,
    row.delayMs,
    row.traceId,
    row.retryPolicyJson,
  ];
}

/** Whether the rows differ only in id and payload (enqueueMany of one handler, one set of options). */
function sharesAllButIdAndPayload(rows: readonly NewJobRow[]): boolean {
  const first = rows[0]!;
  const firstRunAt = first.runAt?.getTime() ?? null;
  return rows.every(
    (row) =>
      row.queue === first.queue &&
      row.jobType === first.jobType &&
      row.maxRetries === first.maxRetries &&
      (row.runAt?.getTime() ?? null) === firstRunAt &&
      row.delayMs === first.delayMs &&
      row.traceId === first.traceId &&
      row.retryPolicyJson === first.retryPolicyJson,
  );
}

function insertManySharedValues(rows: readonly NewJobRow[]): unknown[] {
  const first = rows[0]!;
  // Each payload is already a JSON text, so their join is a valid JSON array.
  return [
    arrayLiteral(rows.map((r) => r.id)),
    first.queue,
    first.jobType,
    `[${rows.map((r) => r.payloadJson).join(',')}]`,
    first.maxRetries,
    first.runAt,
    first.delayMs,
    first.traceId,
    first.retryPolicyJson,
  ];
}

function insertManyValues(rows: readonly NewJobRow[]): unknown[] {
  return [
    rows.map((r) => r.id),
    rows.map((r) => r.queue),
    rows.map((r) => r.jobType),
    rows.map((r) => r.payloadJson),
    rows.map((r) => r.maxRetries),
    rows.map((r) => r.runAt),
    rows.map((r) => r.delayMs),
    rows.map((r) => r.traceId),
    rows.map((r) => r.retryPolicyJson),
  ];
}
