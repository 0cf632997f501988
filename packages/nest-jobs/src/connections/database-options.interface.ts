/**
 * How nest-jobs talks to PostgreSQL when something stands between the application and the
 * server: a transaction pooler (PgBouncer in transaction mode, Supabase's port 6543, Neon's
 * pooled endpoint) hands each transaction to whichever server connection is free, so named
 * prepared statements collide across clients and LISTEN hears nothing.
 */
export interface JobsDatabaseOptions {
  /**
   * Named (server-side prepared) statements for the library's pooled statements.
   * `'auto'` (default): used, unless start-up detects a transaction pooler in front of the
   * DataSource, or a statement fails with SQLSTATE 42P05 / 26000 (a name prepared by
   * another client, or missing on the server connection the pooler chose); from then on the
   * process sends unnamed statements (parse, bind and execute in one round trip).
   * `false`: never (behind a transaction pooler). `true`: always (a direct connection, or
   * PgBouncer 1.21+ with `max_prepared_statements`); a collision then throws
   * `TransactionPoolerError`.
   */
  preparedStatements?: boolean | 'auto';
  /**
   * A connection string straight to the PostgreSQL server, past the pooler, of the same
   * database as the DataSource. The LISTEN connection uses it (and the worker's pool with
   * `directWorkerPool`); the DataSource, its pool and `{ manager }` enqueues stay as they
   * are. User, password and the other settings not in the URL are the DataSource's.
   */
  directUrl?: string;
  /** Also route the worker's own pool (claims, outcome writes, heartbeats, sweeps) through `directUrl`. Default false. */
  directWorkerPool?: boolean;
  /**
   * How the worker hears of jobs enqueued by other processes. `'listen'` (default): LISTEN
   * on a dedicated connection, checked at start-up with a notification sent to itself; when
   * it does not come back within `listenCheckMs` the worker warns once and polls only.
   * `'poll'`: no LISTEN connection at all (a pooler and no `directUrl`): other processes'
   * jobs are found at the next poll (`worker.pollIntervalMs`); this process's own enqueues
   * and the retries it scheduled still wake it at once.
   */
  wakeUps?: 'listen' | 'poll';
  /** Milliseconds the start-up LISTEN check waits for its own notification. Default 5000. */
  listenCheckMs?: number;
}
