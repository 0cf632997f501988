import { DatabaseTimeoutError } from '../errors/database-timeout.error.js';

/** A statement as pg takes it. */
export interface QueryConfig {
  name?: string;
  text: string;
  values?: unknown[];
}

/** What pg answers (the fields the library reads). */
export interface QueryResult {
  rows: any[];
  rowCount: number | null;
}

/** A connection checked out of a pg Pool (kept local: no @types/pg in our d.ts). */
export interface CheckedOutClient {
  query(config: QueryConfig): Promise<QueryResult>;
  /** With an error, pg-pool closes the connection instead of keeping it. */
  release(error?: Error): void;
}

/** The slice of a pg Pool `queryWithin` needs. */
export interface ConnectingPool {
  connect(): Promise<CheckedOutClient>;
}

/**
 * Runs one statement on a connection of `pool`, like `pool.query`, but rejects with
 * DatabaseTimeoutError when no answer came within `timeoutMs`, waiting for a connection
 * included. The connection of a statement that timed out is released with the error, so
 * pg-pool closes it (pg destroys the socket of a connection with a query in flight)
 * instead of handing it to the next statement: on a half-open connection that one would
 * hang as well. A connection that arrives after the deadline is returned unused.
 *
 * For a pool the library does not configure (the DataSource's): the worker's own pool
 * gets the same bound from pg's `query_timeout` and `connectionTimeoutMillis`.
 */
export function queryWithin(
  pool: ConnectingPool,
  config: QueryConfig,
  timeoutMs: number,
): Promise<QueryResult> {
  let client: CheckedOutClient | undefined;
  let late = false;
  const answer = pool.connect().then(async (acquired) => {
    if (late) {
      acquired.release();
      throw new DatabaseTimeoutError(timeoutMs);
    }
    client = acquired;
    try {
      const result = await acquired.query(config);
      if (!late) acquired.release();
      return result;
    } catch (error) {
      // As pool.query does: a connection whose statement failed is not reused.
      if (!late) acquired.release(error as Error);
      throw error;
    }
  });
  return withinDeadline(answer, timeoutMs, () => {
    late = true;
    client?.release(new DatabaseTimeoutError(timeoutMs));
  });
}

/**
 * A connection of `pool` within `timeoutMs`, else DatabaseTimeoutError; a connection that
 * arrives after the deadline is returned unused.
 */
export function connectWithin<Client extends { release(error?: Error): void }>(
  pool: { connect(): Promise<Client> },
  timeoutMs: number,
): Promise<Client> {
  let late = false;
  const connecting = pool.connect();
  void connecting.then(
    (client) => {
      if (late) client.release();
    },
    () => undefined,
  );
  return withinDeadline(connecting, timeoutMs, () => {
    late = true;
  });
}

/**
 * `promise`, or DatabaseTimeoutError once `timeoutMs` passed without it settling (then
 * `onTimeout` runs: the caller closes what the late promise still holds).
 */
export function withinDeadline<T>(
  promise: Promise<T>,
  timeoutMs: number,
  onTimeout: () => void,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      onTimeout();
      reject(new DatabaseTimeoutError(timeoutMs));
    }, timeoutMs);
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error);
      },
    );
  });
}
