import type { DataSource } from 'typeorm';
import { dataSourcePools } from '../connections/data-source-pools.js';
import type { NamedStatement } from './queries/named-statement.js';

/** The slice of a pg Pool the runner needs (kept local: no @types/pg in our d.ts). */
export interface PgPool {
  /** pg.Pool's options; `max` is its size. */
  readonly options?: { readonly max?: number };
  query(config: {
    name?: string;
    text: string;
    values?: unknown[];
  }): Promise<{ rows: any[]; rowCount: number | null }>;
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
    /** Where statements go; by default the DataSource's own pool. */
    private readonly ownPool?: PgPool,
  ) {}

  /** Sends `statement` through the pool. */
  run(statement: NamedStatement, values: unknown[]) {
    return this.pool().query(
      statement.prepared
        ? { name: statement.name, text: statement.text, values }
        : { text: statement.text, values },
    );
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
    return executor.query(statement.text, values);
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
