import { Logger } from '@nestjs/common';
import pg from 'pg';
import { describeError } from '../utils/describe-error.js';
import { withClientTimeouts } from './connection-config.js';

/**
 * The worker's own connections. Claims, outcome writes, heartbeats and sweeps do not queue
 * behind the application's queries in its TypeORM pool (an exhausted pool would delay
 * heartbeats until leases expire, and a 64-deep queue of enqueues made every claim wait
 * for it), nor take connections from its request handlers.
 *
 * Every statement is answered within `queryTimeoutMs` or fails; pg-pool then closes its
 * connection instead of reusing it (see withClientTimeouts). Keepalive stays on as a
 * second line, for a peer that vanishes while a connection sits idle.
 */
export function createWorkerPool(
  config: pg.ClientConfig,
  size: number,
  queryTimeoutMs: number,
): pg.Pool {
  const pool = new pg.Pool({
    ...withClientTimeouts(config, queryTimeoutMs),
    max: size,
    keepAlive: true,
  });
  // An idle connection that dies (server restart, terminated backend) is reported here;
  // without a listener pg would crash the process. The next statement opens a new one.
  pool.on('error', (error) =>
    new Logger('JobsWorker').warn(
      `Worker connection lost while idle: ${describeError(error)}`,
    ),
  );
  // pg-pool listens only while a connection is idle: one that dies while checked out and
  // between statements (a transaction's, e.g. a schedules tick or a limited queue's claim)
  // would emit an 'error' nobody hears, which ends the process. Its next statement fails
  // and the pool replaces it; this listener only keeps the process alive.
  pool.on('connect', (client) =>
    client.on('error', (error) =>
      new Logger('JobsWorker').debug(
        `A worker connection failed between statements: ${describeError(error)}`,
      ),
    ),
  );
  return pool;
}
