import type { DataSource, EntityManager } from 'typeorm';
import type { FinishedStatus } from '../enums/job-status.enum.js';
import {
  attemptKey,
  type AttemptRef,
  type ClaimedJobRow,
  type FailedAttempt,
  type NewJobRow,
  type RecoveredJob,
} from './job-rows.js';
import {
  attemptArrays,
  insertManySharedValues,
  insertManyValues,
  insertOneDueNowValues,
  insertOneValues,
  isPlainDueNow,
  sharesAllButIdAndPayload,
} from './insert-parameters.js';
import type { JobsTable } from './jobs-table.js';
import { buildJobsQueries, type JobsQueries } from './jobs.queries.js';
import type { TableState } from './migrations/schema-version.js';
import type { TableAccess } from './migrations/table-access.js';
import { SqlRunner, type PgPool, type SqlExecutor } from './sql-runner.js';

// The worker, maintenance and tests import the row types and PgPool with the repository;
// new code imports them from where they live.

/**
 * The run-time face of the jobs table: each method picks its statement (./queries), builds
 * its parameters (./insert-parameters.ts) and sends it through the SqlRunner. Transactional
 * inserts go through the caller's EntityManager so they join its transaction.
 */
export class JobsRepository {
  readonly queries: JobsQueries;
  /** Where this repository's statements go. */
  readonly sql: SqlRunner;

  constructor(
    dataSource: DataSource,
    readonly jobsTable: JobsTable,
    /** Where statements go; by default the DataSource's own pool. */
    ownPool?: PgPool,
  ) {
    this.queries = buildJobsQueries(jobsTable);
    this.sql = new SqlRunner(dataSource, ownPool);
  }

  /** The same statements, sent through `pool` (the worker's own connections). */
  through(pool: PgPool): JobsRepository {
    return new JobsRepository(this.sql.dataSource, this.jobsTable, pool);
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
      await this.sql.run(q.insertOneDueNow, insertOneDueNowValues(only));
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
      await this.sql.runOn(manager, notifying, [
        ...values,
        this.jobsTable.channel,
      ]);
      return;
    }
    await this.sql.run(statement, values);
  }

  /** Claims up to `limit` due jobs of `queue`, leased for `leaseMs`. */
  async claim(
    queue: string,
    limit: number,
    leaseMs: number,
  ): Promise<ClaimedJobRow[]> {
    const result = await this.sql.run(this.queries.claim, [
      queue,
      limit,
      leaseMs,
    ]);
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
    const result = await this.sql.run(statement, attemptArrays(attempts));
    return result.rowCount ?? 0;
  }

  /** Records failed attempts (retried later, or failed for good); returns how many still held their claim. */
  async fail(failures: readonly FailedAttempt[]): Promise<number> {
    const result = await this.sql.run(this.queries.fail, [
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
    const result = await this.sql.run(this.queries.heartbeat, [
      ...attemptArrays(attempts),
      leaseMs,
    ]);
    return new Set(
      result.rows.map((row) =>
        attemptKey({ id: row.id, attempt: row.attempts }),
      ),
    );
  }

  /** Returns interrupted attempts to pending at once, with `reason` as their last error. */
  async release(
    attempts: readonly AttemptRef[],
    reason: string,
  ): Promise<number> {
    const result = await this.sql.run(this.queries.release, [
      ...attemptArrays(attempts),
      reason,
    ]);
    return result.rowCount ?? 0;
  }

  /** Rescues up to `limit` running jobs whose lease expired. */
  async recoverExpired(limit: number): Promise<RecoveredJob[]> {
    const result = await this.sql.run(this.queries.recoverExpired, [limit]);
    return result.rows.map((row) => ({
      id: row.id,
      jobType: row.job_type,
      status: row.status,
      attempt: row.attempts,
    }));
  }

  /** Wakes the workers of `queues` (one notification per queue). */
  async notify(queues: readonly string[]): Promise<void> {
    await this.sql.run(this.queries.notify, [this.jobsTable.channel, queues]);
  }

  /** Deletes up to `limit` rows of `status` finished more than `ageMs` ago; returns how many. */
  async deleteFinished(
    status: FinishedStatus,
    ageMs: number,
    limit: number,
  ): Promise<number> {
    const result = await this.sql.run(this.queries.deleteFinished, [
      status,
      ageMs,
      limit,
    ]);
    return result.rowCount ?? 0;
  }

  /**
   * What start-up reads to know the table's schema version; on `executor` (a migration's
   * transaction) instead of the pool when given.
   */
  async tableState(executor?: SqlExecutor): Promise<TableState> {
    const { schema, table, qualified, finishedIndex } = this.jobsTable;
    const statement = this.queries.tableState;
    const values = [qualified, schema, table, `"${schema}"."${finishedIndex}"`];
    const [row] = executor
      ? await this.sql.runOn(executor, statement, values)
      : (await this.sql.run(statement, values)).rows;
    return {
      tableExists: row.table_exists === true,
      hasRetryPolicy: row.has_retry_policy === true,
      hasFinishedIndex: row.has_finished_index === true,
      comment: row.comment,
    };
  }

  /** What the role may do on the table's schema and table (start-up's privilege check). */
  async accessState(): Promise<TableAccess> {
    const { schema, table } = this.jobsTable;
    const [row] = (await this.sql.run(this.queries.access, [schema, table]))
      .rows;
    return {
      role: row.role,
      statementTimeout: row.statement_timeout,
      databaseCreate: row.database_create === true,
      schemaExists: row.schema_exists === true,
      schemaUsage: row.schema_usage === true,
      schemaCreate: row.schema_create === true,
      tableExists: row.table_exists === true,
      tableOwner: row.table_owner === true,
      tablePrivileges: row.table_privileges ?? [],
    };
  }

  /** Connections the pool statements go to may open (pg's default: 10). */
  poolSize(): number {
    return this.sql.pool().options?.max ?? 10;
  }
}
