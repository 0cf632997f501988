import type { DataSource } from 'typeorm';
import {
  connectWithin,
  queryWithin,
  withinDeadline,
  type QueryConfig,
  type QueryResult,
} from '../connections/bounded-query.js';
import { dataSourcePools } from '../connections/data-source-pools.js';
import { JobsClock } from '../clock/jobs-clock.js';
import { TransactionPoolerError } from '../errors/transaction-pooler.error.js';
import type { NamedStatement } from './queries/named-statement.js';
import { POOLER_COLLISION_CODES, StatementNames } from './statement-names.js';

/** The slice of a pg Pool the runner needs (kept local: no @types/pg in our d.ts). */
export interface PgPool {
  /** pg.Pool's options; `max` is its size. */
  readonly options?: { readonly max?: number };
  query(config: {
    name?: string;
    text: string;
    values?: unknown[];
  }): Promise<{ rows: any[]; rowCount: number | null }>;
  /** Checks out one connection (for a transaction of several statements). */
  connect(): Promise<PgPoolClient>;
}

/** A connection checked out of a PgPool: statements as text, or as pg's config object. */
export interface PgPoolClient {
  query(text: string, values?: unknown[]): Promise<any>;
  query(config: QueryConfig): Promise<QueryResult>;
  /** Returns it to the pool; with an error, the pool closes it instead. */
  release(error?: Error | boolean): void;
}

/**
 * Something that runs SQL on a connection the caller chose: an EntityManager in the
 * caller's transaction, or a QueryRunner holding a migration's transaction.
 */
export interface SqlExecutor {
  query(text: string, values?: unknown[]): Promise<any>;
}

/**
 * The single place a statement of the library is sent. Pooled statements go straight to a
 * pg pool (the DataSource's, or the worker's own), prepared or planned per call as the
 * statement says: no entity hydration, no TypeORM query logging of the worker's polls.
 */
export class SqlRunner {
  constructor(
    /** The DataSource whose pool `run` uses when there is no own pool. */
    readonly dataSource: DataSource,
    /** Whether prepared statements are sent with their names on this route. */
    readonly names: StatementNames = new StatementNames('auto'),
    /** Where statements go; by default the DataSource's own pool. */
    private readonly ownPool?: PgPool,
    /**
     * Client-side bound of each statement `run` sends, connection wait included; past it the
     * statement fails with DatabaseTimeoutError and its connection is closed. Undefined:
     * the pool bounds its statements itself (the worker's, see createWorkerPool).
     */
    private readonly timeoutMs?: number,
    /** The time statements work by (NULL clock parameter unless a test pinned it). */
    readonly clock: JobsClock = new JobsClock(),
  ) {}

  /**
   * Sends `statement` through the pool: named when it is prepared and names are on. A
   * named statement a transaction pooler made collide (POOLER_COLLISION_CODES) is sent
   * again unnamed under `'auto'`, or fails with TransactionPoolerError when names were
   * asked for.
   */
  run(
    statement: NamedStatement,
    callerValues: unknown[],
  ): Promise<{ rows: any[]; rowCount: number | null }> {
    const values = this.withClock(statement, callerValues);
    if (!statement.prepared || !this.names.enabled)
      return this.send({ text: statement.text, values });
    return this.send({
      name: statement.name,
      text: statement.text,
      values,
    }).catch((error: unknown) =>
      this.afterNamedFailure(statement, values, error),
    );
  }

  /** One statement through the pool, bounded by `timeoutMs` when there is one. */
  private send(config: QueryConfig): Promise<QueryResult> {
    return this.timeoutMs === undefined
      ? this.pool().query(config)
      : queryWithin(this.pool(), config, this.timeoutMs);
  }

  private afterNamedFailure(
    statement: NamedStatement,
    values: unknown[],
    error: unknown,
  ): Promise<{ rows: any[]; rowCount: number | null }> {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code !== 'string' || !POOLER_COLLISION_CODES.has(code))
      throw error;
    if (this.names.setting === true)
      throw new TransactionPoolerError(statement.name, code, error);
    this.names.disable(
      `The prepared statement "${statement.name}" collided on its server connection (SQLSTATE ${code}): ` +
        'a transaction pooler (PgBouncer in transaction mode, Supabase, Neon pooled) shares server connections between clients',
    );
    return this.send({ text: statement.text, values });
  }

  /**
   * Sends `statement` on `executor`'s connection, so it joins the transaction open there.
   * Unnamed: TypeORM's query() has no prepared statements.
   */
  runOn(
    executor: SqlExecutor,
    statement: NamedStatement,
    values: unknown[],
  ): Promise<any> {
    return executor.query(statement.text, this.withClock(statement, values));
  }

  /**
   * `values` with the clock's value bound as the statement's clock parameter (after its
   * own), when its text reads the time; a copy, so that a statement sent again (see
   * afterNamedFailure) or a caller's array is never extended twice.
   */
  private withClock(statement: NamedStatement, values: unknown[]): unknown[] {
    const position = statement.clockParameter;
    if (position === 0) return values;
    const bound = values.slice(0, position - 1);
    bound[position - 1] = this.clock.sqlValue();
    return bound;
  }

  /**
   * Runs `work` in a transaction of its own on one connection of the pool: committed when
   * it resolves, rolled back when it throws (the error is rethrown). A connection whose
   * rollback failed is closed rather than returned to the pool in an unknown state. With a
   * `timeoutMs`, the wait for the connection and each statement are bounded by it (not the
   * whole transaction: a large split enqueueMany may take longer than one statement); a
   * statement that timed out closes the connection, without a ROLLBACK sent down it.
   */
  async transaction(
    work: (executor: SqlExecutor) => Promise<void>,
  ): Promise<void> {
    const timeoutMs = this.timeoutMs;
    const client =
      timeoutMs === undefined
        ? await this.pool().connect()
        : await connectWithin(this.pool(), timeoutMs);
    // Back to the pool only after a COMMIT or ROLLBACK that succeeded.
    let reusable = false;
    let timedOut = false;
    const send = (text: string, values?: unknown[]): Promise<any> =>
      timeoutMs === undefined
        ? client.query(text, values)
        : withinDeadline(client.query(text, values), timeoutMs, () => {
            timedOut = true;
          });
    try {
      await send('BEGIN');
      try {
        // The rows, as TypeORM's manager.query gives them: `work` runs the same code on
        // either executor (runOn).
        await work({
          query: async (text, values) => (await send(text, values)).rows,
        });
      } catch (error) {
        if (!timedOut)
          reusable = await send('ROLLBACK').then(
            () => true,
            () => false,
          );
        throw error;
      }
      await send('COMMIT');
      reusable = true;
    } finally {
      client.release(reusable ? undefined : true);
    }
  }

  /** The pool `run` sends to. */
  pool(): PgPool {
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
